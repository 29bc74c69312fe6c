//! Case events: the per-domain configuration (GetCaseEventConfiguration and
//! PutCaseEventConfiguration) and the event each change produces, in the envelope EventBridge
//! delivers Connect Cases events in.
//!
//! Events are decided by the write that causes them: before it calls the store, an operation
//! asks `event` for the event of its change under the domain's configuration (cached between
//! schema changes, see `Store::schema_generation`) and hands it to the store, which appends it to
//! its outbox in the change's transaction. So a committed change has its event and a rolled-back
//! one has none; an event exists for the changes made while the domain's configuration had
//! `eventBridge.enabled` (as the write read it), and carries the `includedData` named then (and
//! the case values as they were right after that change). Delivery (a server-sent-events feed,
//! webhooks) reads the outbox and lives in the server.

use crate::Service;
use crate::related::ItemDoc;
use crate::schema::fields::system_field;
use crate::store::{AuditRecord, CaseRecord, DomainKey, EventRecord, RelatedItemRecord};
use crate::value::Value;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

/// The stored configuration of a domain. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ConfigDoc {
    v: u32,
    #[serde(rename = "eventBridge")]
    event_bridge: EventBridgeConfiguration,
}

/// The configuration of a domain that never had one put: no events.
fn disabled() -> EventBridgeConfiguration {
    EventBridgeConfiguration {
        enabled: false,
        included_data: None,
    }
}

pub(crate) async fn get_case_event_configuration(
    svc: &Service,
    ctx: &RequestContext,
    input: GetCaseEventConfigurationRequest,
) -> Result<GetCaseEventConfigurationResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let mut event_bridge = match svc
        .store
        .get_event_config(DomainKey::new(&ctx.account_id, &domain.domain_id))
        .await?
    {
        Some(body) => {
            serde_json::from_value::<ConfigDoc>(body)
                .map_err(Error::internal)?
                .event_bridge
        }
        None => disabled(),
    };
    // Deleted fields are not returned (DeleteField's documented effect on this operation).
    if let Some(case_data) = event_bridge
        .included_data
        .as_mut()
        .and_then(|d| d.case_data.as_mut())
        && !case_data.fields.is_empty()
    {
        let fields = svc.case_fields(ctx, &domain.domain_id).await?;
        case_data
            .fields
            .retain(|f| fields.get(&f.id).is_some_and(|i| !i.deleted));
    }
    Ok(GetCaseEventConfigurationResponse { event_bridge })
}

pub(crate) async fn put_case_event_configuration(
    svc: &Service,
    ctx: &RequestContext,
    input: PutCaseEventConfigurationRequest,
) -> Result<PutCaseEventConfigurationResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let mut event_bridge = input.event_bridge;
    if let Some(case_data) = event_bridge
        .included_data
        .as_mut()
        .and_then(|d| d.case_data.as_mut())
    {
        let fields = svc.case_fields(ctx, &domain.domain_id).await?;
        let mut seen = std::collections::HashSet::new();
        case_data.fields.retain(|f| seen.insert(f.id.clone()));
        for f in &case_data.fields {
            match fields.get(&f.id) {
                None => {
                    return Err(Error::validation(format!(
                        "eventBridge.includedData.caseData.fields names field '{}', which does not exist in this domain",
                        f.id
                    )));
                }
                Some(info) if info.deleted => {
                    return Err(Error::validation(format!(
                        "eventBridge.includedData.caseData.fields names field '{}', which has been deleted",
                        f.id
                    )));
                }
                Some(_) => {}
            }
        }
    }
    let body = serde_json::to_value(ConfigDoc { v: 1, event_bridge }).map_err(Error::internal)?;
    svc.store
        .put_event_config(
            DomainKey::new(&ctx.account_id, &domain.domain_id),
            &domain.region,
            &body,
        )
        .await?;
    Ok(PutCaseEventConfigurationResponse {})
}

/// Each domain's case event configuration (`None`: events are not enabled), tagged with the
/// store's schema generation it was read at (PutCaseEventConfiguration bumps it).
pub(crate) type EventConfigCache =
    crate::cache::GenerationCache<Option<std::sync::Arc<EventBridgeConfiguration>>, DomainKey>;

