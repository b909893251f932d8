-- Every channel (issue 3): workflows of steps, codes kept as HMACs, app
-- settings, and the outbound job queue.

ALTER TABLE apps ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

-- workflow is a JSON array of {"channel", "timeout_ms"}; step indexes it.
ALTER TABLE verifications ADD COLUMN workflow         TEXT    NOT NULL DEFAULT '[]';
ALTER TABLE verifications ADD COLUMN step             INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verifications ADD COLUMN code_hash        TEXT    NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN code_length      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verifications ADD COLUMN cli_prefix       TEXT    NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN cli_filter       TEXT    NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN caller_id        TEXT    NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN locale           TEXT    NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN verified_channel TEXT    NOT NULL DEFAULT '';

-- Outbound commands (place a call, send a text), written with the step
-- that needs them and run after commit by any node.
CREATE TABLE jobs (
	id              TEXT    NOT NULL PRIMARY KEY,
	app_id          TEXT    NOT NULL REFERENCES apps (id),
	verification_id TEXT    NOT NULL REFERENCES verifications (id),
	step            INTEGER NOT NULL,
	kind            TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	status          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	lease_until     INTEGER NOT NULL DEFAULT 0,
	carrier         TEXT    NOT NULL DEFAULT '',
	carrier_ref     TEXT    NOT NULL DEFAULT '',
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;

-- ClaimJobs: due pending jobs, and running ones whose lease lapsed.
CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
CREATE INDEX jobs_verification ON jobs (verification_id, id);
