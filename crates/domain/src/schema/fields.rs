//! Fields: the system fields every domain has, custom fields, and SingleSelect options.

use crate::Service;
use crate::store::{DomainRecord, ResourceKind, ResourceRecord};
use caseload_model::shapes::{FieldAttributes, FieldNamespace, FieldType};
use caseload_model::{RequestContext, Result, Timestamp};
use serde::{Deserialize, Serialize};

/// The stored body of a field. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDoc {
    pub v: u32,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub namespace: FieldNamespace,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<FieldAttributes>,
    /// SingleSelect options in insertion order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOptionDoc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldOptionDoc {
    pub name: String,
    pub value: String,
    pub active: bool,
}

/// A system field: (id, display name, type, server-maintained).
pub struct SystemField {
    pub id: &'static str,
    pub name: &'static str,
    pub field_type: FieldType,
    /// Written only by the server; a client writing it gets a ValidationException.
    pub read_only: bool,
}

const fn sys(
    id: &'static str,
    name: &'static str,
    field_type: FieldType,
    read_only: bool,
) -> SystemField {
    SystemField {
        id,
        name,
        field_type,
        read_only,
    }
}

/// The fields every domain has from the moment it is created (DESIGN.md §2).
pub const SYSTEM_FIELDS: &[SystemField] = &[
    sys("title", "Title", FieldType::Text, false),
    sys("status", "Status", FieldType::SingleSelect, false),
    sys("summary", "Summary", FieldType::Text, false),
    sys("case_reason", "Case Reason", FieldType::SingleSelect, false),
    sys("customer_id", "Customer", FieldType::Text, false),
    sys(
        "reference_number",
        "Reference number",
        FieldType::Text,
        true,
    ),
    sys("assigned_queue", "Assigned queue", FieldType::Text, false),
    sys("assigned_user", "Assigned user", FieldType::User, false),
    sys("case_id", "Case ID", FieldType::Text, true),
    sys(
        "created_datetime",
        "Created date/time",
        FieldType::DateTime,
        true,
    ),
    sys(
        "last_updated_datetime",
        "Updated date/time",
        FieldType::DateTime,
        true,
    ),
    sys(
        "last_closed_datetime",
        "Closed date/time",
        FieldType::DateTime,
        true,
    ),
    sys(
        "last_reopened_datetime",
        "Reopened date/time",
        FieldType::DateTime,
        true,
    ),
    sys(
        "next_sla_breach_datetime",
        "Next SLA breach date/time",
        FieldType::DateTime,
        true,
    ),
    sys(
        "last_updated_user",
        "Last updated user",
        FieldType::User,
        true,
    ),
];

pub fn system_field(id: &str) -> Option<&'static SystemField> {
    SYSTEM_FIELDS.iter().find(|f| f.id == id)
}

impl FieldDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<FieldDoc> {
        serde_json::from_value(r.body.clone()).map_err(caseload_model::Error::internal)
    }
}

impl Service {
    /// Writes the system fields of a new domain (with `status`'s `open`/`closed` options).
    pub(crate) async fn create_system_fields(
        &self,
        ctx: &RequestContext,
        domain: &DomainRecord,
    ) -> Result<()> {
        let now = Timestamp::now();
        for f in SYSTEM_FIELDS {
            let options = if f.id == "status" {
                ["open", "closed"]
                    .iter()
                    .map(|v| FieldOptionDoc {
                        name: (*v).to_owned(),
                        value: (*v).to_owned(),
                        active: true,
                    })
                    .collect()
            } else {
                vec![]
            };
            let doc = FieldDoc {
                v: 1,
                field_type: f.field_type,
                namespace: FieldNamespace::System,
                description: None,
                attributes: None,
                options,
            };
            let record = ResourceRecord {
                account_id: ctx.account_id.clone(),
                domain_id: domain.domain_id.clone(),
                kind: ResourceKind::Field,
                id: f.id.to_owned(),
                name: f.name.to_owned(),
                deleted: false,
                created: now,
                modified: now,
                body: serde_json::to_value(&doc).map_err(caseload_model::Error::internal)?,
                tags: Default::default(),
            };
            // System fields do not count against the custom-field quota.
            self.store.insert_resource(&record, usize::MAX).await?;
        }
        Ok(())
    }
}
