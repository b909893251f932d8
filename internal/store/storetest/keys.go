package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// testKeyLifecycle covers scope, expiry and last-use round trips, listing,
// revocation and the cheap last-used update.
func testKeyLifecycle(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	admin := verify.APIKey{ID: "key_1", AppID: "app_a", Hash: "h-admin", Prefix: "rg_live_adm", Kind: verify.KeyLive,
		Scope: verify.ScopeAdmin, CreatedAt: t0}
	scoped := verify.APIKey{ID: "key_2", AppID: "app_a", Hash: "h-verify", Prefix: "rg_live_ver", Kind: verify.KeyTest,
		Scope: verify.ScopeVerify, CreatedAt: at(time.Second), ExpiresAt: at(time.Hour), LastUsedAt: at(2 * time.Second)}
	other := verify.APIKey{ID: "key_3", AppID: "app_b", Hash: "h-other", Prefix: "rg_live_oth", Kind: verify.KeyLive,
		Scope: verify.ScopeAdmin, CreatedAt: t0}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, k := range []verify.APIKey{admin, scoped, other} {
			check(t, tx.InsertAPIKey(ctx(t), k), "InsertAPIKey "+k.ID)
		}
		return nil
	})
	got, _, err := s.APIKeyByHash(ctx(t), scoped.Hash)
	check(t, err, "APIKeyByHash")
	equal(t, got, scoped, "APIKeyByHash keeps scope, expiry and last use")

	keys, err := s.APIKeys(ctx(t), "app_a")
	check(t, err, "APIKeys")
	equal(t, keys, []verify.APIKey{admin, scoped}, "APIKeys of app_a, oldest first, not app_b's")
	keys, err = s.APIKeys(ctx(t), "app_none")
	check(t, err, "APIKeys of an app without keys")
	equal(t, len(keys), 0, "APIKeys of an app without keys")

	// Revoking needs the right app; a second revocation finds nothing.
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.RevokeAPIKey(ctx(t), "app_b", admin.ID, at(time.Minute)) })
	wantErr(t, err, verify.ErrNotFound, "RevokeAPIKey through another app")
	mustTx(t, s, func(tx verify.Tx) error { return tx.RevokeAPIKey(ctx(t), "app_a", admin.ID, at(time.Minute)) })
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.RevokeAPIKey(ctx(t), "app_a", admin.ID, at(2*time.Minute)) })
	wantErr(t, err, verify.ErrNotFound, "RevokeAPIKey of a revoked key")
	_, _, err = s.APIKeyByHash(ctx(t), admin.Hash)
	wantErr(t, err, verify.ErrNotFound, "APIKeyByHash of the revoked key")
	keys, err = s.APIKeys(ctx(t), "app_a")
	check(t, err, "APIKeys after revoking")
	revoked := admin
	revoked.RevokedAt = at(time.Minute)
	equal(t, keys, []verify.APIKey{revoked, scoped}, "APIKeys lists the revoked key with its time")

	// TouchAPIKey writes only when the stored time is not after notAfter,
	// so a burst of requests costs one write.
	mustTx(t, s, func(tx verify.Tx) error {
		return tx.TouchAPIKey(ctx(t), scoped.ID, at(10*time.Minute), at(9*time.Minute))
	})
	mustTx(t, s, func(tx verify.Tx) error {
		return tx.TouchAPIKey(ctx(t), scoped.ID, at(10*time.Minute+time.Second), at(9*time.Minute+time.Second))
	})
	got, _, err = s.APIKeyByHash(ctx(t), scoped.Hash)
	check(t, err, "APIKeyByHash after touches")
	equal(t, got.LastUsedAt, at(10*time.Minute), "LastUsedAt after a touch and a too-early second touch")
	mustTx(t, s, func(tx verify.Tx) error { return tx.TouchAPIKey(ctx(t), "key_missing", at(0), at(0)) })
}

func testAudit(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	entry := func(id, app, action string, d time.Duration) verify.AuditEntry {
		return verify.AuditEntry{ID: id, AppID: app, At: at(d), Actor: "key:key_1", Action: action, Target: "app_a",
			Detail: json.RawMessage(`{"fields":["sms_sender"]}`)}
	}
	es := []verify.AuditEntry{
		entry("aud_0001", "app_a", verify.AuditSettingsUpdated, 0),
		entry("aud_0002", "app_a", verify.AuditKeyCreated, time.Second),
		entry("aud_0003", "app_b", verify.AuditKeyCreated, 2*time.Second),
		entry("aud_0004", "app_a", verify.AuditKeyRevoked, 3*time.Second),
	}
	es[1].Detail = nil // stored as {}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, e := range es {
			check(t, tx.InsertAudit(ctx(t), e), "InsertAudit "+e.ID)
		}
		wantErr(t, tx.InsertAudit(ctx(t), es[0]), verify.ErrConflict, "InsertAudit of an existing id")
		return nil
	})
	got, err := s.AuditEntries(ctx(t), verify.AuditFilter{Tenant: verify.LiveTenant("app_a")})
	check(t, err, "AuditEntries")
	want := []verify.AuditEntry{es[3], es[1], es[0]}
	want[1].Detail = json.RawMessage(`{}`)
	equal(t, got, want, "AuditEntries of app_a, newest first")

	got, err = s.AuditEntries(ctx(t), verify.AuditFilter{Tenant: verify.LiveTenant("app_a"), BeforeID: "aud_0004", Limit: 1})
	check(t, err, "AuditEntries page")
	equal(t, ids(got, func(e verify.AuditEntry) string { return e.ID }), []string{"aud_0002"}, "AuditEntries after a cursor, limit 1")
	got, err = s.AuditEntries(ctx(t), verify.AuditFilter{Tenant: verify.LiveTenant("app_a"), Action: verify.AuditKeyCreated})
	check(t, err, "AuditEntries by action")
	equal(t, ids(got, func(e verify.AuditEntry) string { return e.ID }), []string{"aud_0002"}, "AuditEntries by action")
	got, err = s.AuditEntries(ctx(t), verify.AuditFilter{})
	check(t, err, "AuditEntries without an app")
	equal(t, len(got), 0, "AuditEntries without an app matches no app")

	// An entry written in a rolled-back transaction is gone with it.
	_ = s.Tx(ctx(t), func(tx verify.Tx) error {
		check(t, tx.InsertAudit(ctx(t), entry("aud_0009", "app_a", verify.AuditKeyRevoked, time.Hour)), "InsertAudit")
		return verify.ErrConflict
	})
	got, err = s.AuditEntries(ctx(t), verify.AuditFilter{Tenant: verify.LiveTenant("app_a"), Limit: 1})
	check(t, err, "AuditEntries after rollback")
	equal(t, got[0].ID, "aud_0004", "newest entry after a rolled-back insert")
}
