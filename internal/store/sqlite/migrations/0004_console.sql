-- The operator console: its charts read verifications by creation time
-- (VerificationStats), and its feed filters by channel and country.

CREATE INDEX verifications_created ON verifications (created_at);
CREATE INDEX verifications_channel ON verifications (channel, id);
CREATE INDEX verifications_country ON verifications (country, id);
