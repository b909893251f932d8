-- ringgate schema, PostgreSQL. It mirrors migrations/0001_init.sql of the
-- SQLite store column for column, so the one set of queries in sqldb runs on
-- both: BIGINT where SQLite has INTEGER (both 64-bit), BIGSERIAL for
-- events.id where SQLite has AUTOINCREMENT, the same CHECKs, defaults,
-- foreign keys and (partial) indexes.
--
-- Times are unix milliseconds, 0 for "not set"; booleans are 0/1.
--
-- One deliberate addition: the text keys that queries ORDER BY or compare
-- with < (ids, pool numbers) are COLLATE "C", byte order, as SQLite's BINARY
-- collation is, so that list order and cursors do not depend on the
-- database's locale.

CREATE TABLE apps (
	id                   TEXT   NOT NULL PRIMARY KEY,
	name                 TEXT   NOT NULL,
	default_callback_url TEXT   NOT NULL DEFAULT '',
	webhook_secret       TEXT   NOT NULL,
	created_at           BIGINT NOT NULL
);

CREATE TABLE api_keys (
	id         TEXT   NOT NULL PRIMARY KEY,
	app_id     TEXT   NOT NULL REFERENCES apps (id),
	hash       TEXT   NOT NULL UNIQUE,
	prefix     TEXT   NOT NULL,
	kind       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX api_keys_app ON api_keys (app_id);

CREATE TABLE numbers (
	app_id     TEXT   NOT NULL REFERENCES apps (id),
	number     TEXT   COLLATE "C" NOT NULL,
	country    TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (app_id, number)
);

-- PoolNumbers: an app's numbers for one country (or '*').
CREATE INDEX numbers_app_country ON numbers (app_id, country);

CREATE TABLE verifications (
	id              TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
	app_id          TEXT   NOT NULL REFERENCES apps (id),
	phone           TEXT   NOT NULL,
	country         TEXT   NOT NULL,
	channel         TEXT   NOT NULL,
	status          TEXT   NOT NULL,
	reason          TEXT   NOT NULL DEFAULT '',
	dial_number     TEXT   NOT NULL DEFAULT '',
	callback_url    TEXT   NOT NULL DEFAULT '',
	metadata        TEXT   NOT NULL DEFAULT '{}',
	sandbox         BIGINT NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
	attempts        BIGINT NOT NULL DEFAULT 0,
	idempotency_key TEXT   NOT NULL DEFAULT '',
	request_hash    TEXT   NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL,
	completed_at    BIGINT NOT NULL DEFAULT 0
);

-- One pending verification per app and phone: concurrent starts collide here.
CREATE UNIQUE INDEX verifications_pending_phone
	ON verifications (app_id, phone) WHERE status = 'pending';
-- A retried start with the same key finds the first one.
CREATE UNIQUE INDEX verifications_idempotency
	ON verifications (app_id, idempotency_key) WHERE idempotency_key <> '';
-- PendingForCaller: who waits for a call from this phone.
CREATE INDEX verifications_caller ON verifications (phone, status, channel);
-- NextExpiry and DueForExpiry.
CREATE INDEX verifications_expiry ON verifications (status, expires_at);
-- Listing an app's verifications newest first, all or by status.
CREATE INDEX verifications_app ON verifications (app_id, id);
CREATE INDEX verifications_app_status ON verifications (app_id, status, id);

CREATE TABLE events (
	id              BIGSERIAL NOT NULL PRIMARY KEY,
	verification_id TEXT      NOT NULL REFERENCES verifications (id),
	app_id          TEXT      NOT NULL REFERENCES apps (id),
	type            TEXT      NOT NULL,
	payload         TEXT      NOT NULL,
	created_at      BIGINT    NOT NULL
);

CREATE INDEX events_verification ON events (verification_id, id);

-- Every inbound call, matched or not; app_id and verification_id are ''
-- when it matched nothing, so they carry no foreign key.
CREATE TABLE calls (
	id              TEXT   NOT NULL PRIMARY KEY,
	carrier         TEXT   NOT NULL,
	carrier_call_id TEXT   NOT NULL DEFAULT '',
	from_number     TEXT   NOT NULL,
	to_number       TEXT   NOT NULL,
	app_id          TEXT   NOT NULL DEFAULT '',
	verification_id TEXT   NOT NULL DEFAULT '',
	outcome         TEXT   NOT NULL,
	sip_status      BIGINT NOT NULL DEFAULT 0,
	received_at     BIGINT NOT NULL
);

-- A carrier's retransmission of a call finds the first record.
CREATE UNIQUE INDEX calls_carrier_id
	ON calls (carrier, carrier_call_id) WHERE carrier_call_id <> '';

CREATE TABLE webhook_deliveries (
	id               TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
	app_id           TEXT   NOT NULL REFERENCES apps (id),
	verification_id  TEXT   COLLATE "C" NOT NULL DEFAULT '',
	event_id         BIGINT NOT NULL DEFAULT 0,
	type             TEXT   NOT NULL,
	url              TEXT   NOT NULL,
	payload          TEXT   NOT NULL,
	status           TEXT   NOT NULL,
	attempts         BIGINT NOT NULL DEFAULT 0,
	next_attempt_at  BIGINT NOT NULL DEFAULT 0,
	last_status_code BIGINT NOT NULL DEFAULT 0,
	last_error       TEXT   NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	delivered_at     BIGINT NOT NULL DEFAULT 0,
	-- While claimed, when the claim's lease runs out; 0 when not claimed.
	lease_until      BIGINT NOT NULL DEFAULT 0,
	-- The lease_until of the latest claim, kept when the lease ends, so
	-- that every claim's lease is later than all before it and a holder
	-- that lost its lease (to a requeue and a new claim in the same
	-- millisecond) can never settle under the new one.
	last_lease_until BIGINT NOT NULL DEFAULT 0
);

-- ClaimDeliveries and NextDeliveryDue: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
-- Listing an app's deliveries newest first, all, by status or by verification.
CREATE INDEX webhook_deliveries_app ON webhook_deliveries (app_id, id);
CREATE INDEX webhook_deliveries_app_status ON webhook_deliveries (app_id, status, id);
CREATE INDEX webhook_deliveries_verification ON webhook_deliveries (verification_id, id);
