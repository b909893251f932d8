-- Every channel: workflows of steps, codes kept as HMACs, app settings, and
-- the outbound job queue. Mirrors the SQLite store's 0002_channels.sql.

ALTER TABLE apps ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

ALTER TABLE verifications
	ADD COLUMN workflow         TEXT   NOT NULL DEFAULT '[]',
	ADD COLUMN step             BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN code_hash        TEXT   NOT NULL DEFAULT '',
	ADD COLUMN code_length      BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN cli_prefix       TEXT   NOT NULL DEFAULT '',
	ADD COLUMN cli_filter       TEXT   NOT NULL DEFAULT '',
	ADD COLUMN caller_id        TEXT   NOT NULL DEFAULT '',
	ADD COLUMN locale           TEXT   NOT NULL DEFAULT '',
	ADD COLUMN verified_channel TEXT   NOT NULL DEFAULT '';

CREATE TABLE jobs (
	id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	app_id          TEXT   NOT NULL REFERENCES apps (id),
	verification_id TEXT   NOT NULL REFERENCES verifications (id),
	step            BIGINT NOT NULL,
	kind            TEXT   NOT NULL,
	payload         BYTEA  NOT NULL,
	status          TEXT   NOT NULL,
	attempts        BIGINT NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	lease_until     BIGINT NOT NULL DEFAULT 0,
	carrier         TEXT   NOT NULL DEFAULT '',
	carrier_ref     TEXT   NOT NULL DEFAULT '',
	last_error      TEXT   NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);

CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
CREATE INDEX jobs_verification ON jobs (verification_id, id);
