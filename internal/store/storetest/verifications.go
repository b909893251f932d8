package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

func testVerificationRoundTrip(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	full := verify.Verification{
		ID: "vf_full", AppID: "app_a", Phone: "+447700900123", Country: "GB",
		Channel: verify.ChannelMissedCall, Status: verify.StatusPending, Reason: verify.ReasonNone,
		DialNumber: "+442079460000", CallbackURL: "https://cb.example/full",
		Metadata: map[string]string{"order": "1234", "note": "ünïcode \"quoted\""},
		Sandbox:  true, Attempts: 3, IdempotencyKey: "idem-1", RequestHash: "rh-1",
		CreatedAt: t0, UpdatedAt: at(time.Second), ExpiresAt: at(3 * time.Minute),
		Workflow: []verify.Step{
			{Channel: verify.ChannelFlashCall, Timeout: time.Minute, CodeLength: 4, RingTimeout: 10 * time.Second},
			{Channel: verify.ChannelSMSOTP, Timeout: 90500 * time.Millisecond, CodeLength: 6},
		},
		Step: 1, CodeHash: "c0de", CodeLength: 6, CLIPrefix: "+44207946", CLIFilter: `^\+44207946\d{4}$`,
		CallerID: "+442079460001", Locale: "pt-BR", VerifiedChannel: verify.ChannelSMSOTP,
	}
	done := verify.Verification{
		ID: "vf_done", AppID: "app_a", Phone: "+447700900124", Country: "GB",
		Channel: verify.ChannelFlashCall, Status: verify.StatusFailed, Reason: verify.ReasonMaxAttempts,
		CreatedAt: t0, UpdatedAt: at(time.Minute), ExpiresAt: at(2 * time.Minute), CompletedAt: at(time.Minute),
	}
	// Sub-millisecond digits and another zone: kept to the millisecond, read
	// back in UTC.
	zoned := newVerification("vf_zoned", "app_a", "+447700900125")
	zoned.CreatedAt = t0.Add(456_789 * time.Nanosecond).In(time.FixedZone("X", 5*3600+1800))
	insertVerifications(t, s, full, done, zoned)

	wantZoned := zoned
	wantZoned.CreatedAt = t0
	for _, want := range []verify.Verification{full, done, wantZoned} {
		equal(t, getVerification(t, s, want.ID), want, "Verification "+want.ID)
	}
	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.Verification(ctx(t), full.ID)
		check(t, err, "Verification in Tx")
		equal(t, got, full, "Verification in Tx")
		got, err = tx.LockVerification(ctx(t), done.ID)
		check(t, err, "LockVerification")
		equal(t, got, done, "LockVerification")
		_, err = tx.LockVerification(ctx(t), "vf_missing")
		wantErr(t, err, verify.ErrNotFound, "LockVerification of a missing id")
		return nil
	})
	_, err := s.Verification(ctx(t), "vf_missing")
	wantErr(t, err, verify.ErrNotFound, "Verification of a missing id")
	if got := getVerification(t, s, done.ID); len(got.Metadata) != 0 || !got.CompletedAt.Equal(at(time.Minute)) {
		t.Errorf("terminal verification: metadata %v, completed %v", got.Metadata, got.CompletedAt)
	}
	if got := getVerification(t, s, full.ID); !got.CompletedAt.IsZero() {
		t.Errorf("pending verification: CompletedAt %v, want zero", got.CompletedAt)
	}
}

func testUpdateVerification(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	v := newVerification("vf_1", "app_a", "+447700900001")
	v.Metadata = map[string]string{"k": "v"}
	insertVerifications(t, s, v)

	u := v
	u.Status, u.Reason, u.Attempts = verify.StatusFailed, verify.ReasonWrongCode, 4
	u.UpdatedAt, u.ExpiresAt, u.CompletedAt = at(time.Minute), at(10*time.Minute), at(time.Minute)
	// The current step's fields change as a workflow moves on.
	u.Channel, u.Step, u.DialNumber, u.CodeHash, u.CodeLength = verify.ChannelFlashCall, 2, "", "abcd", 4
	u.CLIPrefix, u.CLIFilter, u.CallerID, u.VerifiedChannel = "+4420", "^x$", "+442079460009", verify.ChannelFlashCall
	// Immutable fields: UpdateVerification must not write them.
	u.Phone, u.CallbackURL, u.RequestHash = "+10000000000", "https://evil.example", "other"
	u.Metadata, u.Sandbox, u.CreatedAt = map[string]string{"x": "y"}, true, at(time.Hour)
	u.Workflow, u.Locale = []verify.Step{{Channel: verify.ChannelSMSOTP, Timeout: time.Second}}, "fr"
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateVerification(ctx(t), u) })

	want := v
	want.Status, want.Reason, want.Attempts = u.Status, u.Reason, u.Attempts
	want.UpdatedAt, want.ExpiresAt, want.CompletedAt = u.UpdatedAt, u.ExpiresAt, u.CompletedAt
	want.Channel, want.Step, want.DialNumber, want.CodeHash, want.CodeLength = u.Channel, u.Step, u.DialNumber, u.CodeHash, u.CodeLength
	want.CLIPrefix, want.CLIFilter, want.CallerID, want.VerifiedChannel = u.CLIPrefix, u.CLIFilter, u.CallerID, u.VerifiedChannel
	equal(t, getVerification(t, s, v.ID), want, "after UpdateVerification")

	err := s.Tx(ctx(t), func(tx verify.Tx) error {
		return tx.UpdateVerification(ctx(t), newVerification("vf_missing", "app_a", "+447700900002"))
	})
	wantErr(t, err, verify.ErrNotFound, "UpdateVerification of a missing id")
}

