-- caseload PostgreSQL schema, version 4: a counter every schema write bumps in its transaction.
--
-- A server caches schemas (fields, templates, domains, event configurations) between changes.
-- With several servers, one learns of another's schema write only from the database: this row
-- changes with every such write, atomically with it, so a server that reads it before loading a
-- schema can tell whether what it cached is still current. One row, so schema writes of the
-- whole fleet take turns on it (they are rare); it is bumped last, just before commit.
CREATE TABLE schema_generation (
    only_row   BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    generation BIGINT NOT NULL
);
INSERT INTO schema_generation (generation) VALUES (0);
