package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

func testAppSettings(t *testing.T, s Store) {
	a := newApp("app_s")
	a.Settings = verify.Settings{
		SMSTemplates:   map[string]string{"en": "{code} is your {app} code", "pt-BR": "Código {code}"},
		AndroidAppHash: "FA+9qCX9VSu", SMSSender: "Shop", DialplanXML: "<dialplan/>",
		FlashCallerIDs: []verify.CallerIDRange{{Country: "*", Pattern: "+44207946XXXX"}},
	}
	mustTx(t, s, func(tx verify.Tx) error { return tx.InsertApp(ctx(t), a) })
	got, err := s.App(ctx(t), a.ID)
	check(t, err, "App")
	equal(t, got, a, "App with settings")

	a.Settings = verify.Settings{SMSSender: "Other"}
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateApp(ctx(t), a) })
	got, err = s.App(ctx(t), a.ID)
	check(t, err, "App")
	equal(t, got, a, "App after UpdateApp")

	key := verify.APIKey{ID: "key_s", AppID: a.ID, Hash: "h-s", Prefix: "rg_live_x", Kind: verify.KeyLive, CreatedAt: t0}
	mustTx(t, s, func(tx verify.Tx) error { return tx.InsertAPIKey(ctx(t), key) })
	_, ka, err := s.APIKeyByHash(ctx(t), "h-s")
	check(t, err, "APIKeyByHash")
	equal(t, ka.Settings, a.Settings, "settings of the key's app")
}

func newJob(id, vid string, next time.Time) verify.Job {
	return verify.Job{
		ID: id, AppID: "app_a", VerificationID: vid, Step: 1, Kind: verify.JobCall,
		Payload: []byte{0, 1, 2, 0xff}, Status: verify.JobPending, NextAttemptAt: next,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func testJobs(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"))
	j1, j2, j3 := newJob("job_1", "vf_1", t0), newJob("job_2", "vf_1", at(time.Minute)), newJob("job_3", "vf_1", t0)
	j3.Status = verify.JobSent
	mustTx(t, s, func(tx verify.Tx) error {
		for _, j := range []verify.Job{j1, j2, j3} {
			if err := tx.InsertJob(ctx(t), j); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Tx(ctx(t), func(tx verify.Tx) error { return tx.InsertJob(ctx(t), j1) })
	wantErr(t, err, verify.ErrConflict, "InsertJob of an existing id")

	got, err := s.Job(ctx(t), "job_1")
	check(t, err, "Job")
	equal(t, got, j1, "Job round trip (binary payload)")
	_, err = s.Job(ctx(t), "job_missing")
	wantErr(t, err, verify.ErrNotFound, "Job of a missing id")
	all, err := s.Jobs(ctx(t), "vf_1")
	check(t, err, "Jobs")
	equal(t, ids(all, func(j verify.Job) string { return j.ID }), []string{"job_1", "job_2", "job_3"}, "Jobs")

	// At t0 only job_1 is due: job_2 is later, job_3 is not pending.
	var claimed []verify.Job
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		claimed, err = tx.ClaimJobs(ctx(t), t0, at(30*time.Second), 10)
		return err
	})
	if len(claimed) != 1 || claimed[0].ID != "job_1" || claimed[0].Attempts != 1 ||
		claimed[0].Status != verify.JobRunning || !claimed[0].LeaseUntil.Equal(at(30*time.Second)) {
		t.Fatalf("ClaimJobs at t0 = %+v, want job_1 running, attempt 1, leased 30s", claimed)
	}
	equal(t, mustJob(t, s, "job_1"), claimed[0], "claimed job as stored")
	// While the lease holds nobody else gets it; once it lapses, it is
	// claimed again (its runner died) with the attempt counted.
	mustTx(t, s, func(tx verify.Tx) error {
		again, err := tx.ClaimJobs(ctx(t), at(10*time.Second), at(40*time.Second), 10)
		equal(t, len(again), 0, "jobs claimable while leased")
		return err
	})
	mustTx(t, s, func(tx verify.Tx) error {
		again, err := tx.ClaimJobs(ctx(t), at(2*time.Minute), at(3*time.Minute), 10)
		equal(t, ids(again, func(j verify.Job) string { return j.ID }), []string{"job_1", "job_2"}, "claim after lease lapsed")
		if len(again) == 2 {
			equal(t, again[0].Attempts, 2, "attempts of a re-claimed job")
		}
		return err
	})

	u := mustJob(t, s, "job_1")
	u.Status, u.Carrier, u.CarrierRef, u.LastError, u.Payload = verify.JobSent, "sim", "ref-1", "", nil
	u.LeaseUntil, u.UpdatedAt = time.Time{}, at(2*time.Minute)
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateJob(ctx(t), u) })
	got = mustJob(t, s, "job_1")
	if len(got.Payload) != 0 {
		t.Errorf("payload after clearing = %x, want empty", got.Payload)
	}
	got.Payload, u.Payload = nil, nil
	equal(t, got, u, "Job after UpdateJob")
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.UpdateJob(ctx(t), newJob("job_missing", "vf_1", t0)) })
	wantErr(t, err, verify.ErrNotFound, "UpdateJob of a missing id")
	mustTx(t, s, func(tx verify.Tx) error {
		none, err := tx.ClaimJobs(ctx(t), at(time.Hour), at(2*time.Hour), 0)
		equal(t, len(none), 0, "ClaimJobs with limit 0")
		return err
	})
}

func mustJob(t *testing.T, s Store, id string) verify.Job {
	t.Helper()
	j, err := s.Job(ctx(t), id)
	check(t, err, "Job "+id)
	return j
}

// testClaimJobsConcurrent: claimers racing over the same queue never get
// the same job twice.
func testClaimJobsConcurrent(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"))
	const n = 40
	mustTx(t, s, func(tx verify.Tx) error {
		for i := range n {
			if err := tx.InsertJob(ctx(t), newJob(seqID("job_", i), "vf_1", t0)); err != nil {
				return err
			}
		}
		return nil
	})
	var mu sync.Mutex
	var got []string
	errs := parallel(8, func(int) error {
		for range n {
			var c []verify.Job
			err := s.Tx(ctx(t), func(tx verify.Tx) error {
				var err error
				c, err = tx.ClaimJobs(ctx(t), t0, at(time.Minute), 3)
				return err
			})
			if err != nil {
				return err
			}
			if len(c) == 0 {
				return nil
			}
			mu.Lock()
			for _, j := range c {
				got = append(got, j.ID)
			}
			mu.Unlock()
		}
		return errors.New("queue never drained")
	})
	for _, err := range errs {
		check(t, err, "concurrent ClaimJobs")
	}
	slices.Sort(got)
	if len(got) != n || len(slices.Compact(slices.Clone(got))) != n {
		t.Fatalf("claimed %d jobs (%d distinct), want each of %d exactly once", len(got), len(slices.Compact(slices.Clone(got))), n)
	}
}
