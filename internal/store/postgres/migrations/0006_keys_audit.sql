-- Keys and audit (issue 7): API keys get a scope, an optional expiry and a
-- last-used time; admin actions are recorded in audit_log.

-- Keys made before scopes existed keep every right they had: admin.
ALTER TABLE api_keys ADD COLUMN scope        TEXT    NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD COLUMN expires_at   BIGINT  NOT NULL DEFAULT 0;
-- Written at most about once a minute per key, not on every request.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT  NOT NULL DEFAULT 0;

-- One row per admin action (settings changed, key created or revoked,
-- delivery retried, …). id is time-ordered, so ordering by it is newest
-- first and a cursor is an id.
CREATE TABLE audit_log (
	id         TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
	app_id     TEXT    NOT NULL REFERENCES apps (id),
	at         BIGINT  NOT NULL,
	actor      TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	detail     TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_app ON audit_log (app_id, id);
