-- Compatible APIs (issue 17): Twilio Verify v2, Vonage Verify v2 and seed
-- 001's missed-call API answer on ringgate's listener (internal/compat).

-- Each app's provider-style credentials. Secrets are stored as SHA-256
-- hashes only (they carry 160+ random bits, as API keys do); the public
-- halves (Account SID, API key SID, Vonage api_key and application id) are
-- looked up by equality.
CREATE TABLE compat_credentials (
	app_id                 TEXT    NOT NULL PRIMARY KEY REFERENCES apps (id),
	twilio_account_sid     TEXT    NOT NULL UNIQUE,
	twilio_auth_token_hash TEXT    NOT NULL,
	twilio_key_sid         TEXT    NOT NULL UNIQUE,
	twilio_key_secret_hash TEXT    NOT NULL,
	vonage_api_key         TEXT    NOT NULL UNIQUE,
	vonage_api_secret_hash TEXT    NOT NULL,
	vonage_application_id  TEXT    NOT NULL UNIQUE,
	vonage_public_key      TEXT    NOT NULL DEFAULT '',
	-- Vonage's status callbacks: where the app wants them ('' for none),
	-- and the secret their JWTs are signed with (sealed like webhook
	-- secrets: the server needs it in the clear to sign).
	vonage_status_url      TEXT    NOT NULL DEFAULT '',
	vonage_signature_secret TEXT   NOT NULL DEFAULT '',
	created_at             INTEGER  NOT NULL,
	updated_at             INTEGER  NOT NULL
);

-- A Twilio Verify Service (VA…) belongs to the app that created it.
CREATE TABLE compat_twilio_services (
	sid           TEXT    NOT NULL PRIMARY KEY,
	app_id        TEXT    NOT NULL REFERENCES apps (id),
	friendly_name TEXT    NOT NULL,
	code_length   INTEGER  NOT NULL,
	created_at    INTEGER  NOT NULL,
	updated_at    INTEGER  NOT NULL
);
CREATE INDEX compat_twilio_services_app ON compat_twilio_services (app_id, created_at);

-- A Twilio Verification (VE…) and the ringgate verification carrying it
-- now (a resend to a pending To starts a new one under the same SID).
-- No foreign key to verifications: retention purges those on its own.
CREATE TABLE compat_twilio_verifications (
	sid             TEXT    NOT NULL PRIMARY KEY,
	service_sid     TEXT    NOT NULL REFERENCES compat_twilio_services (sid),
	app_id          TEXT    NOT NULL,
	verification_id TEXT    NOT NULL UNIQUE,
	to_phone        TEXT    NOT NULL,
	channel         TEXT    NOT NULL,
	send_attempts   TEXT    NOT NULL DEFAULT '[]',
	created_at      INTEGER  NOT NULL,
	updated_at      INTEGER  NOT NULL
);
CREATE INDEX compat_twilio_verifications_to ON compat_twilio_verifications (service_sid, to_phone, created_at);

-- A Vonage Verify v2 request (a UUID) and its ringgate verification.
CREATE TABLE compat_vonage_requests (
	request_id      TEXT    NOT NULL PRIMARY KEY,
	app_id          TEXT    NOT NULL,
	verification_id TEXT    NOT NULL UNIQUE,
	created_at      INTEGER  NOT NULL
);

-- Callbacks in a provider's format (kind 'otpapi': seed 001's, sent once the
-- verification ends whether or not the user dialled; kind 'vonage': Vonage's
-- signed status callback), sent once the verification ends: an outbox of
-- their own, since they are not ringgate webhooks. ref is the provider's id
-- of the request (Vonage's request_id).
CREATE TABLE compat_callbacks (
	id              TEXT    NOT NULL PRIMARY KEY,
	kind            TEXT    NOT NULL,
	ref             TEXT    NOT NULL DEFAULT '',
	app_id          TEXT    NOT NULL,
	verification_id TEXT    NOT NULL,
	sandbox         INTEGER NOT NULL DEFAULT 0,
	callback_url    TEXT    NOT NULL,
	state           TEXT    NOT NULL DEFAULT 'pending',
	attempts        INTEGER  NOT NULL DEFAULT 0,
	next_attempt_at INTEGER  NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER  NOT NULL
);
CREATE UNIQUE INDEX compat_callbacks_verification ON compat_callbacks (kind, verification_id);
CREATE INDEX compat_callbacks_due ON compat_callbacks (state, next_attempt_at);
