-- Tenants (issue 14): a test key reaches only its app's sandbox. Webhook
-- deliveries and audit entries say whether they are the sandbox's, so the
-- lists a key reads can be scoped by it; a live and a sandbox verification
-- of one phone (or one idempotency key) no longer collide.

ALTER TABLE webhook_deliveries ADD COLUMN sandbox BIGINT NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1));
UPDATE webhook_deliveries SET sandbox = 1
	WHERE verification_id IN (SELECT id FROM verifications WHERE sandbox = 1);
-- Entries from before are live: a test key does not see them.
ALTER TABLE audit_log ADD COLUMN sandbox BIGINT NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1));

DROP INDEX verifications_pending_phone;
CREATE UNIQUE INDEX verifications_pending_phone
	ON verifications (app_id, sandbox, phone) WHERE status = 'pending';
DROP INDEX verifications_idempotency;
CREATE UNIQUE INDEX verifications_idempotency
	ON verifications (app_id, sandbox, idempotency_key) WHERE idempotency_key <> '';
