//! Running recorded merges: the primary takes the merged values, the secondary is closed, related
//! items move as planned, the cases are linked, each case gets a `Case.Merged` audit event (the
//! two share the merge id as `mergeEventId`), and the merge is marked completed, all in one store
//! transaction. Values are read when the merge runs, so changes made to the primary after
//! StartMergeCases are taken into account. The template's case rules are not applied: the values
//! come from a case that satisfied its own.

use super::MergeDoc;
use super::fields::merged_changes;
use super::related::plan;
use super::start::mergeable;
use crate::Service;
use crate::cases::{audit, maintain};
use crate::events::{self, Change};
use crate::related::ItemDoc;
use crate::store::CaseKey;
use crate::store::{
    AuditRecord, CaseRecord, MergeFinish, MergeRecord, RelatedItemRecord, StoreError,
};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::HashSet;
use std::time::Duration;

/// Merges run per call of `run_due_merges`, oldest first.
const BATCH: usize = 100;
/// Attempts at a merge whose cases keep changing under it, before leaving it for the next run.
const MAX_ATTEMPTS: usize = 16;

pub(crate) fn wake_merge_worker(svc: &Service) {
    if let Some(wake) = svc.merge_waker.get() {
        wake();
    }
}

async fn run_merge(svc: &Service, merge: MergeRecord) -> Result<()> {
    let doc = MergeDoc::from_body(&merge.body)?;
    let mut ctx = RequestContext {
        account_id: merge.account_id.clone(),
        region: doc.region.clone(),
        principal_arn: doc.principal_arn.clone(),
        request_id: merge.merge_id.clone(),
        schema_generation: Default::default(),
    };
    for _ in 0..MAX_ATTEMPTS {
        // Each attempt reads everything again, the schema generation too (see
        // `Service::schema_generation`).
        ctx.schema_generation = Default::default();
        let finish = merge_outcome(svc, &ctx, &merge, &doc).await?;
        match svc.store.finish_merge(&finish).await {
            Ok(()) => return Ok(()),
            // A case or an item changed since it was read: read everything again.
            Err(StoreError::VersionMismatch) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!(
        "merge {} kept meeting concurrent changes",
        merge.merge_id
    )))
}

/// What `merge` writes, computed from the cases and items as they are now.
async fn merge_outcome(
    svc: &Service,
    ctx: &RequestContext,
    merge: &MergeRecord,
    doc: &MergeDoc,
) -> Result<MergeFinish> {
    let domain_id = merge.domain_id.as_str();
    let mut completed = merge.clone();
    completed.completed = true;
    let get = |id: String| async move {
        svc.store
            .get_case(CaseKey::new(&ctx.account_id, domain_id, &id))
            .await
    };
    let (primary, secondary) = match (
        get(merge.primary_case_id.clone()).await?,
        get(merge.secondary_case_id.clone()).await?,
    ) {
        (Some(p), Some(s)) => (p, s),
        // A case deleted in the instant between its delete passing the merge guard and the
        // merge being recorded: nothing is left to merge.
        _ => {
            tracing::warn!(merge_id = %merge.merge_id, "a case of the merge no longer exists; the merge completes without changes");
            return Ok(MergeFinish {
                merge: completed,
                primary: None,
                secondary: None,
                changed_items: vec![],
                removed_items: vec![],
                new_items: vec![],
                events: vec![],
            });
        }
    };
    let fields = svc.case_fields(ctx, domain_id).await?;
    let selected: HashSet<String> = doc.field_ids.iter().cloned().collect();
    let now = Timestamp::now();
    let user = match &doc.performed_by {
        Some(UserUnion::UserArn(u)) => Some(u.as_str()),
        _ => None,
    };
    let changes = merged_changes(&primary.fields, &secondary.fields, &selected, |id| {
        mergeable(&fields, id)
    });
    let next_primary = changed(&primary, changes, now, user);
    let close = vec![(
        maintain::STATUS.to_owned(),
        crate::value::Value::String(maintain::CLOSED.to_owned()),
    )];
    let next_secondary = changed(&secondary, close, now, user);
    let metadata = AuditMergeMetadata {
        merge_event_id: merge.merge_id.clone(),
        primary_case_id: primary.case_id.clone(),
        secondary_case_id: secondary.case_id.clone(),
    };
    let primary_audit = merged_event(ctx, &primary, &next_primary, now, doc, &metadata)?;
    let secondary_audit = merged_event(ctx, &secondary, &next_secondary, now, doc, &metadata)?;

    let p_items = svc
        .store
        .list_related_items(CaseKey::new(&ctx.account_id, domain_id, &primary.case_id))
        .await?;
    let s_items = svc
        .store
        .list_related_items(CaseKey::new(&ctx.account_id, domain_id, &secondary.case_id))
        .await?;
    let moves = plan(
        &primary.case_id,
        &p_items,
        &secondary.case_id,
        &s_items,
        &doc.move_types,
    );
    let mut new_items = Vec::new();
    if moves.link_primary {
        new_items.push(link(&next_primary, &secondary.case_id, now, doc)?);
    }
    if moves.link_secondary {
        new_items.push(link(&next_secondary, &primary.case_id, now, doc)?);
    }
    let mut published = Vec::new();
    for (case, audit) in [
        (&next_primary, &primary_audit),
        (&next_secondary, &secondary_audit),
    ] {
        published.extend(events::event(svc, ctx, Change::case(case, audit)).await?);
    }
    Ok(MergeFinish {
        events: published,
        merge: completed,
        primary: Some((next_primary, primary_audit)),
        secondary: Some((next_secondary, secondary_audit)),
        changed_items: moves.changed,
        removed_items: moves.removed,
        new_items,
    })
}

