//! Layouts: how the agent UI arranges a case's fields.

use crate::store::ResourceRecord;
use caseload_model::shapes::LayoutContent;
use caseload_model::{Error, Result};
use serde::{Deserialize, Serialize};

/// The stored body of a layout. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutDoc {
    pub v: u32,
    pub content: LayoutContent,
}

impl LayoutDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<LayoutDoc> {
        serde_json::from_value(r.body.clone()).map_err(Error::internal)
    }
}
