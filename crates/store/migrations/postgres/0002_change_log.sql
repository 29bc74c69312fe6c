-- caseload PostgreSQL schema, version 2: the change log every server's search index tails, the
-- position each server's index has reached, and how far the log has been pruned.

-- Every case write. `xid` is the writing transaction (pg_current_xact_id(), 64 bits, never wraps):
-- readers consume changes by transaction against snapshots, because `seq` is taken before commit
-- and a transaction holding seq 10 may become visible after seq 11 (see postgres/changelog.rs).
CREATE TABLE changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    account_id TEXT NOT NULL,
    domain_id  TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    deleted    BOOLEAN NOT NULL
);
CREATE INDEX changes_by_xid ON changes (xid, seq);

-- Each server's index position: `position` is the set of transactions whose changes its index
-- holds, in pg_snapshot's text form (xmin:xmax:in-progress list); `needed_xid` is its lowest
-- transaction not yet held (the xmin), so every change the server still needs has xid >= it. A
-- change is pruned only below the lowest `needed_xid` of the servers updated recently (the live
-- ones).
CREATE TABLE index_positions (
    node       TEXT PRIMARY KEY,
    needed_xid BIGINT NOT NULL,
    position   TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every change with xid below `xid` may have been pruned: a position needing a lower one cannot
-- resume from the log (its index must be rebuilt from the tables). One row.
CREATE TABLE change_log_floor (
    only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    xid      BIGINT NOT NULL
);
INSERT INTO change_log_floor (xid) VALUES (0);
