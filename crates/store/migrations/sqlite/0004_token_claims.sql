-- caseload SQLite schema, version 4: client tokens claimed before the work they guard.

-- A BatchUpdateCase writes each case in its own transaction, so its token is stored *before* the
-- work, as a claim: `claim` is the claimant's id while the request runs (and `response` the JSON
-- `null`), NULL once the response is stored. While claimed, `created_ms` is when the claim was
-- made or last renewed (each case write renews it), so the claim of a claimant that died goes
-- stale. Tokens of single-transaction operations (CreateCase, BatchCreateRelatedItem) are written
-- with their work and never have a claim.
ALTER TABLE idempotency ADD COLUMN claim TEXT;
