package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// SealingStore is a store that seals app secrets at rest.
type SealingStore interface {
	Store
	SealSecrets(ctx context.Context, serverSecret []byte) (int, error)
}

// SealedAtRest checks sealing of webhook secrets on a new, empty store:
// a clear secret written before sealing is sealed by SealSecrets (the
// migration), secrets written after are stored sealed, every read path
// (App, Apps, APIKeyByHash, ClaimDeliveries) returns them clear, and the
// database column (raw) never holds them. A store opened with another
// server secret refuses to start (SealSecrets fails).
func SealedAtRest(t *testing.T, s SealingStore, raw func(appID string) string, reopen func(serverSecret []byte) error) {
	key := []byte(strings.Repeat("k", 32))
	old := newApp("app_old")
	mustTx(t, s, func(tx verify.Tx) error {
		if err := tx.InsertApp(ctx(t), old); err != nil {
			return err
		}
		return tx.InsertAPIKey(ctx(t), verify.APIKey{ID: "key_old", AppID: "app_old", Hash: "hash_old", Prefix: "rg_live_old", Kind: verify.KeyLive, CreatedAt: t0})
	})
	if got := raw("app_old"); got != old.WebhookSecret {
		t.Fatalf("before sealing the column holds %q, want the clear secret", got)
	}
	n, err := s.SealSecrets(ctx(t), key)
	if err != nil || n != 1 {
		t.Fatalf("SealSecrets = %d, %v; want 1 sealed", n, err)
	}
	if n, err := s.SealSecrets(ctx(t), key); err != nil || n != 0 {
		t.Fatalf("SealSecrets again = %d, %v; want 0", n, err)
	}
	fresh := newApp("app_new")
	mustTx(t, s, func(tx verify.Tx) error { return tx.InsertApp(ctx(t), fresh) })
	rotated := newApp("app_old")
	rotated.WebhookSecret = "whsec_rotated_after_sealing"
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateApp(ctx(t), rotated) })
	for id, want := range map[string]string{"app_old": rotated.WebhookSecret, "app_new": fresh.WebhookSecret} {
		if col := raw(id); strings.Contains(col, want) || !strings.HasPrefix(col, "sealed:") {
			t.Errorf("%s: the column holds %q, want it sealed", id, col)
		}
		a, err := s.App(ctx(t), id)
		if err != nil || a.WebhookSecret != want {
			t.Errorf("App(%s).WebhookSecret = %q, %v; want %q", id, a.WebhookSecret, err, want)
		}
	}
	if _, a, err := s.APIKeyByHash(ctx(t), "hash_old"); err != nil || a.WebhookSecret != rotated.WebhookSecret {
		t.Errorf("APIKeyByHash's app secret = %q, %v", a.WebhookSecret, err)
	}
	apps, err := s.Apps(ctx(t))
	if err != nil || len(apps) != 2 {
		t.Fatalf("Apps = %v, %v", apps, err)
	}
	for _, a := range apps {
		if !strings.HasPrefix(a.WebhookSecret, "whsec_") {
			t.Errorf("Apps: %s secret %q", a.ID, a.WebhookSecret)
		}
	}
	insertDeliveries(t, s, newDelivery("msg_sealed", "app_new", "vf_1", t0))
	claimed := claim(t, s, t0, time.Minute, 10)
	if len(claimed) != 1 || claimed[0].Secret != fresh.WebhookSecret {
		t.Errorf("ClaimDeliveries = %+v; want the clear secret %q", claimed, fresh.WebhookSecret)
	}
	if reopen != nil {
		if err := reopen([]byte(strings.Repeat("x", 32))); err == nil {
			t.Errorf("SealSecrets with another server secret succeeded; want an error (the sealed secrets cannot be opened)")
		}
	}
}
