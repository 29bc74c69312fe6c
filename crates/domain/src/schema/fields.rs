//! Fields: the system fields every domain has, and CreateField, UpdateField, DeleteField,
//! ListFields, BatchGetField for custom ones. SingleSelect options live in `options`.

use super::resource::{self, new_record};
use crate::Service;
use crate::arn;
use crate::store::DomainKey;
use crate::store::{DomainRecord, ResourceKind, ResourceRecord};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
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

impl From<&FieldOption> for FieldOptionDoc {
    fn from(o: &FieldOption) -> FieldOptionDoc {
        FieldOptionDoc {
            name: o.name.clone(),
            value: o.value.clone(),
            active: o.active,
        }
    }
}

impl From<FieldOptionDoc> for FieldOption {
    fn from(o: FieldOptionDoc) -> FieldOption {
        FieldOption {
            name: o.name,
            value: o.value,
            active: o.active,
        }
    }
}

/// The options system field `id` starts with in a new domain: `status` has `open` and
/// `closed`, the others none.
pub fn default_options(id: &str) -> Vec<FieldOptionDoc> {
    if id != "status" {
        return vec![];
    }
    super::options::FIXED_STATUS_OPTIONS
        .iter()
        .map(|v| FieldOptionDoc {
            name: (*v).to_owned(),
            value: (*v).to_owned(),
            active: true,
        })
        .collect()
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
        resource::from_body(r)
    }
}

/// The type of a stored field (a `ResourceKind::Field` record), which a search index needs to
/// index the field's values: the one thing a backend reads from a field's body, so the body's
/// shape stays the domain's own.
pub fn field_type(r: &ResourceRecord) -> Result<FieldType> {
    FieldDoc::from_record(r).map(|d| d.field_type)
}

/// Field `field_id` of the caller's domain `domain_id` (deleted or not) and its document.
pub(crate) async fn read_field(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    field_id: &str,
) -> Result<(ResourceRecord, FieldDoc)> {
    let field = svc
        .resource(ctx, domain_id, ResourceKind::Field, field_id)
        .await?;
    let doc = FieldDoc::from_record(&field)?;
    Ok((field, doc))
}

pub(crate) fn field_arn(ctx: &RequestContext, domain_id: &str, field_id: &str) -> String {
    arn::resource(&ctx.region, &ctx.account_id, domain_id, "field", field_id)
}

/// `attributes` describe how a value is entered; the only kind, `text`, belongs to Text fields.
fn check_attributes(field_type: FieldType, attributes: &Option<FieldAttributes>) -> Result<()> {
    match attributes {
        Some(FieldAttributes::Text(_)) if field_type != FieldType::Text => {
            Err(Error::validation(format!(
                "attributes.text applies only to fields of type Text, not {}",
                field_type.as_str()
            )))
        }
        _ => Ok(()),
    }
}

fn describe(ctx: &RequestContext, r: ResourceRecord) -> Result<GetFieldResponse> {
    let doc = FieldDoc::from_record(&r)?;
    Ok(GetFieldResponse {
        field_arn: field_arn(ctx, &r.domain_id, &r.id),
        field_id: r.id,
        name: r.name,
        description: doc.description,
        r#type: doc.field_type,
        namespace: doc.namespace,
        attributes: doc.attributes,
        deleted: Some(r.deleted),
        created_time: Some(r.created),
        last_modified_time: Some(r.modified),
        tags: Some(r.tags),
    })
}

/// Writes the system fields of a new domain (with `status`'s `open`/`closed` options).
pub(crate) async fn create_system_fields(
    svc: &Service,
    ctx: &RequestContext,
    domain: &DomainRecord,
) -> Result<()> {
    let now = Timestamp::now();
    for f in SYSTEM_FIELDS {
        let doc = FieldDoc {
            v: 1,
            field_type: f.field_type,
            namespace: FieldNamespace::System,
            description: None,
            attributes: None,
            options: default_options(f.id),
        };
        let record = new_record(
            DomainKey::new(&ctx.account_id, &domain.domain_id),
            ResourceKind::Field,
            f.id.to_owned(),
            f.name.to_owned(),
            &doc,
            now,
        )?;
        // System fields do not count against the custom-field quota.
        svc.store.insert_resource(&record, usize::MAX).await?;
    }
    Ok(())
}

