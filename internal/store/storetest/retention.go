package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Retention and erasure (issue 19): the rows are gone, and nothing in
// flight is.

var retentionTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"PurgeEnded", testPurgeEnded},
	{"PurgeEndedBatch", testPurgeEndedBatch},
	{"ErasePhone", testErasePhone},
	{"PurgeEndedConcurrent", testPurgeEndedConcurrent},
}

// withRows stores v with one event, one job (status job), one delivery
// (status delivery) and one call matched to it.
func withRows(t *testing.T, s Store, v verify.Verification, job, delivery string) {
	t.Helper()
	insertVerifications(t, s, v)
	mustTx(t, s, func(tx verify.Tx) error {
		e := verify.Event{VerificationID: v.ID, AppID: v.AppID, Type: verify.EventVerified, Payload: []byte(`{}`), CreatedAt: v.UpdatedAt}
		if err := tx.InsertEvent(ctx(t), &e); err != nil {
			return err
		}
		j := newJob("job_"+v.ID, v.ID, v.CreatedAt)
		j.AppID, j.Status = v.AppID, job
		if err := tx.InsertJob(ctx(t), j); err != nil {
			return err
		}
		d := newDelivery("dlv_"+v.ID, v.AppID, v.ID, v.UpdatedAt)
		d.Status = delivery
		if err := tx.InsertDelivery(ctx(t), d); err != nil {
			return err
		}
		return tx.InsertCall(ctx(t), verify.Call{
			ID: "call_" + v.ID, Carrier: "sim", CarrierCallID: "cc_" + v.ID, From: v.Phone, To: "+442079460000",
			AppID: v.AppID, VerificationID: v.ID, Outcome: verify.CallVerified, ReceivedAt: v.CreatedAt,
		})
	})
}

// gone reports whether v and every row withRows stored for it are deleted;
// it fails t when only some are.
func gone(t *testing.T, s Store, v verify.Verification) bool {
	t.Helper()
	_, errV := s.Verification(ctx(t), v.ID)
	evs, err := s.Events(ctx(t), v.ID, 0, 10)
	check(t, err, "Events")
	js, err := s.Jobs(ctx(t), v.ID)
	check(t, err, "Jobs")
	_, errD := s.Delivery(ctx(t), verify.TenantOf(v), "dlv_"+v.ID)
	var errC error
	mustTx(t, s, func(tx verify.Tx) error { _, errC = tx.CallByCarrierID(ctx(t), "sim", "cc_"+v.ID); return nil })
	have := []bool{errV == nil, len(evs) > 0, len(js) > 0, errD == nil, errC == nil}
	for _, h := range have {
		if h != have[0] {
			t.Errorf("%s: some rows deleted, not all (verification, events, jobs, delivery, call present: %v)", v.ID, have)
			break
		}
	}
	return !have[0]
}

func testPurgeEnded(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	old := ended(newVerification("vf_old", "app_a", "+447700900001"), verify.StatusVerified)
	oldB := ended(newVerification("vf_oldb", "app_b", "+447700900001"), verify.StatusExpired)
	// In flight: a webhook still to deliver, a job still running, a
	// verification still pending (created long ago, never swept).
	hook := ended(newVerification("vf_hook", "app_a", "+447700900002"), verify.StatusVerified)
	running := ended(newVerification("vf_running", "app_a", "+447700900003"), verify.StatusCanceled)
	pending := newVerification("vf_pending", "app_a", "+447700900004")
	// Ended after the cut.
	recent := ended(newVerification("vf_recent", "app_a", "+447700900005"), verify.StatusFailed)
	recent.CreatedAt, recent.UpdatedAt, recent.CompletedAt = at(3*time.Minute), at(4*time.Minute), at(4*time.Minute)

	withRows(t, s, old, verify.JobSent, verify.DeliveryDelivered)
	withRows(t, s, oldB, verify.JobFailed, verify.DeliveryFailed)
	withRows(t, s, hook, verify.JobSent, verify.DeliveryPending)
	withRows(t, s, running, verify.JobRunning, verify.DeliveryDelivered)
	withRows(t, s, pending, verify.JobPending, verify.DeliveryDelivered)
	withRows(t, s, recent, verify.JobSent, verify.DeliveryDelivered)
	mustTx(t, s, func(tx verify.Tx) error {
		for _, c := range []verify.Call{
			{ID: "call_stray_old", Carrier: "sim", CarrierCallID: "stray_old", From: "+447700900009", To: "+442079460000", Outcome: verify.CallNoMatch, ReceivedAt: t0},
			{ID: "call_stray_new", Carrier: "sim", CarrierCallID: "stray_new", From: "+447700900009", To: "+442079460000", Outcome: verify.CallNoMatch, ReceivedAt: at(5 * time.Minute)},
		} {
			if err := tx.InsertCall(ctx(t), c); err != nil {
				return err
			}
		}
		return nil
	})

	var p verify.Purged
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		p, err = tx.PurgeEnded(ctx(t), at(2*time.Minute), 100)
		return err
	})
	equal(t, p, verify.Purged{Verifications: 2, Events: 2, Jobs: 2, Deliveries: 2, Calls: 3}, "purged")
	for _, v := range []verify.Verification{old, oldB} {
		if !gone(t, s, v) {
			t.Errorf("%s ended before the cut and is still there", v.ID)
		}
	}
	for _, v := range []verify.Verification{hook, running, pending, recent} {
		if gone(t, s, v) {
			t.Errorf("%s was purged: in flight or recent", v.ID)
		}
	}
	// The stray call before the cut is gone, the later one is not.
	n := 0
	mustTx(t, s, func(tx verify.Tx) error {
		q, err := tx.PurgeEnded(ctx(t), at(2*time.Minute), 100)
		n = q.Total()
		return err
	})
	equal(t, n, 0, "second purge with the same cut")
	mustTx(t, s, func(tx verify.Tx) error {
		if _, err := tx.CallByCarrierID(ctx(t), "sim", "stray_old"); err == nil {
			t.Error("an unclaimed call from before the cut survived")
		}
		_, err := tx.CallByCarrierID(ctx(t), "sim", "stray_new")
		return err
	})
}

