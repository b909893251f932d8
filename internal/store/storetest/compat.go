package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/verify"
)

// The compatible APIs' records (issue 17), for stores that keep them.

var compatTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"CompatCredentials", testCompatCredentials},
	{"CompatTwilio", testCompatTwilio},
	{"CompatOTPCallbacks", testCompatOTPCallbacks},
}

func compatStore(t *testing.T, s Store) compat.Store {
	cs, ok := s.(compat.Store)
	if !ok {
		t.Skip("this store keeps no compat records")
	}
	return cs
}

func testCompatCredentials(t *testing.T, s Store) {
	cs := compatStore(t, s)
	insertApps(t, s, "app_a", "app_b")
	a := compat.NewCredentials("app_a", compat.Pins{})
	rec := compat.Record{
		VonageSignatureSecret: a.VonageSignatureSecret, VonageStatusURL: "https://a.example/status",
		AppID: "app_a", TwilioAccountSID: a.TwilioAccountSID, TwilioAuthTokenHash: compat.HashSecret(a.TwilioAuthToken),
		TwilioKeySID: a.TwilioKeySID, TwilioKeySecretHash: compat.HashSecret(a.TwilioKeySecret),
		VonageAPIKey: a.VonageAPIKey, VonageSecretHash: compat.HashSecret(a.VonageAPISecret), VonageAppID: a.VonageAppID,
		CreatedAt: t0, UpdatedAt: t0,
	}
	check(t, cs.PutCompatCredentials(ctx(t), rec), "PutCompatCredentials")
	for name, get := range map[string]func() (compat.Record, error){
		"app":     func() (compat.Record, error) { return cs.CompatCredentials(ctx(t), "app_a") },
		"account": func() (compat.Record, error) { return cs.CompatCredentialsByTwilioAccount(ctx(t), a.TwilioAccountSID) },
		"key":     func() (compat.Record, error) { return cs.CompatCredentialsByTwilioKey(ctx(t), a.TwilioKeySID) },
		"vonage":  func() (compat.Record, error) { return cs.CompatCredentialsByVonageKey(ctx(t), a.VonageAPIKey) },
		"jwt app": func() (compat.Record, error) { return cs.CompatCredentialsByVonageApp(ctx(t), a.VonageAppID) },
	} {
		got, err := get()
		if err != nil || got != rec {
			t.Fatalf("by %s: %v\n got %+v\nwant %+v", name, err, got, rec)
		}
	}
	// Another app cannot take app_a's Account SID.
	b := rec
	b.AppID, b.TwilioKeySID, b.VonageAPIKey, b.VonageAppID = "app_b", compat.NewSID("SK"), "0badc0de", compat.NewUUID()
	wantErr(t, cs.PutCompatCredentials(ctx(t), b), verify.ErrConflict, "PutCompatCredentials with another app's Account SID")
	// A rotation replaces the secrets and keeps the public key.
	check(t, cs.SetVonagePublicKey(ctx(t), "app_a", "PEM", at(time.Second)), "SetVonagePublicKey")
	n := compat.NewCredentials("app_a", compat.Pins{})
	rec2 := rec
	rec2.TwilioAccountSID, rec2.TwilioAuthTokenHash, rec2.UpdatedAt = n.TwilioAccountSID, compat.HashSecret(n.TwilioAuthToken), at(time.Minute)
	check(t, cs.PutCompatCredentials(ctx(t), rec2), "PutCompatCredentials again")
	got, err := cs.CompatCredentials(ctx(t), "app_a")
	if err != nil || got.TwilioAccountSID != n.TwilioAccountSID || got.VonagePublicKey != "PEM" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after rotation: %v %+v", err, got)
	}
	if _, err := cs.CompatCredentialsByTwilioAccount(ctx(t), a.TwilioAccountSID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("the old Account SID still found: %v", err)
	}
}

