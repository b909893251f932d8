package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

func newDelivery(id, appID, verificationID string, next time.Time) verify.Delivery {
	return verify.Delivery{
		ID: id, AppID: appID, VerificationID: verificationID, EventID: 7, Type: verify.EventVerified,
		URL: "https://cb.example/" + id, Payload: []byte(`{"type":"verification.verified","id":"` + id + `"}`),
		Status: verify.DeliveryPending, NextAttemptAt: next, CreatedAt: t0,
	}
}

func insertDeliveries(t *testing.T, s Store, ds ...verify.Delivery) {
	t.Helper()
	mustTx(t, s, func(tx verify.Tx) error {
		for _, d := range ds {
			if err := tx.InsertDelivery(ctx(t), d); err != nil {
				return err
			}
		}
		return nil
	})
}

func getDelivery(t *testing.T, s Store, appID, id string) verify.Delivery {
	t.Helper()
	d, err := s.Delivery(ctx(t), verify.LiveTenant(appID), id)
	check(t, err, "Delivery "+id)
	return d
}

func claim(t *testing.T, s Store, now time.Time, lease time.Duration, limit int) []webhook.Claimed {
	t.Helper()
	got, err := s.ClaimDeliveries(ctx(t), now, lease, limit)
	check(t, err, "ClaimDeliveries")
	return got
}

func claimedIDs(cs []webhook.Claimed) []string {
	return ids(cs, func(c webhook.Claimed) string { return c.ID })
}

func settle(t *testing.T, s Store, c webhook.Claimed, a webhook.Attempt) {
	t.Helper()
	check(t, s.SettleDelivery(ctx(t), c, a), "SettleDelivery "+c.ID)
}

func testDeliveries(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	var all []verify.Delivery
	for i := 1; i <= 7; i++ {
		app, vid := "app_a", "vf_1"
		if i%3 == 0 {
			app, vid = "app_b", "vf_9"
		}
		if i%2 == 0 {
			vid = "vf_2"
		}
		all = append(all, newDelivery(seqID("msg_", i), app, vid, at(time.Duration(i)*time.Second)))
	}
	// Every field set, on a delivery that was tried and failed for good.
	full := &all[3]
	full.Status, full.Attempts, full.LastStatusCode, full.LastError = verify.DeliveryFailed, 8, 502, "bad gateway"
	full.DeliveredAt = at(time.Hour) // delivered once, then re-queued and failed
	all[4].Status, all[4].Attempts, all[4].LastStatusCode, all[4].DeliveredAt = verify.DeliveryDelivered, 1, 204, at(time.Minute)
	insertDeliveries(t, s, all...)

	for _, want := range all {
		equal(t, getDelivery(t, s, want.AppID, want.ID), want, "Delivery "+want.ID)
	}
	_, err := s.Delivery(ctx(t), verify.LiveTenant("app_b"), all[0].ID)
	wantErr(t, err, verify.ErrNotFound, "Delivery of another app")
	_, err = s.Delivery(ctx(t), verify.LiveTenant("app_a"), "msg_missing")
	wantErr(t, err, verify.ErrNotFound, "Delivery of a missing id")
	err = s.Tx(ctx(t), func(tx verify.Tx) error {
		return tx.InsertDelivery(ctx(t), newDelivery(all[0].ID, "app_a", "vf_1", t0))
	})
	wantErr(t, err, verify.ErrConflict, "InsertDelivery of an existing id")

	list := func(f verify.DeliveryFilter) []string {
		t.Helper()
		got, err := s.Deliveries(ctx(t), f)
		check(t, err, "Deliveries")
		return ids(got, func(d verify.Delivery) string { return d.ID })
	}
	// app_a: 1 2 4 5 7; app_b: 3 6.
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a")}), []string{"msg_0007", "msg_0005", "msg_0004", "msg_0002", "msg_0001"}, "app_a newest first")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_b")}), []string{"msg_0006", "msg_0003"}, "app_b")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), Status: verify.DeliveryPending}), []string{"msg_0007", "msg_0002", "msg_0001"}, "status filter")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), VerificationID: "vf_2"}), []string{"msg_0004", "msg_0002"}, "verification filter")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), Limit: 2}), []string{"msg_0007", "msg_0005"}, "first page")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "msg_0005", Limit: 2}), []string{"msg_0004", "msg_0002"}, "second page")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "msg_0002", Limit: 2}), []string{"msg_0001"}, "last page")
	equal(t, len(list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "msg_0001", Limit: 2})), 0, "past the last page")
	equal(t, list(verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), Status: verify.DeliveryPending, BeforeID: "msg_0007"}), []string{"msg_0002", "msg_0001"}, "cursor with a filter")

	got, err := s.Deliveries(ctx(t), verify.DeliveryFilter{Tenant: verify.LiveTenant("app_a"), Status: verify.DeliveryFailed})
	check(t, err, "Deliveries")
	equal(t, got, []verify.Delivery{*full}, "listed delivery, every field")
}