/// `case` with `changes` applied and the server-maintained fields kept, at the next version.
fn changed(
    case: &CaseRecord,
    changes: Vec<(String, crate::value::Value)>,
    now: Timestamp,
    user: Option<&str>,
) -> CaseRecord {
    let mut next = case.clone();
    maintain::apply(&mut next.fields, changes, now, user);
    next.updated = now;
    next.version += 1;
    next
}

/// The `Case.Merged` audit event of one of the two cases.
fn merged_event(
    ctx: &RequestContext,
    before: &CaseRecord,
    after: &CaseRecord,
    now: Timestamp,
    doc: &MergeDoc,
    metadata: &AuditMergeMetadata,
) -> Result<AuditRecord> {
    let mut record = audit::record(
        ctx,
        &before.case_id,
        AuditEventType::CaseMerged,
        now,
        audit::changed_fields(&before.fields, &after.fields),
        doc.performed_by.as_ref(),
    )?;
    let mut event: AuditEvent = serde_json::from_value(record.body).map_err(Error::internal)?;
    event.merge_metadata = Some(metadata.clone());
    record.body = serde_json::to_value(&event).map_err(Error::internal)?;
    Ok(record)
}

/// A ConnectCase item on `case` linking it to `other`.
fn link(
    case: &CaseRecord,
    other: &str,
    now: Timestamp,
    doc: &MergeDoc,
) -> Result<RelatedItemRecord> {
    let content = RelatedItemContent::ConnectCase(ConnectCaseContent {
        case_id: other.to_owned(),
    });
    let item = ItemDoc {
        v: 1,
        content: content.clone(),
        created_by: doc.performed_by.clone(),
        last_updated_user: None,
    };
    Ok(RelatedItemRecord {
        account_id: case.account_id.clone(),
        domain_id: case.domain_id.clone(),
        case_id: case.case_id.clone(),
        related_item_id: crate::new_id(),
        item_type: RelatedItemType::ConnectCase,
        association_time: now,
        seq: 0,
        ref_key: crate::related::query::ref_key(&content),
        body: item.to_body()?,
        // As for every related item: it carries its case's tags.
        tags: case.tags.clone(),
        version: 1,
    })
}

/// Runs every recorded merge that has been IN_PROGRESS for at least `min_age`, and returns
/// how long until the next one is due, if one is waiting. A merge that fails is logged and
/// left IN_PROGRESS for the next call.
pub(crate) async fn run_due_merges(svc: &Service, min_age: Duration) -> Result<Option<Duration>> {
    let min_age_ms = i64::try_from(min_age.as_millis()).unwrap_or(i64::MAX);
    let mut next_due: Option<Duration> = None;
    for m in svc.store.running_merges(BATCH).await? {
        let age = Timestamp::now().unix_millis() - m.started.unix_millis();
        if age < min_age_ms {
            let wait = Duration::from_millis((min_age_ms - age) as u64);
            next_due = Some(next_due.map_or(wait, |d| d.min(wait)));
            continue;
        }
        let id = m.merge_id.clone();
        if let Err(e) = run_merge(svc, m).await {
            tracing::error!(merge_id = %id, error = %e, "merge failed; it will be retried");
            next_due = Some(Duration::from_secs(1));
        }
    }
    Ok(next_due)
}
