//! The domain's fields as case operations see them: each field's type, whether it was deleted,
//! and its SingleSelect options. Loaded once per request, deleted fields included, because
//! searches and reads still honour values stored for deleted fields.

use crate::Service;
use crate::schema::fields::{FieldDoc, FieldOptionDoc};
use crate::store::ResourceKind;
use caseload_model::shapes::FieldType;
use caseload_model::{RequestContext, Result};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldInfo {
    pub field_type: FieldType,
    pub deleted: bool,
    pub options: Vec<FieldOptionDoc>,
}

/// Shared, because every case operation takes the cached schema: cloning it is a reference count.
#[derive(Clone, Debug, Default)]
pub(crate) struct CaseFields {
    by_id: Arc<HashMap<String, FieldInfo>>,
}

/// (account, domain) → (schema generation, fields).
pub(crate) type SchemaCache = crate::cache::GenerationCache<CaseFields>;

impl CaseFields {
    /// Also how `transfer` checks imported cases against the schema of the file.
    pub fn new(fields: impl IntoIterator<Item = (String, FieldInfo)>) -> Self {
        CaseFields {
            by_id: Arc::new(fields.into_iter().collect()),
        }
    }

    pub fn get(&self, id: &str) -> Option<&FieldInfo> {
        self.by_id.get(id)
    }

    pub fn type_of(&self, id: &str) -> Option<FieldType> {
        self.get(id).map(|f| f.field_type)
    }

    /// The fields `searchTerm` looks into: Text, Url and SingleSelect (which includes the
    /// reference number).
    pub fn term_fields(&self) -> BTreeSet<String> {
        self.by_id
            .iter()
            .filter(|(_, f)| {
                matches!(
                    f.field_type,
                    FieldType::Text | FieldType::Url | FieldType::SingleSelect
                )
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

pub(crate) async fn load_case_fields(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
) -> Result<CaseFields> {
    let mut by_id = HashMap::new();
    let fields =
        crate::schema::resource::all_of_kind(svc, ctx, domain_id, ResourceKind::Field, true)
            .await?;
    for r in fields {
        let doc = FieldDoc::from_record(&r)?;
        by_id.insert(
            r.id,
            FieldInfo {
                field_type: doc.field_type,
                deleted: r.deleted,
                options: doc.options,
            },
        );
    }
    Ok(CaseFields {
        by_id: Arc::new(by_id),
    })
}
