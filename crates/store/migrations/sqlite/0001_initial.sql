-- caseload SQLite schema, version 1. Times are Unix milliseconds; documents are JSON text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE domains (
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
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
    deleted     INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id, kind, id)
);
CREATE UNIQUE INDEX resources_by_name ON resources (account_id, domain_id, kind, name) WHERE deleted = 0;

-- One row per case; `fields` maps field id to a typed value.
CREATE TABLE cases (
    account_id       TEXT NOT NULL,
    domain_id        TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    template_id      TEXT NOT NULL,
    reference_number TEXT NOT NULL,
    fields           TEXT NOT NULL,
    tags             TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    PRIMARY KEY (account_id, domain_id, case_id)
);
CREATE UNIQUE INDEX cases_by_reference ON cases (account_id, domain_id, reference_number);

CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL,
    domain_id    TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    performed_ms INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX audit_by_case ON audit (account_id, domain_id, case_id, seq);

-- Remembered client tokens (idempotency), scoped to account, domain and operation.
CREATE TABLE idempotency (
    account_id   TEXT NOT NULL,
    domain_id    TEXT NOT NULL,
    operation    TEXT NOT NULL,
    token        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (account_id, domain_id, operation, token)
);

-- Every case write, in commit order: what the search index replays to catch up.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    deleted    INTEGER NOT NULL
);
