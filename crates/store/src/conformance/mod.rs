//! The backend conformance suite: one set of tests that pins the storage contract
//! (`caseload_domain::store::Store`) for every backend, as Garage's `db/test.rs` does for its
//! database engines. Each test takes a fresh, empty store and checks one part of the contract
//! through the trait alone: success and refusal paths (`Duplicate`, `QuotaExceeded`,
//! `VersionMismatch`, `TokenLost`, not found), that a refused multi-record write leaves nothing
//! behind, the order and paging of lists, and that audit and event records are written with the
//! change they belong to.
//!
//! A backend runs the whole suite with one line in a test module (behind the `conformance`
//! feature), given an `async fn` that makes a fresh store:
//!
//! ```ignore
//! async fn make() -> std::sync::Arc<dyn caseload_domain::store::Store> { … }
//! caseload_store::conformance_tests!(make);
//! ```
//!
//! The constructor may return anything that dereferences to `dyn Store` (an `Arc<dyn Store>`,
//! or a guard that also owns a temporary directory and removes it when dropped).

mod bulk;
mod cases;
mod domains;
mod events;
mod merges;
mod related;
mod related_search;
mod resources;
mod tokens;

pub use bulk::*;
pub use cases::*;
pub use domains::*;
pub use events::*;
pub use merges::*;
pub use related::*;
pub use related_search::*;
pub use resources::*;
pub use tokens::*;

use caseload_domain::store::{
    AuditRecord, CaseRecord, DomainKey, DomainRecord, EventRecord, IdempotencyRecord,
    NewRelatedItem, RelatedItemRecord, ResourceKind, ResourceRecord, Store, StoreError,
};
use caseload_domain::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::RelatedItemType;
use serde_json::json;

/// Expands to one `#[tokio::test]` per conformance test, each on a store made by `$make` (an
/// async function returning something that dereferences to `dyn Store`).
///
/// Two other forms:
/// - `conformance_tests!($make, without_search)` leaves out the tests of SearchCases, for a
///   backend whose search is provided apart from the store under test;
/// - `conformance_tests!(optional $make)` (or `optional $make, without_search`) takes a `$make`
///   returning an `Option`: `None` (the backend's server is not reachable, and the test harness
///   says so) ends the test early.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@store always $make);
        $crate::conformance_tests!(@search always $make);
    };
    ($make:path, without_search) => {
        $crate::conformance_tests!(@store always $make);
    };
    (optional $make:path) => {
        $crate::conformance_tests!(@store optional $make);
        $crate::conformance_tests!(@search optional $make);
    };
    (optional $make:path, without_search) => {
        $crate::conformance_tests!(@store optional $make);
    };
    (@search $mode:ident $make:path) => {
        $crate::conformance_tests!(@each $mode $make;
            search_reads_its_writes_and_pages,
            search_sees_imported_cases,
        );
    };
    (@store $mode:ident $make:path) => {
        $crate::conformance_tests!(@each $mode $make;
            domains_are_unique_by_name_and_within_quota,
            domains_list_in_id_order_and_page,
            domain_tags_update_and_delete_removes_everything,
            resource_names_are_unique_among_live_records_of_a_kind,
            resources_list_count_and_soft_delete,
            resource_replace_refuses_a_stale_prior,
            case_insert_writes_audit_event_and_token_together,
            refused_case_insert_writes_nothing,
            case_lookups_by_key_fields_and_reference,
            case_updates_are_optimistic_and_audited,
            case_update_moves_items_atomically,
            case_delete_is_optimistic_and_removes_everything,
            related_item_inserts_check_quotas_and_their_case,
            related_items_read_back_in_insertion_order,
            related_item_update_and_delete_are_optimistic,
            related_item_token_replays,
            cases_for_contact_in_id_order,
            related_search_visits_what_the_evaluator_returns,
            token_claims_have_one_owner_at_a_time,
            stale_claims_are_taken_over_by_the_same_request_only,
            wait_token_returns_once_the_claim_ends,
            outbox_orders_scopes_and_prunes,
            event_config_round_trips,
            merges_start_once_per_case_and_finish_atomically,
            refused_merge_finish_writes_nothing,
            bulk_cases_list_in_id_order_and_import_atomically,
            bulk_related_items_list_in_case_order_and_import_atomically,
        );
    };
    (@each $mode:ident $make:path; $($name:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(subject) = $crate::conformance_tests!(@make $mode $make) else {
                    return;
                };
                $crate::conformance::$name(&*subject).await;
            }
        )*
    };
    (@make always $make:path) => {
        Some($make().await)
    };
    (@make optional $make:path) => {
        $make().await
    };
}

/// The account, region and domain the records below belong to.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";
pub const DOMAIN: &str = "domain-1";

/// A fixed instant, `ms` milliseconds after a base.
pub fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + ms)
}

pub fn domain_key() -> DomainKey {
    DomainKey::new(ACCOUNT, DOMAIN)
}

pub fn domain(id: &str, name: &str) -> DomainRecord {
    DomainRecord {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        domain_id: id.into(),
        name: name.into(),
        created: at(0),
        tags: Default::default(),
    }
}

