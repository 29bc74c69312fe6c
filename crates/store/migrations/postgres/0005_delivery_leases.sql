-- A lease per delivery target, so that of the servers sharing this database one at a time
-- delivers a webhook's events. The row of a target is created by the first lease on it, before
-- its position is known, hence the nullable `seq` (NULL: no position saved yet).
ALTER TABLE event_deliveries
    ADD COLUMN holder TEXT,
    ADD COLUMN lease_until_ms BIGINT,
    ALTER COLUMN seq DROP NOT NULL;
