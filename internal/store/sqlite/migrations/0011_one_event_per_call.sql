-- One event and one webhook per verifying call becomes the default
-- (issue 21): matched_call_events absent now means "verified". Apps that
-- existed before keep what they had: an app without the setting had both
-- call.received and verification.verified, so it gets "both" written; one
-- that asked for "verified" has it as the default now, kept as absent.
UPDATE apps SET settings = json_set(CASE WHEN settings IN ('', 'null') THEN '{}' ELSE settings END,
	'$.matched_call_events', 'both')
	WHERE settings IN ('', 'null') OR json_extract(settings, '$.matched_call_events') IS NULL;
UPDATE apps SET settings = json_remove(settings, '$.matched_call_events')
	WHERE json_extract(settings, '$.matched_call_events') = 'verified';
