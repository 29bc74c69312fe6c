-- caseload PostgreSQL schema, version 1: the system of record, table for table the SQLite schema
-- (migrations/sqlite/0001 to 0004). Times are Unix milliseconds; documents are JSON kept as text,
-- byte for byte what the server wrote (jsonb would reformat numbers and reorder keys, and search
-- never runs in SQL). `seq` columns give insertion order for tie-breaks, never commit order: the
-- tables read in commit order carry the writing transaction's id (`xid`, see 0002).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE domains (
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    tags       TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id)
);
CREATE UNIQUE INDEX domains_by_name ON domains (account_id, region, name);

-- Fields, templates, layouts and case rules. Deleted rows stay (soft delete); names are unique
-- among the rows that are not deleted.
CREATE TABLE resources (
    account_id  TEXT NOT NULL,
    domain_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    deleted     BOOLEAN NOT NULL,
    created_ms  BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id, kind, id)
);
CREATE UNIQUE INDEX resources_by_name ON resources (account_id, domain_id, kind, name) WHERE NOT deleted;

-- One row per case; `fields` maps field id to a typed value.
CREATE TABLE cases (
    account_id       TEXT NOT NULL,
    domain_id        TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    template_id      TEXT NOT NULL,
    reference_number TEXT NOT NULL,
    fields           TEXT NOT NULL,
    tags             TEXT NOT NULL,
    created_ms       BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    PRIMARY KEY (account_id, domain_id, case_id)
);
CREATE UNIQUE INDEX cases_by_reference ON cases (account_id, domain_id, reference_number);

CREATE TABLE audit (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   TEXT NOT NULL,
    domain_id    TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    performed_ms BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX audit_by_case ON audit (account_id, domain_id, case_id, seq);

-- Remembered client tokens (idempotency), scoped to account, domain and operation. `claim`: see
-- migrations/sqlite/0004 (a BatchUpdateCase claims its token before the work it guards).
CREATE TABLE idempotency (
    account_id   TEXT NOT NULL,
    domain_id    TEXT NOT NULL,
    operation    TEXT NOT NULL,
    token        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    claim        TEXT,
    PRIMARY KEY (account_id, domain_id, operation, token)
);

-- Related items of cases. `seq` is the insertion order that breaks ties between items
-- associated in the same millisecond; `ref_key` is the attribute equality filters select on.
CREATE TABLE related_items (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT NOT NULL,
    domain_id       TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    related_item_id TEXT NOT NULL,
    type            TEXT NOT NULL,
    association_ms  BIGINT NOT NULL,
    ref_key         TEXT,
    body            TEXT NOT NULL,
    tags            TEXT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE UNIQUE INDEX related_items_by_id ON related_items (account_id, domain_id, related_item_id);
CREATE INDEX related_items_by_time ON related_items (account_id, domain_id, association_ms);
CREATE INDEX related_items_by_case ON related_items (account_id, domain_id, case_id);
CREATE INDEX related_items_by_type_time ON related_items (account_id, domain_id, type, association_ms);
CREATE INDEX related_items_by_type_case ON related_items (account_id, domain_id, type, case_id);
CREATE INDEX related_items_by_ref_time ON related_items (account_id, domain_id, type, ref_key, association_ms) WHERE ref_key IS NOT NULL;
CREATE INDEX related_items_by_ref_case ON related_items (account_id, domain_id, type, ref_key, case_id) WHERE ref_key IS NOT NULL;

-- Each domain's case event configuration (a JSON document), with the domain's region.
CREATE TABLE event_configs (
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    region     TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id)
);

-- The event outbox: one row per event, appended in the transaction of the change it describes.
-- Its readers (the event feed, webhook delivery) must follow commit order, as the change log's
-- do: `xid` is the writing transaction (see 0002).
CREATE TABLE events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX events_by_account ON events (account_id, region, seq);
CREATE INDEX events_by_xid ON events (xid, seq);

-- How far each delivery target (a webhook URL) has durably got in the outbox.
CREATE TABLE event_deliveries (
    target TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);

-- Merges of cases (StartMergeCases), kept after completion.
CREATE TABLE merges (
    account_id        TEXT NOT NULL,
    domain_id         TEXT NOT NULL,
    merge_id          TEXT NOT NULL,
    primary_case_id   TEXT NOT NULL,
    secondary_case_id TEXT NOT NULL,
    completed         BOOLEAN NOT NULL,
    started_ms        BIGINT NOT NULL,
    body              TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id, merge_id)
);
CREATE INDEX merges_by_primary ON merges (account_id, domain_id, primary_case_id);
CREATE INDEX merges_by_secondary ON merges (account_id, domain_id, secondary_case_id);
CREATE INDEX merges_running ON merges (started_ms) WHERE NOT completed;
