-- caseload SQLite schema, version 2: related items, case event configurations and the event
-- outbox with its delivery cursors.

-- Related items of cases. `seq` (the rowid) is the insertion order that breaks ties between
-- items associated in the same millisecond; `ref_key` is the attribute equality filters select
-- on (contact ARN, file ARN, linked case id, SLA name).
CREATE TABLE related_items (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL,
    domain_id       TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    related_item_id TEXT NOT NULL,
    type            TEXT NOT NULL,
    association_ms  INTEGER NOT NULL,
    ref_key         TEXT,
    body            TEXT NOT NULL,
    tags            TEXT NOT NULL,
    version         INTEGER NOT NULL
);
CREATE UNIQUE INDEX related_items_by_id ON related_items (account_id, domain_id, related_item_id);
-- One index per (scope, primary order) a domain-wide search walks: no filter, a type filter, and
-- a type filter naming a ref_key; each ordered by association time or by case id. The case-id
-- ones also serve per-case reads and ListCasesForContact.
CREATE INDEX related_items_by_time ON related_items (account_id, domain_id, association_ms);
CREATE INDEX related_items_by_case ON related_items (account_id, domain_id, case_id);
CREATE INDEX related_items_by_type_time ON related_items (account_id, domain_id, type, association_ms);
CREATE INDEX related_items_by_type_case ON related_items (account_id, domain_id, type, case_id);
CREATE INDEX related_items_by_ref_time ON related_items (account_id, domain_id, type, ref_key, association_ms) WHERE ref_key IS NOT NULL;
CREATE INDEX related_items_by_ref_case ON related_items (account_id, domain_id, type, ref_key, case_id) WHERE ref_key IS NOT NULL;

-- Each domain's case event configuration (a JSON document), with the domain's region, which
-- the events built under it name.
CREATE TABLE event_configs (
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    region     TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id)
);

-- The event outbox: one row per event, appended in the transaction of the change it describes.
-- Distinct from `changes`, which the search indexer prunes as soon as it has indexed it.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX events_by_account ON events (account_id, region, seq);

-- How far each delivery target (a webhook URL) has durably got in the outbox.
CREATE TABLE event_deliveries (
    target TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL
);
