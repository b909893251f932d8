-- One event and one webhook per verifying call becomes the default
-- (issue 21): matched_call_events absent now means "verified". Apps that
-- existed before keep what they had: an app without the setting had both
-- call.received and verification.verified, so it gets "both" written; one
-- that asked for "verified" has it as the default now, kept as absent.
UPDATE apps SET settings = '{}' WHERE settings IN ('', 'null');
UPDATE apps SET settings = (settings::jsonb || '{"matched_call_events": "both"}'::jsonb)::text
	WHERE NOT (settings::jsonb ? 'matched_call_events');
UPDATE apps SET settings = (settings::jsonb - 'matched_call_events')::text
	WHERE settings::jsonb ->> 'matched_call_events' = 'verified';