func testPurgeEndedBatch(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	for _, id := range []string{"vf_1", "vf_2", "vf_3"} {
		insertVerifications(t, s, ended(newVerification(id, "app_a", "+44770090000"+id[3:]), verify.StatusExpired))
	}
	left := 3
	for i := range 4 {
		var p verify.Purged
		mustTx(t, s, func(tx verify.Tx) error {
			var err error
			p, err = tx.PurgeEnded(ctx(t), at(time.Hour), 1)
			return err
		})
		want := min(1, left)
		if p.Verifications != want {
			t.Fatalf("purge %d with limit 1 deleted %d verifications, want %d", i, p.Verifications, want)
		}
		left -= want
	}
	vs, err := s.Verifications(ctx(t), verify.ListFilter{Tenant: verify.LiveTenant("app_a"), Limit: 10})
	check(t, err, "Verifications")
	equal(t, len(vs), 0, "verifications left")
}

func testErasePhone(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	const who = "+447700900001"
	done := ended(newVerification("vf_done", "app_a", who), verify.StatusVerified)
	done.CreatedAt, done.UpdatedAt, done.CompletedAt = at(-time.Hour), at(-time.Hour), at(-time.Hour)
	pending := newVerification("vf_pend", "app_a", who)
	otherApp := newVerification("vf_b", "app_b", who)
	otherPhone := newVerification("vf_other", "app_a", "+447700900002")
	withRows(t, s, done, verify.JobSent, verify.DeliveryDelivered)
	withRows(t, s, pending, verify.JobPending, verify.DeliveryPending)
	withRows(t, s, otherApp, verify.JobPending, verify.DeliveryPending)
	withRows(t, s, otherPhone, verify.JobPending, verify.DeliveryPending)
	mustTx(t, s, func(tx verify.Tx) error {
		return tx.InsertCall(ctx(t), verify.Call{ID: "call_nomatch", Carrier: "sim", From: who, To: "+442079460000", AppID: "app_a", Outcome: verify.CallNoMatch, ReceivedAt: t0})
	})

	var p verify.Purged
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		p, err = tx.ErasePhone(ctx(t), "app_a", who)
		return err
	})
	equal(t, p, verify.Purged{Verifications: 2, Events: 2, Jobs: 2, Deliveries: 2, Calls: 3}, "erased")
	for _, v := range []verify.Verification{done, pending} {
		if !gone(t, s, v) {
			t.Errorf("%s of the erased number is still there", v.ID)
		}
	}
	for _, v := range []verify.Verification{otherApp, otherPhone} {
		if gone(t, s, v) {
			t.Errorf("%s was erased: another app or another number", v.ID)
		}
	}
	// The pending verification is gone, so the number can start again.
	insertVerifications(t, s, newVerification("vf_again", "app_a", who))
}

// Nodes purging at once (every node runs the loop) delete each
// verification once, all of them, without failing.
func testPurgeEndedConcurrent(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	const n = 60
	for i := range n {
		withRows(t, s, ended(newVerification(fmt.Sprintf("vf_%02d", i), "app_a", fmt.Sprintf("+4477009%05d", i)), verify.StatusExpired), verify.JobSent, verify.DeliveryDelivered)
	}
	var mu sync.Mutex
	var total verify.Purged
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				var p verify.Purged
				err := s.Tx(ctx(t), func(tx verify.Tx) error {
					var err error
					p, err = tx.PurgeEnded(ctx(t), at(time.Hour), 7)
					return err
				})
				if err != nil {
					t.Errorf("concurrent PurgeEnded: %v", err)
					return
				}
				mu.Lock()
				total.Verifications += p.Verifications
				total.Events += p.Events
				total.Calls += p.Calls
				mu.Unlock()
				if p.Verifications == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	// A node that found every row locked by others stops early; one more
	// pass finds what is left.
	mustTx(t, s, func(tx verify.Tx) error {
		p, err := tx.PurgeEnded(ctx(t), at(time.Hour), n)
		total.Verifications += p.Verifications
		total.Events += p.Events
		total.Calls += p.Calls
		return err
	})
	equal(t, total, verify.Purged{Verifications: n, Events: n, Calls: n}, "deleted in all")
}