pub(crate) async fn create_field(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateFieldRequest,
) -> Result<CreateFieldResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    check_attributes(input.r#type, &input.attributes)?;
    let doc = FieldDoc {
        v: 1,
        field_type: input.r#type,
        namespace: FieldNamespace::Custom,
        description: input.description,
        attributes: input.attributes,
        options: vec![],
    };
    // The store counts every live field; system fields exist in every domain, cannot be
    // deleted and are not the customer's, so the quota is on top of them.
    let quota = svc
        .quotas
        .fields_per_domain
        .saturating_add(SYSTEM_FIELDS.len());
    let record = resource::create(
        svc,
        ctx,
        input.domain_id,
        ResourceKind::Field,
        input.name,
        &doc,
        quota,
    )
    .await
    .map_err(|e| match e {
        Error::QuotaExceeded(_) => Error::QuotaExceeded(format!(
            "The domain already has the maximum of {} custom fields",
            svc.quotas.fields_per_domain
        )),
        e => e,
    })?;
    Ok(CreateFieldResponse {
        field_arn: field_arn(ctx, &record.domain_id, &record.id),
        field_id: record.id,
    })
}

pub(crate) async fn update_field(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateFieldRequest,
) -> Result<UpdateFieldResponse> {
    resource::update_doc(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Field,
        &input.field_id,
        input.name.as_deref(),
        |r, doc: &mut FieldDoc| {
            resource::check_not_deleted(r)?;
            // The admin guide: system fields cannot be renamed or re-described.
            if doc.namespace == FieldNamespace::System {
                return Err(Error::validation(format!(
                    "Field {} is a system field and cannot be updated",
                    r.id
                )));
            }
            check_attributes(doc.field_type, &input.attributes)?;
            if let Some(d) = &input.description {
                doc.description = Some(d.clone());
            }
            if let Some(a) = &input.attributes {
                doc.attributes = Some(a.clone());
            }
            Ok(())
        },
    )
    .await?;
    Ok(UpdateFieldResponse {})
}

pub(crate) async fn delete_field(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteFieldRequest,
) -> Result<DeleteFieldResponse> {
    let (field, doc) = read_field(svc, ctx, &input.domain_id, &input.field_id).await?;
    if doc.namespace == FieldNamespace::System {
        return Err(Error::validation(format!(
            "Field {} is a system field and cannot be deleted",
            field.id
        )));
    }
    resource::soft_delete(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Field,
        &input.field_id,
        svc.quotas.deleted_fields_per_domain,
    )
    .await?;
    Ok(DeleteFieldResponse {})
}

pub(crate) async fn list_fields(
    svc: &Service,
    ctx: &RequestContext,
    input: ListFieldsRequest,
) -> Result<ListFieldsResponse> {
    let (page, next_token) = resource::list_page(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Field,
        &(),
        crate::paging::PageRequest::new(input.max_results, input.next_token.as_ref()),
        |_| true,
    )
    .await?;
    let fields = page
        .into_iter()
        .map(|r| {
            let doc = FieldDoc::from_record(&r)?;
            Ok(FieldSummary {
                field_arn: field_arn(ctx, &r.domain_id, &r.id),
                field_id: r.id,
                name: r.name,
                r#type: doc.field_type,
                namespace: doc.namespace,
                attributes: doc.attributes,
            })
        })
        .collect::<Result<_>>()?;
    Ok(ListFieldsResponse { fields, next_token })
}

/// Unknown ids are reported in `errors` one by one; only a missing domain fails the call.
pub(crate) async fn batch_get_field(
    svc: &Service,
    ctx: &RequestContext,
    input: BatchGetFieldRequest,
) -> Result<BatchGetFieldResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    for FieldIdentifier { id } in input.fields {
        match svc
            .store
            .get_resource(
                DomainKey::new(&ctx.account_id, &input.domain_id)
                    .resource(ResourceKind::Field, &id),
            )
            .await?
        {
            Some(r) => fields.push(describe(ctx, r)?),
            None => errors.push(FieldError {
                message: Some(format!("Field {id} could not be found")),
                error_code: "ResourceNotFoundException".to_owned(),
                id,
            }),
        }
    }
    Ok(BatchGetFieldResponse { errors, fields })
}