/// The event `change` (a change in a domain of the caller's account) produces under the domain's
/// configuration, or `None` when its events are not enabled. The caller hands it to the store
/// with the change's write.
pub(crate) async fn event(
    svc: &Service,
    ctx: &RequestContext,
    change: Change<'_>,
) -> Result<Option<EventRecord>> {
    let key = DomainKey::new(&ctx.account_id, change.domain_id());
    let generation = svc.store.schema_generation();
    let config = match svc.event_configs.get(generation, &key) {
        Some(c) => c,
        None => {
            let config = match svc.store.get_event_config(key.clone()).await? {
                Some(body) => {
                    let c = serde_json::from_value::<ConfigDoc>(body)
                        .map_err(Error::internal)?
                        .event_bridge;
                    c.enabled.then(|| std::sync::Arc::new(c))
                }
                None => None,
            };
            svc.event_configs.put(generation, key, config.clone());
            config
        }
    };
    Ok(config.and_then(|c| event_for(&c, &ctx.region, change)))
}

/// A change a write is about to commit, as `event` describes it.
pub enum Change<'a> {
    /// A case was created or updated (or merged); `audit` is the write's audit event.
    Case {
        case: &'a CaseRecord,
        audit: &'a AuditRecord,
    },
    CaseDeleted {
        case: &'a CaseRecord,
        performed_by: &'a AuditEventPerformedBy,
        time: Timestamp,
    },
    /// A related item was created, updated or deleted (`item` as it was before a deletion).
    RelatedItem {
        item: &'a RelatedItemRecord,
        audit: &'a AuditRecord,
    },
}

impl<'a> Change<'a> {
    /// A case written with the audit event `audit`.
    pub fn case(case: &'a CaseRecord, audit: &'a AuditRecord) -> Change<'a> {
        Change::Case { case, audit }
    }

    /// A related item written (or deleted) with the audit event `audit`.
    pub fn item(item: &'a RelatedItemRecord, audit: &'a AuditRecord) -> Change<'a> {
        Change::RelatedItem { item, audit }
    }

    fn domain_id(&self) -> &str {
        match self {
            Change::Case { case, .. } | Change::CaseDeleted { case, .. } => &case.domain_id,
            Change::RelatedItem { item, .. } => &item.domain_id,
        }
    }
}