func testCompatTwilio(t *testing.T, s Store) {
	cs := compatStore(t, s)
	insertApps(t, s, "app_a", "app_b")
	svc := compat.Service{SID: compat.NewSID("VA"), AppID: "app_a", FriendlyName: "A", CodeLength: 6, CreatedAt: t0, UpdatedAt: t0}
	check(t, cs.InsertTwilioService(ctx(t), svc), "InsertTwilioService")
	if got, err := cs.TwilioService(ctx(t), "app_a", svc.SID); err != nil || got != svc {
		t.Fatalf("TwilioService: %v %+v", err, got)
	}
	if _, err := cs.TwilioService(ctx(t), "app_b", svc.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("another app's Service: %v", err)
	}
	v1 := compat.TwilioVerification{SID: compat.NewSID("VE"), ServiceSID: svc.SID, AppID: "app_a", VerificationID: "vf_1", To: "+447700900001",
		Channel: "sms", SendAttempts: []compat.SendAttempt{{AttemptSID: compat.NewSID("VL"), Channel: "sms", Time: t0}}, CreatedAt: t0, UpdatedAt: t0}
	v2 := v1
	v2.SID, v2.VerificationID, v2.CreatedAt, v2.UpdatedAt = compat.NewSID("VE"), "vf_2", at(time.Second), at(time.Second)
	check(t, cs.InsertTwilioVerification(ctx(t), v1), "InsertTwilioVerification")
	check(t, cs.InsertTwilioVerification(ctx(t), v2), "InsertTwilioVerification")
	if got, err := cs.LatestTwilioVerification(ctx(t), "app_a", svc.SID, v1.To); err != nil || got.SID != v2.SID {
		t.Fatalf("latest: %v %+v", err, got)
	}
	v1.VerificationID, v1.UpdatedAt = "vf_3", at(time.Minute)
	v1.SendAttempts = append(v1.SendAttempts, compat.SendAttempt{AttemptSID: compat.NewSID("VL"), Channel: "call", Time: at(time.Minute)})
	check(t, cs.UpdateTwilioVerification(ctx(t), v1), "UpdateTwilioVerification")
	got, err := cs.TwilioVerification(ctx(t), "app_a", svc.SID, v1.SID)
	if err != nil || got.VerificationID != "vf_3" || len(got.SendAttempts) != 2 || !got.SendAttempts[1].Time.Equal(at(time.Minute)) {
		t.Fatalf("after update: %v %+v", err, got)
	}
	if _, err := cs.TwilioVerification(ctx(t), "app_b", svc.SID, v1.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("another app's Verification: %v", err)
	}
	r := compat.VonageRequest{RequestID: compat.NewUUID(), AppID: "app_a", VerificationID: "vf_4", CreatedAt: t0}
	check(t, cs.InsertVonageRequest(ctx(t), r), "InsertVonageRequest")
	if got, err := cs.VonageRequest(ctx(t), "app_a", r.RequestID); err != nil || got != r {
		t.Fatalf("VonageRequest: %v %+v", err, got)
	}
	if _, err := cs.VonageRequest(ctx(t), "app_b", r.RequestID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("another app's request: %v", err)
	}
}

// Callbacks are due once their verification ended, and one claim wins.
func testCompatOTPCallbacks(t *testing.T, s Store) {
	cs := compatStore(t, s)
	insertApps(t, s, "app_a")
	pending := newVerification("vf_p", "app_a", "+447700900010")
	done := ended(newVerification("vf_d", "app_a", "+447700900011"), verify.StatusExpired)
	insertVerifications(t, s, pending, done)
	for _, v := range []verify.Verification{pending, done} {
		check(t, cs.InsertCallback(ctx(t), compat.Callback{ID: "otp_" + v.ID, Kind: compat.KindOTPAPI, AppID: "app_a", VerificationID: v.ID,
			CallbackURL: "https://cb.example/", State: compat.CallbackPending, NextAttemptAt: t0, CreatedAt: t0}), "InsertCallback")
	}
	due, err := cs.DueCallbacks(ctx(t), at(time.Second), 10)
	if err != nil || len(due) != 1 || due[0].VerificationID != "vf_d" {
		t.Fatalf("due: %v %+v", err, due)
	}
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			ok, err := cs.ClaimCallback(ctx(t), due[0].ID, due[0].NextAttemptAt, at(time.Hour))
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d claims won, want 1", wins)
	}
	if due, _ := cs.DueCallbacks(ctx(t), at(time.Second), 10); len(due) != 0 {
		t.Fatalf("a claimed callback is due again within its lease: %+v", due)
	}
	r := due0(t, cs)
	r.State, r.Attempts = compat.CallbackDelivered, 1
	check(t, cs.SettleCallback(ctx(t), r), "SettleCallback")
	if due, _ := cs.DueCallbacks(ctx(t), at(2*time.Hour), 10); len(due) != 0 {
		t.Fatalf("a delivered callback is due: %+v", due)
	}
}

func due0(t *testing.T, cs compat.Store) compat.Callback {
	t.Helper()
	due, err := cs.DueCallbacks(ctx(t), at(2*time.Hour), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due after the lease: %v %+v", err, due)
	}
	return due[0]
}