func testInsertVerificationConflicts(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	const phone = "+447700900001"
	first := newVerification("vf_01", "app_a", phone)
	first.IdempotencyKey = "key-1"
	insertVerifications(t, s, first)

	insert := func(v verify.Verification) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error { return tx.InsertVerification(ctx(t), v) })
	}
	wantErr(t, insert(newVerification("vf_02", "app_a", phone)), verify.ErrConflict, "second pending for the phone")
	dupID := newVerification("vf_01", "app_a", "+447700900099")
	wantErr(t, insert(dupID), verify.ErrConflict, "existing id")
	sameKey := newVerification("vf_03", "app_a", "+447700900002")
	sameKey.IdempotencyKey = "key-1"
	wantErr(t, insert(sameKey), verify.ErrConflict, "existing idempotency key")

	check(t, insert(newVerification("vf_04", "app_b", phone)), "pending for the phone in another app")
	check(t, insert(ended(newVerification("vf_05", "app_a", phone), verify.StatusExpired)), "terminal for a phone with a pending one")
	otherKeyApp := newVerification("vf_06", "app_b", "+447700900003")
	otherKeyApp.IdempotencyKey = "key-1"
	check(t, insert(otherKeyApp), "same idempotency key in another app")
	check(t, insert(newVerification("vf_07", "app_a", "+447700900004")), "empty idempotency key")
	check(t, insert(newVerification("vf_08", "app_a", "+447700900005")), "another empty idempotency key")

	// Once the first ends, the phone may start again, but its key stays taken.
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateVerification(ctx(t), ended(first, verify.StatusVerified)) })
	check(t, insert(newVerification("vf_09", "app_a", phone)), "pending after the previous one ended")
	sameKey.ID, sameKey.Phone = "vf_10", "+447700900006"
	wantErr(t, insert(sameKey), verify.ErrConflict, "idempotency key of an ended verification")

	for _, id := range []string{"vf_02", "vf_03", "vf_10"} {
		_, err := s.Verification(ctx(t), id)
		wantErr(t, err, verify.ErrNotFound, "refused verification "+id)
	}
}

// testConflictKeepsTxUsable: the service goes on after ErrConflict inside
// one transaction (EnsureApp looks up the owner of a duplicate key), so a
// conflict must not spoil the transaction, as a raised unique violation
// does on PostgreSQL.
func testConflictKeepsTxUsable(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	key := verify.APIKey{ID: "key_1", AppID: "app_a", Hash: "h1", Prefix: "rg_live_1", Kind: verify.KeyLive, CreatedAt: t0}
	v := newVerification("vf_1", "app_a", "+447700900001")
	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.InsertAPIKey(ctx(t), key), "InsertAPIKey")
		return tx.InsertVerification(ctx(t), v)
	})
	mustTx(t, s, func(tx verify.Tx) error {
		dup := key
		dup.ID = "key_2"
		wantErr(t, tx.InsertAPIKey(ctx(t), dup), verify.ErrConflict, "duplicate key hash")
		_, owner, err := tx.APIKeyByHash(ctx(t), key.Hash)
		check(t, err, "APIKeyByHash after the conflict")
		equal(t, owner.ID, "app_a", "owner after the conflict")
		wantErr(t, tx.InsertVerification(ctx(t), newVerification("vf_2", "app_a", v.Phone)), verify.ErrConflict, "second pending")
		return tx.InsertVerification(ctx(t), newVerification("vf_3", "app_a", "+447700900003"))
	})
	getVerification(t, s, "vf_3")
}

