-- Abuse controls (issue 7, docs/abuse.md). Mirrors the SQLite store's
-- 0003_abuse.sql. Counters are upserted with ON CONFLICT DO UPDATE, whose
-- row lock serialises nodes counting the same key.

CREATE TABLE counters (
	key        TEXT COLLATE "C" NOT NULL,
	win_start   BIGINT NOT NULL,
	value      BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (key, win_start)
);
CREATE INDEX counters_expiry ON counters (expires_at);

CREATE TABLE prefix_blocks (
	app_id     TEXT COLLATE "C" NOT NULL REFERENCES apps (id),
	prefix     TEXT COLLATE "C" NOT NULL,
	reason     TEXT   NOT NULL,
	started    BIGINT NOT NULL,
	verified   BIGINT NOT NULL,
	blocked_at BIGINT NOT NULL,
	blocked_until BIGINT NOT NULL,
	PRIMARY KEY (app_id, prefix)
);

CREATE INDEX verifications_app_phone ON verifications (app_id, phone, created_at);
CREATE INDEX calls_received ON calls (received_at);