func testRequeueDelivery(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	failed := newDelivery("msg_1", "app_a", "vf_1", t0)
	failed.Status, failed.Attempts, failed.LastStatusCode, failed.LastError = verify.DeliveryFailed, 5, 500, "boom"
	leased := newDelivery("msg_2", "app_a", "vf_1", t0)
	insertDeliveries(t, s, failed, leased)

	requeue := func(appID, id string, when time.Time) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error { return tx.RequeueDelivery(ctx(t), verify.LiveTenant(appID), id, when) })
	}
	check(t, requeue("app_a", failed.ID, at(time.Minute)), "RequeueDelivery")
	want := failed
	want.Status, want.NextAttemptAt = verify.DeliveryPending, at(time.Minute)
	equal(t, getDelivery(t, s, "app_a", failed.ID), want, "requeued delivery keeps attempts, id and last outcome")
	equal(t, claimedIDs(claim(t, s, at(59*time.Second), time.Minute, 10)), []string{leased.ID}, "claim before the requeued time")
	equal(t, claimedIDs(claim(t, s, at(time.Minute), time.Minute, 10)), []string{failed.ID}, "claim at the requeued time")

	wantErr(t, requeue("app_b", failed.ID, t0), verify.ErrNotFound, "RequeueDelivery of another app's delivery")
	wantErr(t, requeue("app_a", "msg_missing", t0), verify.ErrNotFound, "RequeueDelivery of a missing id")

	// Requeueing ends a lease: the delivery is claimable at once, and the
	// old holder's settle changes nothing.
	// Everything in the same millisecond with the same lease length, so a
	// store that identified claims by now+lease alone would mix them up.
	held := claim(t, s, at(2*time.Minute), time.Hour, 10)
	equal(t, claimedIDs(held), []string{leased.ID, failed.ID}, "claim after both leases ran out")
	check(t, requeue("app_a", leased.ID, at(2*time.Minute)), "RequeueDelivery of a leased delivery")
	again := claim(t, s, at(2*time.Minute), time.Hour, 10)
	equal(t, claimedIDs(again), []string{leased.ID}, "claim right after requeueing a leased delivery")
	if again[0].LeaseUntil.Equal(held[0].LeaseUntil) {
		t.Errorf("two claims of %s share the lease %v", leased.ID, held[0].LeaseUntil)
	}
	settle(t, s, held[0], webhook.Attempt{At: at(2 * time.Minute), Status: verify.DeliveryFailed, StatusCode: 410, Error: "gone"})
	d := getDelivery(t, s, "app_a", leased.ID)
	if d.Status != verify.DeliveryPending || d.Attempts != 0 || d.LastStatusCode != 0 {
		t.Errorf("settle by the holder before the requeue changed the delivery: %+v", d)
	}
	settle(t, s, again[0], webhook.Attempt{At: at(2 * time.Minute), Status: verify.DeliveryDelivered, StatusCode: 200})
	d = getDelivery(t, s, "app_a", leased.ID)
	if d.Status != verify.DeliveryDelivered || d.Attempts != 1 {
		t.Errorf("settle by the current holder: %+v", d)
	}
}