func testPendingVerification(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	const phone = "+447700900001"
	old := ended(newVerification("vf_1", "app_a", phone), verify.StatusExpired)
	pending := newVerification("vf_2", "app_a", phone)
	elsewhere := newVerification("vf_3", "app_b", "+447700900002")
	insertVerifications(t, s, old, pending, elsewhere)

	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.PendingVerification(ctx(t), verify.LiveTenant("app_a"), phone)
		check(t, err, "PendingVerification")
		equal(t, got, pending, "PendingVerification")
		_, err = tx.PendingVerification(ctx(t), verify.LiveTenant("app_a"), elsewhere.Phone)
		wantErr(t, err, verify.ErrNotFound, "PendingVerification of another app's phone")
		_, err = tx.PendingVerification(ctx(t), verify.LiveTenant("app_b"), phone)
		wantErr(t, err, verify.ErrNotFound, "PendingVerification in an app without one")
		return tx.UpdateVerification(ctx(t), ended(pending, verify.StatusCanceled))
	})
	err := s.Tx(ctx(t), func(tx verify.Tx) error {
		_, err := tx.PendingVerification(ctx(t), verify.LiveTenant("app_a"), phone)
		return err
	})
	wantErr(t, err, verify.ErrNotFound, "PendingVerification once it ended")
}

func testVerificationByIdempotencyKey(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	keyed := ended(newVerification("vf_1", "app_a", "+447700900001"), verify.StatusVerified)
	keyed.IdempotencyKey = "idem-1"
	unkeyed := newVerification("vf_2", "app_a", "+447700900002")
	insertVerifications(t, s, keyed, unkeyed)

	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.VerificationByIdempotencyKey(ctx(t), verify.LiveTenant("app_a"), "idem-1")
		check(t, err, "VerificationByIdempotencyKey")
		equal(t, got, keyed, "VerificationByIdempotencyKey of an ended verification")
		_, err = tx.VerificationByIdempotencyKey(ctx(t), verify.LiveTenant("app_b"), "idem-1")
		wantErr(t, err, verify.ErrNotFound, "another app's key")
		_, err = tx.VerificationByIdempotencyKey(ctx(t), verify.LiveTenant("app_a"), "idem-2")
		wantErr(t, err, verify.ErrNotFound, "unknown key")
		_, err = tx.VerificationByIdempotencyKey(ctx(t), verify.LiveTenant("app_a"), "")
		wantErr(t, err, verify.ErrNotFound, "empty key, though verifications without one exist")
		return nil
	})
}

func testPendingForCaller(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b", "app_c", "app_d")
	const phone = "+447700900001"
	a := newVerification("vf_1", "app_a", phone)
	b := newVerification("vf_2", "app_b", phone)
	flash := newVerification("vf_3", "app_c", phone)
	flash.Channel = verify.ChannelFlashCall
	done := ended(newVerification("vf_4", "app_a", phone), verify.StatusVerified)
	other := newVerification("vf_5", "app_d", "+447700900002")
	insertVerifications(t, s, b, a, flash, done, other)

	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.PendingForCaller(ctx(t), phone, verify.ChannelMissedCall)
		check(t, err, "PendingForCaller")
		equal(t, sortedVerificationIDs(got), []string{"vf_1", "vf_2"}, "PendingForCaller ids")
		for _, v := range got {
			want := map[string]verify.Verification{"vf_1": a, "vf_2": b}[v.ID]
			equal(t, v, want, "PendingForCaller "+v.ID)
		}
		got, err = tx.PendingForCaller(ctx(t), "+447700900009", verify.ChannelMissedCall)
		check(t, err, "PendingForCaller of a silent phone")
		equal(t, len(got), 0, "PendingForCaller of a silent phone")

		// With the apps, after a held write (sent with them).
		check(t, tx.Deferred().InsertApp(ctx(t), newApp("app_e")), "deferred InsertApp")
		got, apps, err := tx.PendingForCallerApps(ctx(t), phone, verify.ChannelMissedCall)
		check(t, err, "PendingForCallerApps")
		equal(t, sortedVerificationIDs(got), []string{"vf_1", "vf_2"}, "PendingForCallerApps ids")
		equal(t, apps, map[string]verify.App{"app_a": newApp("app_a"), "app_b": newApp("app_b")}, "PendingForCallerApps apps")
		got, apps, err = tx.PendingForCallerApps(ctx(t), "+447700900009", verify.ChannelMissedCall)
		check(t, err, "PendingForCallerApps of a silent phone")
		equal(t, len(got)+len(apps), 0, "PendingForCallerApps of a silent phone")
		_, err = tx.App(ctx(t), "app_e")
		check(t, err, "App written before PendingForCallerApps")
		return nil
	})
}

