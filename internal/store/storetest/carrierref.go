package storetest

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// testJobByCarrierRef: a receipt that names only the carrier's id finds
// its job; the same id at another carrier does not; the newest job wins
// when a carrier reused an id.
func testJobByCarrierRef(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"))
	mk := func(id, carrier, ref string, created time.Time) verify.Job {
		j := newJob(id, "vf_1", t0)
		j.Kind, j.Status, j.Carrier, j.CarrierRef, j.CreatedAt = verify.JobSMS, verify.JobSent, carrier, ref, created
		return j
	}
	jobs := []verify.Job{
		mk("job_a", "smsc-a", "1a2b3c4d", t0),
		mk("job_b", "smsc-b", "1a2b3c4d", t0),
		mk("job_old", "smsc-a", "77", t0),
		mk("job_new", "smsc-a", "77", at(time.Hour)),
		mk("job_none", "", "", t0),
	}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, j := range jobs {
			if err := tx.InsertJob(ctx(t), j); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tc := range []struct{ carrier, ref, want string }{
		{"smsc-a", "1a2b3c4d", "job_a"},
		{"smsc-b", "1a2b3c4d", "job_b"},
		{"smsc-a", "77", "job_new"},
	} {
		got, err := s.JobByCarrierRef(ctx(t), tc.carrier, tc.ref)
		check(t, err, "JobByCarrierRef "+tc.carrier+" "+tc.ref)
		equal(t, got.ID, tc.want, "JobByCarrierRef "+tc.carrier+" "+tc.ref)
	}
	// Inside a transaction too (the service resolves there).
	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.JobByCarrierRef(ctx(t), "smsc-a", "1a2b3c4d")
		check(t, err, "Tx.JobByCarrierRef")
		equal(t, got, jobs[0], "Tx.JobByCarrierRef round trip")
		return nil
	})
	for _, tc := range []struct{ carrier, ref string }{
		{"smsc-c", "1a2b3c4d"}, {"smsc-a", "1A2B3C4D"}, {"smsc-a", "439041101"}, {"", ""}, {"smsc-a", ""},
	} {
		_, err := s.JobByCarrierRef(ctx(t), tc.carrier, tc.ref)
		wantErr(t, err, verify.ErrNotFound, "JobByCarrierRef "+tc.carrier+" "+tc.ref)
	}
}