func testClaimDeliveries(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	p1 := newDelivery("msg_1", "app_a", "vf_1", at(-2*time.Second))
	p2 := newDelivery("msg_2", "app_b", "vf_2", at(-time.Second))
	p3 := newDelivery("msg_3", "app_a", "vf_1", t0) // due exactly now
	p4 := newDelivery("msg_0", "app_a", "vf_1", at(time.Second))
	failed := newDelivery("msg_5", "app_a", "vf_1", at(-5*time.Second))
	failed.Status = verify.DeliveryFailed
	delivered := newDelivery("msg_6", "app_a", "vf_1", at(-5*time.Second))
	delivered.Status, delivered.DeliveredAt = verify.DeliveryDelivered, t0
	// Inserted out of due order, so the store must sort.
	insertDeliveries(t, s, p3, failed, p2, p4, delivered, p1)
	// The claim carries the app's secret as it is now, not as it was.
	mustTx(t, s, func(tx verify.Tx) error {
		a := newApp("app_a")
		a.WebhookSecret = "whsec_rotated"
		return tx.UpdateApp(ctx(t), a)
	})

	got := claim(t, s, t0, 30*time.Second, 10)
	leased := func(d verify.Delivery) verify.Delivery { d.LeaseUntil = at(30 * time.Second); return d }
	want := []webhook.Claimed{
		{Delivery: leased(p1), Secret: "whsec_rotated"},
		{Delivery: leased(p2), Secret: "whsec_app_b"},
		{Delivery: leased(p3), Secret: "whsec_rotated"},
	}
	equal(t, got, want, "claim at t0: pending, due, oldest due first")
	equal(t, len(claim(t, s, t0, 30*time.Second, 10)), 0, "claim again while leased")
	equal(t, claimedIDs(claim(t, s, at(time.Second), 30*time.Second, 10)), []string{p4.ID}, "claim at 1s: the newly due one only")
	equal(t, len(claim(t, s, at(30*time.Second-time.Millisecond), 30*time.Second, 10)), 0, "claim just before the lease ends")
	again := claim(t, s, at(30*time.Second), time.Minute, 10)
	equal(t, claimedIDs(again), []string{p1.ID, p2.ID, p3.ID}, "claim once the lease ended")
	equal(t, again[0].LeaseUntil, at(90*time.Second), "new lease")
	equal(t, getDelivery(t, s, "app_a", p1.ID), p1, "claiming changes no visible field")

	equal(t, len(claim(t, s, at(time.Hour), time.Minute, 0)), 0, "claim with limit 0")
	if _, err := s.ClaimDeliveries(ctx(t), at(time.Hour), 0, 10); err == nil {
		t.Error("ClaimDeliveries with a zero lease: no error")
	}
}

func testClaimLimit(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	var ds []verify.Delivery
	for i := 5; i >= 1; i-- {
		ds = append(ds, newDelivery(seqID("msg_", 10-i), "app_a", "vf_1", at(-time.Duration(i)*time.Second)))
	}
	insertDeliveries(t, s, ds...)
	equal(t, claimedIDs(claim(t, s, t0, time.Minute, 2)), []string{"msg_0005", "msg_0006"}, "first two")
	equal(t, claimedIDs(claim(t, s, t0, time.Minute, 2)), []string{"msg_0007", "msg_0008"}, "next two")
	equal(t, claimedIDs(claim(t, s, t0, time.Minute, 2)), []string{"msg_0009"}, "the last")
	equal(t, len(claim(t, s, t0, time.Minute, 2)), 0, "none left")
}

func testClaimConcurrent(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	const n = 40
	var ds []verify.Delivery
	for i := range n {
		ds = append(ds, newDelivery(seqID("msg_", i), "app_a", "vf_1", at(-time.Duration(n-i)*time.Millisecond)))
	}
	insertDeliveries(t, s, ds...)

	held := make([][]string, 4)
	errs := parallel(len(held), func(w int) error {
		// Bounded, so a store that hands deliveries out twice fails
		// rather than hangs.
		for range n + 1 {
			got, err := s.ClaimDeliveries(ctx(t), t0, time.Minute, 3)
			if err != nil || len(got) == 0 {
				return err
			}
			for _, c := range got {
				held[w] = append(held[w], c.ID)
			}
		}
		return errors.New("claimer still finds deliveries after more claims than there are deliveries")
	})
	seen := map[string]int{}
	for w, err := range errs {
		check(t, err, "claimer")
		for _, id := range held[w] {
			if prev, dup := seen[id]; dup {
				t.Errorf("%s held by claimers %d and %d at once", id, prev, w)
			}
			seen[id] = w
		}
	}
	equal(t, len(seen), n, "deliveries claimed")
	// Every claimer died: the leases run out and the deliveries come back.
	equal(t, len(claim(t, s, at(time.Minute), time.Minute, 100)), n, "deliveries claimed after the leases ran out")
}