func testVerifications(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	const p1, p2 = "+447700900001", "+447700900002"
	// Ids sort in insertion order, as verify.NewID's do; app_b's are
	// interleaved to show the app filter holds across pages.
	var all []verify.Verification
	for i := 1; i <= 9; i++ {
		app, phone := "app_a", p1
		if i%3 == 0 {
			app = "app_b"
		}
		if i%2 == 0 {
			phone = p2
		}
		v := ended(newVerification(seqID("vf_", i), app, phone), verify.StatusExpired)
		if i == 7 || i == 8 {
			v = newVerification(v.ID, app, phone) // one pending per phone
		}
		all = append(all, v)
	}
	insertVerifications(t, s, all...)

	list := func(f verify.ListFilter) []string {
		t.Helper()
		got, err := s.Verifications(ctx(t), f)
		check(t, err, "Verifications")
		return verificationIDs(got)
	}
	a := []string{"vf_0008", "vf_0007", "vf_0005", "vf_0004", "vf_0002", "vf_0001"}
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a")}), a, "app_a newest first, no limit")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), Phone: p2}), []string{"vf_0008", "vf_0004", "vf_0002"}, "phone filter")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), Status: verify.StatusPending}), []string{"vf_0008", "vf_0007"}, "status filter")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), Phone: p1, Status: verify.StatusExpired}), []string{"vf_0005", "vf_0001"}, "phone and status")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_b")}), []string{"vf_0009", "vf_0006", "vf_0003"}, "app_b")
	equal(t, len(list(verify.ListFilter{Tenant: verify.LiveTenant("app_none")})), 0, "unknown app")

	// Walk the pages: every verification exactly once, in order.
	var walked []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page := list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: cursor, Limit: 4})
		if len(page) > 4 {
			t.Fatalf("page of %d with limit 4", len(page))
		}
		if len(page) == 0 {
			break
		}
		walked = append(walked, page...)
		cursor = page[len(page)-1]
	}
	equal(t, walked, a, "pages walked with BeforeID")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "vf_0005", Limit: 2}), []string{"vf_0004", "vf_0002"}, "page before vf_0005")
	equal(t, list(verify.ListFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "vf_0005", Phone: p1}), []string{"vf_0001"}, "cursor with a filter")

	got, err := s.Verifications(ctx(t), verify.ListFilter{Tenant: verify.LiveTenant("app_a"), Limit: 1})
	check(t, err, "Verifications")
	equal(t, got, []verify.Verification{all[7]}, "listed verification, every field")
}

func testEvents(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"), newVerification("vf_2", "app_a", "+447700900002"))
	mk := func(vid, typ string, d time.Duration) verify.Event {
		return verify.Event{
			VerificationID: vid, AppID: "app_a", Type: typ, CreatedAt: at(d),
			Payload: json.RawMessage(`{"type":"` + typ + `","data":{"id":"` + vid + `"}}`),
		}
	}
	evs := []verify.Event{
		mk("vf_1", verify.EventCreated, 0), mk("vf_2", verify.EventCreated, time.Second),
		mk("vf_1", verify.EventCallReceived, 2*time.Second), mk("vf_1", verify.EventVerified, 3*time.Second),
	}
	var last int64
	for i := range evs {
		mustTx(t, s, func(tx verify.Tx) error { return tx.InsertEvent(ctx(t), &evs[i]) })
		if evs[i].ID <= last {
			t.Fatalf("event %d: ID %d, not above the previous %d", i, evs[i].ID, last)
		}
		last = evs[i].ID
	}
	events := func(vid string, after int64, limit int) []verify.Event {
		t.Helper()
		got, err := s.Events(ctx(t), vid, after, limit)
		check(t, err, "Events")
		return got
	}
	equal(t, events("vf_1", 0, 10), []verify.Event{evs[0], evs[2], evs[3]}, "Events of vf_1, oldest first")
	equal(t, events("vf_1", evs[0].ID, 10), []verify.Event{evs[2], evs[3]}, "Events after the first")
	equal(t, events("vf_1", evs[0].ID, 1), []verify.Event{evs[2]}, "Events with limit 1")
	equal(t, len(events("vf_1", evs[3].ID, 10)), 0, "Events after the last")
	equal(t, events("vf_2", 0, 10), []verify.Event{evs[1]}, "Events of vf_2")
	equal(t, len(events("vf_missing", 0, 10)), 0, "Events of an unknown verification")

	mustTx(t, s, func(tx verify.Tx) error {
		e := mk("vf_2", verify.EventExpired, 4*time.Second)
		check(t, tx.InsertEvent(ctx(t), &e), "InsertEvent")
		got, err := tx.Events(ctx(t), "vf_2", evs[1].ID, 10)
		check(t, err, "Events in Tx")
		equal(t, got, []verify.Event{e}, "Events in the inserting Tx")
		return nil
	})
}

