//! Merging a secondary case into a primary one: StartMergeCases, GetMergeCasesStatus, and the
//! merge itself.
//!
//! A merge is asynchronous, as on AWS. StartMergeCases checks everything that can make it fail
//! and records it (`MergeRecord`, IN_PROGRESS); the server's merge worker then runs it
//! (`run_due_merges`), writing its whole outcome in one store transaction and marking it
//! COMPLETED. A merge recorded before a crash runs after the restart.
//!
//! - `fields`: the values the primary ends with (pure); `related`: which related items move,
//!   merge or go, and the links between the cases (pure).
//! - `start`: StartMergeCases; `status`: GetMergeCasesStatus and the guards other writes use
//!   (a running merge's secondary is read-only, neither of its cases can be deleted); `run`.

mod fields;
mod related;
pub(crate) mod run;
pub(crate) mod start;
pub(crate) mod status;

pub use fields::{MERGEABLE_SYSTEM_FIELDS, merged_changes};

use caseload_model::shapes::{RelatedItemType, UserUnion};
use caseload_model::{Error, Result};
use serde::{Deserialize, Serialize};

/// The stored body of a merge: what to merge and on whose behalf. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeDoc {
    pub v: u32,
    /// Fields whose values the primary takes from the secondary.
    pub field_ids: Vec<String>,
    /// Related item types that move from the secondary to the primary.
    pub move_types: Vec<RelatedItemType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_by: Option<UserUnion>,
    /// Who started the merge and where: its audit events and ARNs are theirs.
    pub principal_arn: String,
    pub region: String,
}

impl MergeDoc {
    pub fn from_body(body: &serde_json::Value) -> Result<MergeDoc> {
        serde_json::from_value(body.clone()).map_err(Error::internal)
    }
}