func testSettleDelivery(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	d := newDelivery("msg_1", "app_a", "vf_1", t0)
	insertDeliveries(t, s, d)

	c := claim(t, s, t0, 30*time.Second, 1)[0]
	settle(t, s, c, webhook.Attempt{At: at(time.Second), Status: verify.DeliveryPending, NextAttemptAt: at(5 * time.Second), StatusCode: 503, Error: "unavailable"})
	want := d
	want.Attempts, want.NextAttemptAt, want.LastStatusCode, want.LastError = 1, at(5*time.Second), 503, "unavailable"
	equal(t, getDelivery(t, s, "app_a", d.ID), want, "after a failed attempt to retry")
	equal(t, len(claim(t, s, at(4*time.Second), 30*time.Second, 1)), 0, "claim before the next attempt")
	// Settling ended the 30 s lease: the retry is claimable at 5 s.
	c = claim(t, s, at(5*time.Second), 30*time.Second, 1)[0]

	settle(t, s, c, webhook.Attempt{At: at(6 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
	want.Status, want.Attempts, want.LastStatusCode, want.LastError = verify.DeliveryDelivered, 2, 200, ""
	want.NextAttemptAt, want.DeliveredAt = time.Time{}, at(6*time.Second)
	equal(t, getDelivery(t, s, "app_a", d.ID), want, "after delivery")
	equal(t, len(claim(t, s, at(time.Hour), time.Minute, 10)), 0, "claim of a delivered delivery")

	f := newDelivery("msg_2", "app_a", "vf_1", t0)
	insertDeliveries(t, s, f)
	c = claim(t, s, t0, time.Minute, 10)[0]
	settle(t, s, c, webhook.Attempt{At: at(time.Second), Status: verify.DeliveryFailed, StatusCode: 410, Error: "gone"})
	wantF := f
	wantF.Status, wantF.Attempts, wantF.LastStatusCode, wantF.LastError, wantF.NextAttemptAt = verify.DeliveryFailed, 1, 410, "gone", time.Time{}
	equal(t, getDelivery(t, s, "app_a", f.ID), wantF, "after giving up")
	equal(t, len(claim(t, s, at(time.Hour), time.Minute, 10)), 0, "claim of a failed delivery")

	// A settle only counts under the lease it claimed: once settled, the
	// same claim cannot settle again.
	settle(t, s, c, webhook.Attempt{At: at(2 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
	equal(t, getDelivery(t, s, "app_a", f.ID), wantF, "after settling the same claim twice")
}

func testSettleStaleLease(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	d := newDelivery("msg_1", "app_a", "vf_1", t0)
	insertDeliveries(t, s, d)

	first := claim(t, s, t0, 10*time.Second, 1)[0]
	// The first holder stalls past its lease; another node claims.
	second := claim(t, s, at(10*time.Second), 10*time.Second, 1)
	if len(second) != 1 {
		t.Fatalf("claim after the lease ran out: %d deliveries", len(second))
	}
	settle(t, s, first, webhook.Attempt{At: at(11 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
	equal(t, getDelivery(t, s, "app_a", d.ID), d, "after a settle under a stale lease")
	equal(t, len(claim(t, s, at(11*time.Second), 10*time.Second, 1)), 0, "claim while the second holds it")

	settle(t, s, second[0], webhook.Attempt{At: at(12 * time.Second), Status: verify.DeliveryFailed, StatusCode: 400, Error: "bad request"})
	got := getDelivery(t, s, "app_a", d.ID)
	if got.Status != verify.DeliveryFailed || got.Attempts != 1 || got.LastStatusCode != 400 {
		t.Errorf("after the current holder settled: %+v", got)
	}
}

// SettleDeliveries (webhook.BatchOutbox) settles each attempt as
// SettleDelivery would, in one call: a retry, a delivery, a failure, and a
// claim whose lease is no longer the row's, which changes nothing.
func testSettleDeliveries(t *testing.T, s Store) {
	bs, ok := s.(webhook.BatchOutbox)
	if !ok {
		t.Skip("the store settles one delivery at a time")
	}
	insertApps(t, s, "app_a")
	ds := []verify.Delivery{
		newDelivery("msg_1", "app_a", "vf_1", t0), newDelivery("msg_2", "app_a", "vf_1", t0),
		newDelivery("msg_3", "app_a", "vf_1", t0), newDelivery("msg_4", "app_a", "vf_1", t0),
	}
	insertDeliveries(t, s, ds...)
	cs := claim(t, s, t0, 30*time.Second, 4)
	equal(t, claimedIDs(cs), []string{"msg_1", "msg_2", "msg_3", "msg_4"}, "claimed")
	stale := cs[3]
	stale.LeaseUntil = stale.LeaseUntil.Add(-time.Millisecond)
	err := bs.SettleDeliveries(ctx(t), []webhook.Settlement{
		{Claimed: cs[0], Attempt: webhook.Attempt{At: at(time.Second), Status: verify.DeliveryPending, NextAttemptAt: at(5 * time.Second), StatusCode: 503, Error: "unavailable"}},
		{Claimed: cs[1], Attempt: webhook.Attempt{At: at(2 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200}},
		{Claimed: cs[2], Attempt: webhook.Attempt{At: at(3 * time.Second), Status: verify.DeliveryFailed, StatusCode: 410, Error: "gone"}},
		{Claimed: stale, Attempt: webhook.Attempt{At: at(4 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200}},
	})
	check(t, err, "SettleDeliveries")
	w := ds[0]
	w.Attempts, w.NextAttemptAt, w.LastStatusCode, w.LastError = 1, at(5*time.Second), 503, "unavailable"
	equal(t, getDelivery(t, s, "app_a", "msg_1"), w, "a retry")
	w = ds[1]
	w.Status, w.Attempts, w.LastStatusCode, w.NextAttemptAt, w.DeliveredAt = verify.DeliveryDelivered, 1, 200, time.Time{}, at(2*time.Second)
	equal(t, getDelivery(t, s, "app_a", "msg_2"), w, "a delivery")
	w = ds[2]
	w.Status, w.Attempts, w.LastStatusCode, w.LastError, w.NextAttemptAt = verify.DeliveryFailed, 1, 410, "gone", time.Time{}
	equal(t, getDelivery(t, s, "app_a", "msg_3"), w, "a failure")
	equal(t, getDelivery(t, s, "app_a", "msg_4"), ds[3], "a settle under a lease that is not the row's")
	// The retry is due at 5 s and the stale one stays leased until its
	// claim's lease ends; nothing else is claimable again.
	equal(t, claimedIDs(claim(t, s, at(5*time.Second), 30*time.Second, 10)), []string{"msg_1"}, "claim at 5 s")
	equal(t, claimedIDs(claim(t, s, at(30*time.Second), 30*time.Second, 10)), []string{"msg_4"}, "claim after the lease")
	check(t, bs.SettleDeliveries(ctx(t), nil), "SettleDeliveries of nothing")
}

func testNextDeliveryDue(t *testing.T, s Store) {
	due := func() (time.Time, bool) {
		t.Helper()
		at, ok, err := s.NextDeliveryDue(ctx(t))
		check(t, err, "NextDeliveryDue")
		return at, ok
	}
	if _, ok := due(); ok {
		t.Error("NextDeliveryDue ok with no deliveries")
	}
	insertApps(t, s, "app_a")
	p1 := newDelivery("msg_1", "app_a", "vf_1", at(5*time.Second))
	p2 := newDelivery("msg_2", "app_a", "vf_1", at(3*time.Second))
	failed := newDelivery("msg_3", "app_a", "vf_1", at(time.Second))
	failed.Status = verify.DeliveryFailed
	delivered := newDelivery("msg_4", "app_a", "vf_1", at(time.Second))
	delivered.Status = verify.DeliveryDelivered
	insertDeliveries(t, s, p1, p2, failed, delivered)

	next, ok := due()
	equal(t, ok, true, "NextDeliveryDue ok")
	equal(t, next, at(3*time.Second), "earliest pending")

	c2 := claim(t, s, at(3*time.Second), 10*time.Second, 1)
	next, _ = due()
	equal(t, next, at(5*time.Second), "a leased delivery counts at its lease end (13s), so p1 (5s) is next")
	c1 := claim(t, s, at(5*time.Second), 10*time.Second, 1)
	next, _ = due()
	equal(t, next, at(13*time.Second), "both leased: the earlier lease end")

	settle(t, s, c2[0], webhook.Attempt{At: at(6 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
	next, _ = due()
	equal(t, next, at(15*time.Second), "after one settled")
	settle(t, s, c1[0], webhook.Attempt{At: at(6 * time.Second), Status: verify.DeliveryFailed, StatusCode: 400})
	if at, ok := due(); ok {
		t.Errorf("NextDeliveryDue = %v with none pending", at)
	}
}

// A delivery queued leased (handed to the queuing node's dispatcher,
// verify.Config.DeliveryLease) is nobody else's until its lease ends: no
// claim takes it, the next-due time is the lease's end, and the lease it
// was queued with settles it. A node that dies holding one loses it when
// the lease ends, and the next claim takes it under a new lease.
func testHandedDelivery(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	ho, ok := s.(webhook.HandOffOutbox)
	if !ok {
		t.Fatal("the store is not a webhook.HandOffOutbox")
	}
	secrets, err := ho.WebhookSecrets(ctx(t), []string{"app_a", "app_gone"})
	check(t, err, "WebhookSecrets")
	if want := newApp("app_a").WebhookSecret; secrets["app_a"] != want || len(secrets) != 1 {
		t.Errorf("WebhookSecrets = %v, want app_a's %q alone", secrets, want)
	}

	kept, lost := newDelivery("msg_kept", "app_a", "vf_1", t0), newDelivery("msg_lost", "app_a", "vf_1", t0)
	kept.LeaseUntil, lost.LeaseUntil = at(30*time.Second), at(30*time.Second)
	// One as the service writes it (with its event, through Deferred: on
	// PostgreSQL one held-back statement), one alone.
	insertDeliveries(t, s, kept)
	mustTx(t, s, func(tx verify.Tx) error {
		if err := tx.InsertVerification(ctx(t), newVerification("vf_1", "app_a", "+447700900001")); err != nil {
			return err
		}
		e := verify.Event{VerificationID: "vf_1", AppID: "app_a", Type: verify.EventVerified, Payload: []byte(`{}`), CreatedAt: t0}
		return tx.Deferred().InsertEventDelivery(ctx(t), &e, lost)
	})
	equal(t, len(claim(t, s, at(29*time.Second), 10*time.Second, 10)), 0, "claim while the handed leases run")
	next, ok, err := s.NextDeliveryDue(ctx(t))
	check(t, err, "NextDeliveryDue")
	if !ok || !next.Equal(at(30*time.Second)) {
		t.Errorf("NextDeliveryDue = %v %v, want the leases' end %v", next, ok, at(30*time.Second))
	}

	settle(t, s, webhook.Claimed{Delivery: kept},
		webhook.Attempt{At: at(time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
	if got := getDelivery(t, s, "app_a", kept.ID); got.Status != verify.DeliveryDelivered || got.Attempts != 1 {
		t.Errorf("handed delivery after its settle: %+v", got)
	}

	again := claim(t, s, at(30*time.Second), 10*time.Second, 10)
	equal(t, claimedIDs(again), []string{lost.ID}, "claim once the lost hand-off's lease ended")
	if len(again) == 1 {
		if !again[0].LeaseUntil.After(lost.LeaseUntil) {
			t.Errorf("new lease %v is not after the handed one %v", again[0].LeaseUntil, lost.LeaseUntil)
		}
		// The node that lost it comes back and settles: nothing changes.
		settle(t, s, webhook.Claimed{Delivery: lost},
			webhook.Attempt{At: at(31 * time.Second), Status: verify.DeliveryDelivered, StatusCode: 200})
		if got := getDelivery(t, s, "app_a", lost.ID); got.Status != verify.DeliveryPending || got.Attempts != 0 {
			t.Errorf("settled under the lapsed handed lease: %+v", got)
		}
	}
}