func testCalls(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"))
	matched := verify.Call{
		ID: "call_1", Carrier: "sim", CarrierCallID: "abc", From: "+447700900001", To: "+442079460000",
		AppID: "app_a", VerificationID: "vf_1", Outcome: verify.CallVerified, SIPStatus: 603, ReceivedAt: t0,
	}
	unmatched := verify.Call{
		ID: "call_2", Carrier: "sim", CarrierCallID: "def", From: "0207 not e164", To: "+442079460000",
		Outcome: verify.CallNoMatch, SIPStatus: 486, ReceivedAt: at(time.Second),
	}
	insert := func(c verify.Call) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error { return tx.InsertCall(ctx(t), c) })
	}
	check(t, insert(matched), "InsertCall matched")
	check(t, insert(unmatched), "InsertCall unmatched")

	dup := unmatched
	dup.ID = "call_3"
	wantErr(t, insert(dup), verify.ErrConflict, "same carrier call id")
	otherCarrier := dup
	otherCarrier.Carrier = "sip:trunk-a"
	check(t, insert(otherCarrier), "same call id, another carrier")
	noID1 := verify.Call{ID: "call_4", Carrier: "sim", From: "+1", To: "+2", Outcome: verify.CallNoMatch, ReceivedAt: t0}
	noID2 := noID1
	noID2.ID = "call_5"
	check(t, insert(noID1), "call without carrier id")
	check(t, insert(noID2), "second call without carrier id")

	mustTx(t, s, func(tx verify.Tx) error {
		for _, want := range []verify.Call{matched, unmatched, otherCarrier} {
			got, err := tx.CallByCarrierID(ctx(t), want.Carrier, want.CarrierCallID)
			check(t, err, "CallByCarrierID "+want.ID)
			equal(t, got, want, "CallByCarrierID "+want.ID)
		}
		_, err := tx.CallByCarrierID(ctx(t), "sim", "zzz")
		wantErr(t, err, verify.ErrNotFound, "unknown carrier call id")
		_, err = tx.CallByCarrierID(ctx(t), "twilio", "abc")
		wantErr(t, err, verify.ErrNotFound, "call id of another carrier")
		_, err = tx.CallByCarrierID(ctx(t), "sim", "")
		wantErr(t, err, verify.ErrNotFound, "empty call id")
		return nil
	})
}

var errBoom = errors.New("boom")

func testTxRollback(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	runs := 0
	err := s.Tx(ctx(t), func(tx verify.Tx) error {
		runs++
		check(t, tx.InsertApp(ctx(t), newApp("app_b")), "InsertApp")
		v := newVerification("vf_1", "app_a", "+447700900001")
		check(t, tx.InsertVerification(ctx(t), v), "InsertVerification")
		e := verify.Event{VerificationID: v.ID, AppID: v.AppID, Type: verify.EventCreated, Payload: json.RawMessage(`{}`), CreatedAt: t0}
		check(t, tx.InsertEvent(ctx(t), &e), "InsertEvent")
		check(t, tx.InsertDelivery(ctx(t), newDelivery("msg_1", "app_a", v.ID, t0)), "InsertDelivery")
		check(t, tx.UpdateApp(ctx(t), verify.App{ID: "app_a", Name: "changed", WebhookSecret: "whsec_changed"}), "UpdateApp")
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx returned %v, want fn's error", err)
	}
	equal(t, runs, 1, "runs of fn that failed with its own error")
	_, err = s.App(ctx(t), "app_b")
	wantErr(t, err, verify.ErrNotFound, "app inserted by a failed Tx")
	_, err = s.Verification(ctx(t), "vf_1")
	wantErr(t, err, verify.ErrNotFound, "verification inserted by a failed Tx")
	evs, err := s.Events(ctx(t), "vf_1", 0, 10)
	check(t, err, "Events")
	equal(t, len(evs), 0, "events inserted by a failed Tx")
	_, err = s.Delivery(ctx(t), verify.LiveTenant("app_a"), "msg_1")
	wantErr(t, err, verify.ErrNotFound, "delivery inserted by a failed Tx")
	a, err := s.App(ctx(t), "app_a")
	check(t, err, "App")
	equal(t, a, newApp("app_a"), "app updated by a failed Tx")

	// Domain errors come back as they are, so the service can match them.
	domain := verify.Errorf(verify.CodeNotPending, "already ended")
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return domain })
	var got *verify.Error
	if !errors.As(err, &got) || got.Code != verify.CodeNotPending {
		t.Errorf("Tx returned %v, want the *verify.Error fn returned", err)
	}
	insertApps(t, s, "app_b") // the store still works after rollbacks
}