/// The event `change` produces under the domain configuration `config`, or `None` when the
/// domain's events are not enabled.
fn event_for<'a>(
    config: &EventBridgeConfiguration,
    region: &str,
    change: Change<'a>,
) -> Option<EventRecord> {
    if !config.enabled {
        return None;
    }
    let default = EventIncludedData::default();
    let included = config.included_data.as_ref().unwrap_or(&default);
    // Who the event is about, when, the case's ARN and the detail, for a case's event.
    let case_event = |case: &'a CaseRecord, time, detail| {
        let arn = crate::arn::resource(
            region,
            &case.account_id,
            &case.domain_id,
            "case",
            &case.case_id,
        );
        (
            &case.account_id,
            &case.domain_id,
            &case.case_id,
            time,
            arn,
            detail,
        )
    };
    let (account_id, domain_id, case_id, time, resource, detail) = match change {
        Change::Case { case, audit } => {
            let a: AuditEvent = serde_json::from_value(audit.body.clone()).ok()?;
            let event_type = match a.r#type {
                AuditEventType::CaseCreated => "CASE.CREATED",
                _ => "CASE.UPDATED",
            };
            let changed = changed_ids(&a);
            let mut case_json = case_summary(case);
            if let Some(case_data) = &included.case_data {
                case_json.insert("fields".into(), case_fields(case, case_data).into());
            }
            let detail = json!({
                "version": "0",
                "eventType": event_type,
                "approximateChangeTime": a.performed_time,
                "changedFieldIds": changed,
                "performedBy": a.performed_by,
                "case": case_json,
            });
            case_event(case, a.performed_time, detail)
        }
        Change::CaseDeleted {
            case,
            performed_by,
            time,
        } => {
            let detail = json!({
                "version": "0",
                "eventType": "CASE.DELETED",
                "approximateChangeTime": time,
                "changedFieldIds": [],
                "performedBy": performed_by,
                "case": case_summary(case),
            });
            case_event(case, time, detail)
        }
        Change::RelatedItem { item, audit } => {
            let a: AuditEvent = serde_json::from_value(audit.body.clone()).ok()?;
            let event_type = match a.r#type {
                AuditEventType::RelatedItemCreated => "RELATED_ITEM.CREATED",
                AuditEventType::RelatedItemDeleted => "RELATED_ITEM.DELETED",
                _ => "RELATED_ITEM.UPDATED",
            };
            let changed = changed_ids(&a);
            let mut related = Map::new();
            related.insert("relatedItemType".into(), item.item_type.as_str().into());
            related.insert("relatedItemId".into(), item.related_item_id.clone().into());
            related.insert("caseId".into(), item.case_id.clone().into());
            related.insert(
                "createdDateTime".into(),
                item.association_time.to_iso8601().into(),
            );
            if included
                .related_item_data
                .as_ref()
                .is_some_and(|r| r.include_content)
                && let Ok(doc) = ItemDoc::from_body(&item.body)
                && let Ok(serde_json::Value::Object(content)) =
                    serde_json::to_value(doc.content_at(a.performed_time))
            {
                related.extend(content);
            }
            let detail = json!({
                "version": "0",
                "eventType": event_type,
                "approximateChangeTime": a.performed_time,
                "changedAttributes": changed,
                "performedBy": a.performed_by,
                "relatedItem": related,
            });
            let arn = crate::arn::related_item(
                region,
                &item.account_id,
                &item.domain_id,
                &item.case_id,
                &item.related_item_id,
            );
            (
                &item.account_id,
                &item.domain_id,
                &item.case_id,
                a.performed_time,
                arn,
                detail,
            )
        }
    };
    let body = json!({
        "version": "0",
        "id": crate::new_id(),
        "detail-type": "Amazon Connect Cases Change",
        "source": "aws.cases",
        "account": account_id,
        // EventBridge's `time` has whole seconds; the detail's change time keeps milliseconds.
        "time": format!("{}Z", &time.to_iso8601()[..19]),
        "region": region,
        "resources": [crate::arn::domain(region, account_id, domain_id), resource],
        "detail": detail,
    });
    Some(EventRecord {
        seq: 0,
        account_id: account_id.clone(),
        region: region.to_owned(),
        domain_id: domain_id.clone(),
        case_id: case_id.clone(),
        time,
        body,
    })
}

/// The ids of the fields (or attributes) an audit event changed.
fn changed_ids(a: &AuditEvent) -> Vec<&str> {
    a.fields
        .iter()
        .flatten()
        .map(|f| f.event_field_id.as_str())
        .collect()
}

fn case_summary(case: &CaseRecord) -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    m.insert("caseId".into(), case.case_id.clone().into());
    m.insert("templateId".into(), case.template_id.clone().into());
    m.insert("createdDateTime".into(), case.created.to_iso8601().into());
    m
}

/// The case's values of the fields `case_data` selects, as `{fieldId: {value: …}}`, leaving out
/// fields without a value.
fn case_fields(
    case: &CaseRecord,
    case_data: &CaseEventIncludedData,
) -> Map<String, serde_json::Value> {
    let auto = |id: &str| match case_data.auto_include_fields {
        Some(AutoIncludeFields::All) => true,
        Some(AutoIncludeFields::System) => system_field(id).is_some(),
        Some(AutoIncludeFields::Custom) => system_field(id).is_none(),
        None => false,
    };
    case.fields
        .iter()
        .filter(|(id, v)| {
            **v != Value::Empty && (auto(id) || case_data.fields.iter().any(|f| f.id == **id))
        })
        .map(|(id, v)| (id.clone(), json!({ "value": v.to_wire() })))
        .collect()
}