/// Stores the domain `DOMAIN`, which the other records belong to.
pub async fn with_domain(store: &dyn Store) {
    store
        .insert_domain(&domain(DOMAIN, "main"), usize::MAX)
        .await
        .unwrap();
}

/// Stores `c` with an audit event and nothing else.
pub async fn put_case(store: &dyn Store, c: &CaseRecord) {
    store
        .insert_case(c, &audit(&c.case_id, 0), None, None)
        .await
        .unwrap();
}

/// Stores `DOMAIN` and in it the case "case-1"; returns the case.
pub async fn with_case(store: &dyn Store) -> CaseRecord {
    with_domain(store).await;
    let c = case("case-1", "00000001");
    put_case(store, &c).await;
    c
}

/// `with_case`, and the case's related item "item-1" (with an audit event and an event).
pub async fn with_case_and_item(store: &dyn Store) -> CaseRecord {
    let c = with_case(store).await;
    store
        .insert_related_items(&[new_item(item("case-1", "item-1"), 1)], None)
        .await
        .unwrap();
    c
}

pub fn resource(kind: ResourceKind, id: &str, name: &str) -> ResourceRecord {
    ResourceRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        kind,
        id: id.into(),
        name: name.into(),
        deleted: false,
        created: at(0),
        modified: at(0),
        body: json!({"v": 1, "id": id}),
        tags: Default::default(),
    }
}

/// A case at version 1 with one field, `title` = its id.
pub fn case(id: &str, reference: &str) -> CaseRecord {
    CaseRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        case_id: id.into(),
        template_id: "template-1".into(),
        reference_number: reference.into(),
        fields: [
            ("title".to_owned(), Value::String(id.to_owned())),
            ("status".to_owned(), Value::String("open".to_owned())),
        ]
        .into(),
        tags: Default::default(),
        created: at(0),
        updated: at(0),
        version: 1,
    }
}

/// `c` as the next write stores it: one version on, updated at `at(ms)`.
pub fn next(c: &CaseRecord, ms: i64) -> CaseRecord {
    let mut n = c.clone();
    n.version += 1;
    n.updated = at(ms);
    n.fields
        .insert("status".into(), Value::String(format!("v{}", n.version)));
    n
}

/// The `n`th audit event of a case (the backend stores its body as it is).
pub fn audit(case_id: &str, n: i64) -> AuditRecord {
    AuditRecord {
        event_id: format!("{case_id}/audit-{n}"),
        case_id: case_id.into(),
        performed_time: at(n),
        body: json!({"eventId": format!("{case_id}/audit-{n}"), "n": n}),
    }
}

/// An event of a change of `case_id` (the backend assigns `seq`).
pub fn event(case_id: &str, n: i64) -> EventRecord {
    EventRecord {
        seq: 0,
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        domain_id: DOMAIN.into(),
        case_id: case_id.into(),
        time: at(n),
        body: json!({"case": case_id, "n": n}),
    }
}

pub fn item(case_id: &str, id: &str) -> RelatedItemRecord {
    RelatedItemRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        case_id: case_id.into(),
        related_item_id: id.into(),
        item_type: RelatedItemType::Comment,
        association_time: at(0),
        seq: 0,
        ref_key: None,
        body: json!({"v": 1, "id": id}),
        tags: Default::default(),
        version: 1,
    }
}

/// `item` to create with its audit event and event, under no quota.
pub fn new_item(item: RelatedItemRecord, n: i64) -> NewRelatedItem {
    NewRelatedItem {
        audit: audit(&item.case_id, n),
        event: Some(event(&item.case_id, n)),
        item,
        max_in_case: usize::MAX,
        max_of_type: usize::MAX,
        case_update: None,
    }
}

pub fn token(operation: &'static str, token: &str, hash: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        operation,
        token: token.into(),
        request_hash: hash.into(),
        response: json!({"answer": hash}),
        created: at(0),
    }
}

/// The case `id` of `DOMAIN` as stored.
pub async fn stored_case(store: &dyn Store, id: &str) -> Option<CaseRecord> {
    store
        .get_case(domain_key().case(id))
        .await
        .expect("get_case")
}

/// The related items of the case `id`, in insertion order.
pub async fn items_of(store: &dyn Store, id: &str) -> Vec<RelatedItemRecord> {
    store
        .list_related_items(domain_key().case(id))
        .await
        .expect("list_related_items")
}

/// How many audit events the case `id` has.
pub async fn audit_count(store: &dyn Store, id: &str) -> usize {
    store
        .list_audit(domain_key().case(id), None, 1000)
        .await
        .expect("list_audit")
        .len()
}

/// The bodies of every event in the outbox, in order.
pub async fn event_bodies(store: &dyn Store) -> Vec<serde_json::Value> {
    store
        .events_after(0, None, 1000)
        .await
        .expect("events_after")
        .into_iter()
        .map(|e| e.body)
        .collect()
}

/// Panics unless `r` failed with the error `matches` accepts.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    r: Result<T, StoreError>,
    what: &str,
    matches: impl Fn(&StoreError) -> bool,
) {
    match r {
        Err(e) if matches(&e) => {}
        other => panic!("expected {what}, got {other:?}"),
    }
}
