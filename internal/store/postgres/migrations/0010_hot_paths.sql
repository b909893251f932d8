-- The outbox never scans (issue 21). A pending delivery is due when both its
-- next attempt and any lease have come: due_at keeps the later of the two,
-- written with every change to either, and a partial index holds only the
-- pending rows by it. Claiming due deliveries is then a range read from the
-- index's start and "when is the next one due" reads one entry, however
-- many deliveries wait for a receiver that is down. The old
-- (status, next_attempt_at) index answered the claim but not the next-due
-- question, which read every pending delivery on each dispatcher round.

ALTER TABLE webhook_deliveries ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
UPDATE webhook_deliveries
	SET due_at = CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END;
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due_at ON webhook_deliveries (due_at, id) WHERE status = 'pending';

-- Counters off hot rows (issue 21). A counter may be spread over several
-- rows (shards) that adds pick among, so that concurrent starts on several
-- connections or nodes do not all queue on the one row of an app-wide
-- limit (its row lock is held to commit); its value is the sum of its
-- shards.
ALTER TABLE counters ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE counters DROP CONSTRAINT counters_pkey;
ALTER TABLE counters ADD PRIMARY KEY (key, win_start, shard);

-- Fewer index writes per verified call (issue 21). The inbound call's "who
-- waits for this caller" and the expiry sweep read only pending
-- verifications, so their indexes hold only those: a verification that
-- ends leaves both (one index write each) instead of moving within them
-- (a delete and an insert each), and ended verifications no longer grow
-- them.
DROP INDEX verifications_caller;
CREATE INDEX verifications_caller ON verifications (phone, id) WHERE status = 'pending';
DROP INDEX verifications_expiry;
CREATE INDEX verifications_expiry ON verifications (expires_at, id) WHERE status = 'pending';
