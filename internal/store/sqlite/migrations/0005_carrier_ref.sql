-- Carrier receipts that arrive after a restart name the command only by the
-- carrier's own id (jobs.carrier_ref, written when the carrier accepted it):
-- JobByCarrierRef finds the job by (carrier, carrier_ref).
CREATE INDEX jobs_carrier_ref ON jobs (carrier, carrier_ref);
