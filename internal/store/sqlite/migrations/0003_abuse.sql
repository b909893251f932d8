-- Abuse controls (issue 7, docs/abuse.md): rate-limit and conversion
-- counters in fixed windows, prefixes the SMS-pumping guard has blocked,
-- and the indexes the spoofing and rotation queries need.

-- One row per (key, window start). Starts add to it in their own
-- transaction (INSERT … ON CONFLICT DO UPDATE … RETURNING), so counts
-- survive restarts and every node sees the same ones.
CREATE TABLE counters (
	key        TEXT    NOT NULL,
	win_start  INTEGER NOT NULL,
	value      INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (key, win_start)
) STRICT;
CREATE INDEX counters_expiry ON counters (expires_at);

CREATE TABLE prefix_blocks (
	app_id     TEXT    NOT NULL REFERENCES apps (id),
	prefix     TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	started    INTEGER NOT NULL,
	verified   INTEGER NOT NULL,
	blocked_at INTEGER NOT NULL,
	blocked_until INTEGER NOT NULL,
	PRIMARY KEY (app_id, prefix)
) STRICT;

-- RecentDialNumbers: the numbers a phone was shown lately.
CREATE INDEX verifications_app_phone ON verifications (app_id, phone, created_at);
-- UnmatchedCallers: calls by time.
CREATE INDEX calls_received ON calls (received_at);
