-- caseload SQLite schema, version 3: merges of cases (StartMergeCases).

-- One row per merge, from StartMergeCases until the merge worker has run it (`completed`), and
-- kept afterwards: GetMergeCasesStatus answers COMPLETED for a former secondary, and such a case
-- can never be merged again. `body` is what to merge and on whose behalf (a JSON document).
CREATE TABLE merges (
    account_id        TEXT NOT NULL,
    domain_id         TEXT NOT NULL,
    merge_id          TEXT NOT NULL,
    primary_case_id   TEXT NOT NULL,
    secondary_case_id TEXT NOT NULL,
    completed         INTEGER NOT NULL,
    started_ms        INTEGER NOT NULL,
    body              TEXT NOT NULL,
    PRIMARY KEY (account_id, domain_id, merge_id)
);
CREATE INDEX merges_by_primary ON merges (account_id, domain_id, primary_case_id);
CREATE INDEX merges_by_secondary ON merges (account_id, domain_id, secondary_case_id);
CREATE INDEX merges_running ON merges (started_ms) WHERE completed = 0;