// testDeferredWrites: writes made through Tx.Deferred may be sent later,
// but reads in the transaction see them, they commit with it, and one that
// fails (a conflict, a missing row) fails the transaction with its own
// error, whichever call reports it, and nothing of the transaction
// commits.
func testDeferredWrites(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	v := newVerification("vf_1", "app_a", "+447700900001")
	mustTx(t, s, func(tx verify.Tx) error {
		later := tx.Deferred()
		check(t, later.InsertVerification(ctx(t), v), "deferred InsertVerification")
		check(t, later.InsertDelivery(ctx(t), newDelivery("msg_1", "app_a", v.ID, t0)), "deferred InsertDelivery")
		got, err := later.LockVerification(ctx(t), v.ID)
		check(t, err, "LockVerification after a deferred insert")
		equal(t, got.ID, v.ID, "verification read after a deferred insert")
		u := ended(v, verify.StatusCanceled)
		return later.UpdateVerification(ctx(t), u)
	})
	equal(t, getVerification(t, s, v.ID).Status, verify.StatusCanceled, "status after a deferred update and commit")
	_, err := s.Delivery(ctx(t), verify.LiveTenant("app_a"), "msg_1")
	check(t, err, "delivery written by a deferred insert")

	// Events, alone and with their delivery, held back or not: each has
	// its id once the transaction's next statement (or commit) returned,
	// and the delivery carries it.
	evs := make([]verify.Event, 4)
	for i := range evs {
		evs[i] = verify.Event{VerificationID: v.ID, AppID: v.AppID, Type: verify.EventCanceled, Payload: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`), CreatedAt: t0}
	}
	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.InsertEventDelivery(ctx(t), &evs[0], newDelivery("msg_2", "app_a", v.ID, t0)), "InsertEventDelivery")
		later := tx.Deferred()
		check(t, later.InsertEvent(ctx(t), &evs[1]), "deferred InsertEvent")
		check(t, later.InsertEventDelivery(ctx(t), &evs[2], newDelivery("msg_3", "app_a", v.ID, t0)), "deferred InsertEventDelivery")
		_, err := tx.App(ctx(t), "app_a")
		check(t, err, "a read after deferred events")
		return later.InsertEventDelivery(ctx(t), &evs[3], newDelivery("msg_4", "app_a", v.ID, t0))
	})
	stored, err := s.Events(ctx(t), v.ID, 0, 10)
	check(t, err, "Events")
	equal(t, ids(stored, func(e verify.Event) string { return fmt.Sprint(e.ID, string(e.Payload)) }),
		ids(evs, func(e verify.Event) string { return fmt.Sprint(e.ID, string(e.Payload)) }), "events (id and payload) as stored")
	for i, id := range map[int]string{0: "msg_2", 2: "msg_3", 3: "msg_4"} {
		d, err := s.Delivery(ctx(t), verify.LiveTenant("app_a"), id)
		check(t, err, "delivery "+id)
		equal(t, d.EventID, evs[i].ID, "event id of delivery "+id)
	}

	// Each failing write, reported by the next statement or by the commit.
	for _, c := range []struct {
		name   string
		target error
		write  func(tx verify.Tx) error
		next   bool // a statement follows the write
	}{
		{"conflict, then commit", verify.ErrConflict, func(tx verify.Tx) error {
			return tx.InsertVerification(ctx(t), newVerification("vf_1", "app_a", "+447700900009"))
		}, false},
		{"conflict, then a read", verify.ErrConflict, func(tx verify.Tx) error {
			return tx.InsertDelivery(ctx(t), newDelivery("msg_1", "app_a", v.ID, t0))
		}, true},
		{"event with a conflicting delivery, then commit", verify.ErrConflict, func(tx verify.Tx) error {
			e := verify.Event{VerificationID: v.ID, AppID: v.AppID, Type: verify.EventCanceled, Payload: json.RawMessage(`{}`), CreatedAt: t0}
			return tx.InsertEventDelivery(ctx(t), &e, newDelivery("msg_1", "app_a", v.ID, t0))
		}, false},
		{"missing row, then commit", verify.ErrNotFound, func(tx verify.Tx) error {
			return tx.UpdateVerification(ctx(t), newVerification("vf_missing", "app_a", "+447700900002"))
		}, false},
	} {
		err := s.Tx(ctx(t), func(tx verify.Tx) error {
			check(t, tx.InsertApp(ctx(t), newApp("app_b")), c.name+": InsertApp")
			if err := c.write(tx.Deferred()); err != nil {
				return err // a store that writes at once
			}
			if c.next {
				if _, err := tx.App(ctx(t), "app_a"); err != nil {
					return err
				}
				// Every later call reports it too.
				if _, err := tx.App(ctx(t), "app_a"); err == nil {
					t.Errorf("%s: a read after the failed write succeeded", c.name)
				}
			}
			return nil
		})
		wantErr(t, err, c.target, c.name)
		_, err = s.App(ctx(t), "app_b")
		wantErr(t, err, verify.ErrNotFound, c.name+": app inserted in the failed Tx")
	}
	equal(t, getVerification(t, s, v.ID).Status, verify.StatusCanceled, "status after the failed transactions")
	after, err := s.Events(ctx(t), v.ID, 0, 10)
	check(t, err, "Events")
	equal(t, len(after), len(evs), "events after the failed transactions")
}

func testTxPanic(t *testing.T, s Store) {
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Tx swallowed fn's panic")
			}
		}()
		_ = s.Tx(ctx(t), func(tx verify.Tx) error {
			check(t, tx.InsertApp(ctx(t), newApp("app_a")), "InsertApp")
			panic("fn panics")
		})
	}()
	_, err := s.App(ctx(t), "app_a")
	wantErr(t, err, verify.ErrNotFound, "app inserted by a Tx that panicked")
	// The transaction was released: another can run (on SQLite, whose one
	// writer connection would otherwise stay taken, this would hang).
	insertApps(t, s, "app_a")
}

func testTxIsolation(t *testing.T, s Store) {
	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.InsertApp(ctx(t), newApp("app_a")), "InsertApp")
		_, err := tx.App(ctx(t), "app_a")
		check(t, err, "App through the Tx that inserted it")
		_, err = s.App(ctx(t), "app_a")
		wantErr(t, err, verify.ErrNotFound, "App outside the Tx, before commit")
		return nil
	})
	_, err := s.App(ctx(t), "app_a")
	check(t, err, "App after commit")
}

func testPing(t *testing.T, s Store) {
	check(t, s.Ping(ctx(t)), "Ping")
}

func testPendingUniqueRace(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	const n, phone = 20, "+447700900001"
	errs := parallel(n, func(i int) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error {
			return tx.InsertVerification(ctx(t), newVerification(seqID("vf_", i), "app_a", phone))
		})
	})
	won := ""
	for i, err := range errs {
		switch {
		case err == nil && won != "":
			t.Errorf("both %s and %s were inserted", won, seqID("vf_", i))
		case err == nil:
			won = seqID("vf_", i)
		case !errors.Is(err, verify.ErrConflict):
			t.Errorf("insert %d: %v, want ErrConflict", i, err)
		}
	}
	if won == "" {
		t.Fatal("no insert succeeded")
	}
	mustTx(t, s, func(tx verify.Tx) error {
		got, err := tx.PendingVerification(ctx(t), verify.LiveTenant("app_a"), phone)
		check(t, err, "PendingVerification")
		equal(t, got.ID, won, "the pending verification")
		return nil
	})
	list, err := s.Verifications(ctx(t), verify.ListFilter{Tenant: verify.LiveTenant("app_a")})
	check(t, err, "Verifications")
	equal(t, len(list), 1, "verifications stored")
}

func testLockVerificationSerialises(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	insertVerifications(t, s, newVerification("vf_1", "app_a", "+447700900001"))
	const n = 20
	errs := parallel(n, func(int) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error {
			v, err := tx.LockVerification(ctx(t), "vf_1")
			if err != nil {
				return err
			}
			v.Attempts++
			time.Sleep(time.Millisecond) // widen the window a lost update needs
			return tx.UpdateVerification(ctx(t), v)
		})
	})
	for i, err := range errs {
		check(t, err, "increment "+seqID("", i))
	}
	equal(t, getVerification(t, s, "vf_1").Attempts, n, "attempts after concurrent increments")
}

func testExpiry(t *testing.T, s Store) {
	_, ok, err := s.NextExpiry(ctx(t))
	check(t, err, "NextExpiry")
	equal(t, ok, false, "NextExpiry ok with nothing pending")

	insertApps(t, s, "app_a")
	mk := func(id string, expires time.Duration) verify.Verification {
		v := newVerification(id, "app_a", "+4477009000"+id[len(id)-2:])
		v.ExpiresAt = at(expires)
		return v
	}
	v1, v2, v3 := mk("vf_01", 10*time.Second), mk("vf_02", 5*time.Second), mk("vf_03", 20*time.Second)
	gone := ended(mk("vf_04", time.Second), verify.StatusCanceled)
	insertVerifications(t, s, v1, v2, v3, gone)

	next := func() time.Time {
		t.Helper()
		at, ok, err := s.NextExpiry(ctx(t))
		check(t, err, "NextExpiry")
		if !ok {
			t.Fatal("NextExpiry: ok false with verifications pending")
		}
		return at
	}
	equal(t, next(), at(5*time.Second), "NextExpiry: earliest pending, ignoring ended ones")

	due := func(now time.Duration, limit int) []verify.Verification {
		t.Helper()
		var got []verify.Verification
		mustTx(t, s, func(tx verify.Tx) error {
			var err error
			got, err = tx.DueForExpiry(ctx(t), at(now), limit)
			return err
		})
		return got
	}
	equal(t, len(due(4*time.Second, 10)), 0, "due before the first expiry")
	got := due(10*time.Second, 10)
	equal(t, sortedVerificationIDs(got), []string{"vf_01", "vf_02"}, "due at 10s (expiry at exactly now is due)")
	for _, v := range got {
		equal(t, v, map[string]verify.Verification{"vf_01": v1, "vf_02": v2}[v.ID], "due "+v.ID)
	}
	if got := due(10*time.Second, 1); len(got) != 1 || (got[0].ID != "vf_01" && got[0].ID != "vf_02") {
		t.Errorf("due at 10s with limit 1: %v", verificationIDs(got))
	}

	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateVerification(ctx(t), ended(v2, verify.StatusExpired)) })
	equal(t, next(), at(10*time.Second), "NextExpiry after the earliest ended")
	equal(t, verificationIDs(due(10*time.Second, 10)), []string{"vf_01"}, "due after one ended")

	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.UpdateVerification(ctx(t), ended(v1, verify.StatusExpired)), "end v1")
		return tx.UpdateVerification(ctx(t), ended(v3, verify.StatusVerified))
	})
	_, ok, err = s.NextExpiry(ctx(t))
	check(t, err, "NextExpiry")
	equal(t, ok, false, "NextExpiry ok once all ended")
}

// testConcurrentSweepers: expirers on several nodes never end one
// verification twice, and together end them all.
func testConcurrentSweepers(t *testing.T, s Store) {
	insertApps(t, s, "app_a")
	const n = 30
	var vs []verify.Verification
	for i := range n {
		v := newVerification(seqID("vf_", i), "app_a", seqID("+4477009", i))
		v.ExpiresAt = at(time.Duration(i) * time.Millisecond)
		vs = append(vs, v)
	}
	insertVerifications(t, s, vs...)

	swept := make([][]string, 4)
	errs := parallel(len(swept), func(w int) error {
		for range n + 1 { // bounded: a store that hands out rows twice fails, not hangs
			var batch []string
			err := s.Tx(ctx(t), func(tx verify.Tx) error {
				batch = batch[:0]
				due, err := tx.DueForExpiry(ctx(t), at(time.Minute), 4)
				if err != nil {
					return err
				}
				for _, v := range due {
					v.Status, v.Reason, v.CompletedAt = verify.StatusExpired, verify.ReasonNotDialed, at(time.Minute)
					if err := tx.UpdateVerification(ctx(t), v); err != nil {
						return err
					}
					batch = append(batch, v.ID)
				}
				return nil
			})
			if err != nil || len(batch) == 0 {
				return err
			}
			swept[w] = append(swept[w], batch...)
		}
		return errors.New("sweeper still finds verifications after more sweeps than there are verifications")
	})
	seen := map[string]bool{}
	for w, err := range errs {
		check(t, err, "sweeper")
		for _, id := range swept[w] {
			if seen[id] {
				t.Errorf("%s expired twice", id)
			}
			seen[id] = true
		}
	}
	equal(t, len(seen), n, "verifications expired")
	_, ok, err := s.NextExpiry(ctx(t))
	check(t, err, "NextExpiry")
	equal(t, ok, false, "NextExpiry ok after the sweep")
}
