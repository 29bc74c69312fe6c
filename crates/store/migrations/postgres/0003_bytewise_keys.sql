-- caseload PostgreSQL schema, version 3: ids, names and keys compare byte for byte, as in SQLite.
--
-- Lists page by `id > after ORDER BY id`, and the related-item search merges index walks in
-- the order Rust's `str` comparison gives. Under a database's default collation (en_US.UTF-8,
-- say) text sorts by language rules instead, so pages and walks would disagree with each other
-- and with SQLite. The "C" collation is byte order (and cheaper to compare); changing a
-- column's collation rebuilds its indexes.

ALTER TABLE domains
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id  TYPE TEXT COLLATE "C",
    ALTER COLUMN region     TYPE TEXT COLLATE "C",
    ALTER COLUMN name       TYPE TEXT COLLATE "C";

ALTER TABLE resources
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id  TYPE TEXT COLLATE "C",
    ALTER COLUMN kind       TYPE TEXT COLLATE "C",
    ALTER COLUMN id         TYPE TEXT COLLATE "C",
    ALTER COLUMN name       TYPE TEXT COLLATE "C";

ALTER TABLE cases
    ALTER COLUMN account_id       TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id        TYPE TEXT COLLATE "C",
    ALTER COLUMN case_id          TYPE TEXT COLLATE "C",
    ALTER COLUMN reference_number TYPE TEXT COLLATE "C";

ALTER TABLE audit
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id  TYPE TEXT COLLATE "C",
    ALTER COLUMN case_id    TYPE TEXT COLLATE "C",
    ALTER COLUMN event_id   TYPE TEXT COLLATE "C";

ALTER TABLE idempotency
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id  TYPE TEXT COLLATE "C",
    ALTER COLUMN operation  TYPE TEXT COLLATE "C",
    ALTER COLUMN token      TYPE TEXT COLLATE "C";

ALTER TABLE related_items
    ALTER COLUMN account_id      TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id       TYPE TEXT COLLATE "C",
    ALTER COLUMN case_id         TYPE TEXT COLLATE "C",
    ALTER COLUMN related_item_id TYPE TEXT COLLATE "C",
    ALTER COLUMN type            TYPE TEXT COLLATE "C",
    ALTER COLUMN ref_key         TYPE TEXT COLLATE "C";

ALTER TABLE event_configs
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id  TYPE TEXT COLLATE "C";

ALTER TABLE events
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN region     TYPE TEXT COLLATE "C";

ALTER TABLE merges
    ALTER COLUMN account_id        TYPE TEXT COLLATE "C",
    ALTER COLUMN domain_id         TYPE TEXT COLLATE "C",
    ALTER COLUMN merge_id          TYPE TEXT COLLATE "C",
    ALTER COLUMN primary_case_id   TYPE TEXT COLLATE "C",
    ALTER COLUMN secondary_case_id TYPE TEXT COLLATE "C";
