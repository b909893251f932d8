package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

func wantCode(t *testing.T, err error, code verify.Code, what string) {
	t.Helper()
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Code != code {
		t.Fatalf("%s: error %v, want code %s", what, err, code)
	}
}

// A key with an expiry works until it and is refused from then on, on the
// service's clock, against a real SQLite store.
func TestKeyExpiryEnforcedAtAuth(t *testing.T) {
	t.Parallel()
	f := setupOutbound(t, nil)
	exp := f.clock.now().Add(2 * time.Minute)
	k, secret, err := f.op.CreateKey(t.Context(), verify.LiveTenant("app_t"), verify.NewKeyRequest{Scope: verify.ScopeVerify, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, verify.LiveKeyPrefix) || k.Prefix != secret[:12] || k.Hash != verify.HashAPIKey(secret) {
		t.Fatalf("created key %+v does not match its secret %q", k, secret)
	}
	c, err := f.svc.Authenticate(t.Context(), secret)
	if err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	if c.Key.Scope != verify.ScopeVerify || !c.Key.ExpiresAt.Equal(exp) {
		t.Fatalf("authenticated key %+v, want scope verify expiring %v", c.Key, exp)
	}
	f.clock.add(2*time.Minute - time.Millisecond)
	if _, err := f.svc.Authenticate(t.Context(), secret); err != nil {
		t.Fatalf("a millisecond before expiry: %v", err)
	}
	f.clock.add(time.Millisecond)
	_, err = f.svc.Authenticate(t.Context(), secret)
	wantCode(t, err, verify.CodeUnauthorized, "at expiry")
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("the refusal does not say the key expired: %v", err)
	}
	// An expiry less than a minute away is refused at creation.
	soon := f.clock.now().Add(30 * time.Second)
	_, _, err = f.op.CreateKey(t.Context(), verify.LiveTenant("app_t"), verify.NewKeyRequest{Scope: verify.ScopeAdmin, ExpiresAt: &soon})
	wantCode(t, err, verify.CodeInvalid, "expiry 30s away")
}

