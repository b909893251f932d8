package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/ringgate/ringgate/internal/verify"
)

// A webhook secret sealed at rest by the store before it used
// internal/seal (commit 39ae5b7), under the server secret below and bound
// to app_golden; the same vector is in internal/seal's tests. A database
// written then must still open after the upgrade.
const (
	goldenSealedSecret = "sealed:v1:bv7sEAFjEAMG59qQP3PHKes0J59MCdwuRHmfjrE66rsOEL5okmdnO5mjx5gBBt3EWrMYnbp7vUD7vn5ohBI3wZ2n"
	goldenClearSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

func TestSealedSecretFromBefore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	s := open(t, path)
	t.Cleanup(func() { s.Close() })
	// Without a key the store keeps a value that is already sealed as it
	// is: this writes the old sealed bytes into the column unchanged.
	for _, id := range []string{"app_golden", "app_moved"} {
		app := verify.App{ID: id, Name: id, WebhookSecret: goldenSealedSecret}
		if err := s.Tx(t.Context(), func(tx verify.Tx) error { return tx.InsertApp(t.Context(), app) }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SealSecrets(t.Context(), []byte("ringgate golden vector secret, 32+ bytes long")); err == nil {
		t.Fatal("SealSecrets accepted a sealed secret moved to another app")
	}
	if err := s.Tx(t.Context(), func(tx verify.Tx) error {
		return tx.UpdateApp(t.Context(), verify.App{ID: "app_moved", Name: "app_moved", WebhookSecret: "whsec_other"})
	}); err != nil {
		t.Fatal(err)
	}
	n, err := s.SealSecrets(t.Context(), []byte("ringgate golden vector secret, 32+ bytes long"))
	if err != nil || n != 1 {
		t.Fatalf("SealSecrets = %d, %v; want the old sealed secret to open and the clear one sealed", n, err)
	}
	a, err := s.App(t.Context(), "app_golden")
	if err != nil || a.WebhookSecret != goldenClearSecret {
		t.Fatalf("App(app_golden).WebhookSecret = %q, %v; want %q", a.WebhookSecret, err, goldenClearSecret)
	}
}