// Key use is written at most once per TouchEvery however many requests.
func TestKeyUseWrittenAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	f := setupOutbound(t, nil)
	_, secret, err := f.op.CreateKey(t.Context(), verify.LiveTenant("app_t"), verify.NewKeyRequest{Scope: verify.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		ks, err := f.op.Keys(t.Context(), verify.LiveTenant("app_t"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if k.Hash == verify.HashAPIKey(secret) {
				return k.LastUsedAt
			}
		}
		t.Fatal("key not listed")
		return time.Time{}
	}
	first := f.clock.now()
	for range 20 {
		if _, err := f.svc.Authenticate(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		f.clock.add(time.Second)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("after 20 uses within 20s LastUsedAt = %v, want the first use %v", got, first)
	}
	f.clock.add(time.Minute)
	if _, err := f.svc.Authenticate(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(f.clock.now()) {
		t.Fatalf("a minute later LastUsedAt = %v, want %v", got, f.clock.now())
	}
}

// The app keeps one active admin key; a key may revoke itself when another
// admin key exists; revocation and creation are audited with the actor.
func TestRevokeKeepsOneAdminAndAudits(t *testing.T) {
	t.Parallel()
	f := setupOutbound(t, nil)
	ctx := verify.WithActor(t.Context(), verify.KeyActor(f.caller.Key))
	_, err := f.op.RevokeKey(ctx, verify.LiveTenant("app_t"), f.caller.Key.ID)
	wantCode(t, err, verify.CodeConflict, "revoking the last admin key")
	vk, _, err := f.op.CreateKey(ctx, verify.LiveTenant("app_t"), verify.NewKeyRequest{Scope: verify.ScopeVerify})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.op.RevokeKey(ctx, verify.LiveTenant("app_t"), f.caller.Key.ID)
	wantCode(t, err, verify.CodeConflict, "a verify key is not an admin key")
	ak, _, err := f.op.CreateKey(ctx, verify.LiveTenant("app_t"), verify.NewKeyRequest{Scope: verify.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.op.RevokeKey(ctx, verify.LiveTenant("app_t"), f.caller.Key.ID); err != nil {
		t.Fatalf("revoking the own key with another admin key: %v", err)
	}
	_, err = f.op.RevokeKey(ctx, verify.LiveTenant("app_t"), f.caller.Key.ID)
	wantCode(t, err, verify.CodeNotFound, "revoking twice")
	_, err = f.op.RevokeKey(ctx, verify.LiveTenant("app_other"), vk.ID)
	wantCode(t, err, verify.CodeNotFound, "revoking through another app")
	_, err = f.op.RevokeKey(ctx, verify.LiveTenant("app_t"), ak.ID)
	wantCode(t, err, verify.CodeConflict, "revoking the new last admin key")

	es, next, err := f.op.Audit(t.Context(), verify.AuditFilter{Tenant: verify.LiveTenant("app_t")})
	if err != nil || next != "" {
		t.Fatalf("audit: %v, next %q", err, next)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Target+" by "+e.Actor)
	}
	actor := "key:" + f.caller.Key.ID
	want := []string{
		verify.AuditKeyRevoked + " " + f.caller.Key.ID + " by " + actor,
		verify.AuditKeyCreated + " " + ak.ID + " by " + actor,
		verify.AuditKeyCreated + " " + vk.ID + " by " + actor,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log (refused actions must leave nothing):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if verify.ActorOf(context.Background()) != "system" {
		t.Fatal("no actor in the context must read as system")
	}
}

// A client token reads its own verification only, and stops an hour after
// the verification ends.
func TestClientTokenBoundAndShortLived(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.start(t, "+14155552671")
	b := f.start(t, "+14155552672")
	ta, tb := f.svc.ViewOf(a, true).ClientToken, f.svc.ViewOf(b, true).ClientToken
	if ta == "" || ta == tb {
		t.Fatalf("client tokens %q and %q: want two different tokens", ta, tb)
	}
	if _, err := f.svc.ClientView(t.Context(), a.ID, ta); err != nil {
		t.Fatalf("own token: %v", err)
	}
	_, err := f.svc.ClientView(t.Context(), b.ID, ta)
	wantCode(t, err, verify.CodeUnauthorized, "A's token on B")
	_, err = f.svc.ClientView(t.Context(), "vf_missing", ta)
	wantCode(t, err, verify.CodeUnauthorized, "a token on an unknown id (same answer as a wrong token)")
	// Its last character changed ("A" was the same token whenever it ended
	// in "A": one run in 64 failed).
	swap := "A"
	if strings.HasSuffix(ta, swap) {
		swap = "B"
	}
	_, err = f.svc.ClientView(t.Context(), a.ID, ta[:len(ta)-1]+swap)
	wantCode(t, err, verify.CodeUnauthorized, "a tampered token")
	_, err = f.svc.ClientView(t.Context(), a.ID, "")
	wantCode(t, err, verify.CodeUnauthorized, "no token")

	if _, err := f.svc.Cancel(t.Context(), verify.LiveTenant("app_t"), a.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.add(verify.ClientTokenLifetime - time.Second)
	if _, err := f.svc.ClientView(t.Context(), a.ID, ta); err != nil {
		t.Fatalf("just under an hour after the end: %v", err)
	}
	f.clock.add(2 * time.Second)
	_, err = f.svc.ClientView(t.Context(), a.ID, ta)
	wantCode(t, err, verify.CodeUnauthorized, "over an hour after the end")
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("the refusal does not say the token expired: %v", err)
	}
}

// Dev mode re-installs its pinned key at every start (EnsureApp); a key the
// app has revoked since stays revoked and does not stop the start.
func TestEnsureAppKeepsRevocation(t *testing.T) {
	t.Parallel()
	f := setupOutbound(t, nil)
	pinned := verify.NewAPIKey(verify.KeyLive)
	app := verify.NewApp{ID: "app_t", Name: "Shop", DefaultCallbackURL: "https://example.com/hook", APIKeys: []string{pinned}}
	if _, err := f.op.EnsureApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Authenticate(t.Context(), pinned)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.op.RevokeKey(t.Context(), verify.LiveTenant("app_t"), c.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.op.EnsureApp(t.Context(), app); err != nil {
		t.Fatalf("EnsureApp after revoking its key: %v", err)
	}
	_, err = f.svc.Authenticate(t.Context(), pinned)
	wantCode(t, err, verify.CodeUnauthorized, "the revoked pinned key after EnsureApp")
}

// Pool changes are audited with who made them (the console here); a refused
// change leaves nothing.
func TestPoolChangesAudited(t *testing.T) {
	t.Parallel()
	f := setupOutbound(t, nil)
	ctx := verify.WithActor(t.Context(), verify.ConsoleActor)
	if _, err := f.op.AddNumber(ctx, "app_t", "+12025550177", "US"); err != nil {
		t.Fatal(err)
	}
	_, err := f.op.AddNumber(ctx, "app_t", "+12025550177", "US")
	wantCode(t, err, verify.CodeConflict, "adding a number twice")
	if err := f.op.RemoveNumber(ctx, "app_t", "+12025550177"); err != nil {
		t.Fatal(err)
	}
	es, _, err := f.op.Audit(t.Context(), verify.AuditFilter{Tenant: verify.LiveTenant("app_t")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Target+" by "+e.Actor)
	}
	want := []string{
		verify.AuditNumberRemoved + " +12025550177 by console",
		verify.AuditNumberAdded + " +12025550177 by console",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
