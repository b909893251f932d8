package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/store/sqldb"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/store/storetest"
	"github.com/ringgate/ringgate/internal/verify"
)

func open(t testing.TB, path string) *sqldb.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := open(t, filepath.Join(t.TempDir(), "ringgate.db"))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		// As the server runs it: webhook secrets sealed at rest.
		if _, err := s.SealSecrets(t.Context(), []byte("conformance-server-secret-32byte")); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	app := verify.App{ID: "app_a", Name: "A", WebhookSecret: "whsec_a"}
	s := open(t, path)
	err := s.Tx(t.Context(), func(tx verify.Tx) error { return tx.InsertApp(t.Context(), app) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.App(t.Context(), app.ID)
	if err != nil {
		t.Fatalf("App after reopening: %v", err)
	}
	if !reflect.DeepEqual(got, app) {
		t.Errorf("App after reopening = %+v, want %+v", got, app)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	s := open(t, path)
	defer s.Close()
	before := migrations(t, path)
	if before == 0 {
		t.Fatal("no migrations recorded")
	}
	for range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	s2 := open(t, path) // Open migrates too
	s2.Close()
	if after := migrations(t, path); after != before {
		t.Errorf("schema_migrations has %d rows after migrating again, want %d", after, before)
	}
}

// migrations counts schema_migrations rows through a connection of its own.
func migrations(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	s := open(t, path)
	defer s.Close()
	// journal_mode is a property of the file: any connection sees it.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	// Foreign keys are enforced: a verification of a missing app is refused.
	err = s.Tx(t.Context(), func(tx verify.Tx) error {
		return tx.InsertVerification(t.Context(), verify.Verification{ID: "vf_1", AppID: "app_missing", Status: verify.StatusPending})
	})
	if err == nil {
		t.Error("InsertVerification of a missing app: no error (foreign_keys off?)")
	} else if errors.Is(err, verify.ErrConflict) {
		t.Errorf("InsertVerification of a missing app: %v, not a conflict", err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x?mode=memory", "a?b.db"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", path)
		}
	}
}

// TestTwoStoresOneFile stands for two processes on one database (the server
// and a CLI command): their transactions still exclude each other, through
// SQLite's file lock and busy_timeout rather than the Go-side queue.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	a, b := open(t, path), open(t, path)
	defer a.Close()
	defer b.Close()
	now := time.Now()
	err := a.Tx(t.Context(), func(tx verify.Tx) error {
		if err := tx.InsertApp(t.Context(), verify.App{ID: "app_a", Name: "A", WebhookSecret: "whsec_a", CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertVerification(t.Context(), verify.Verification{
			ID: "vf_1", AppID: "app_a", Phone: "+447700900001", Channel: verify.ChannelMissedCall,
			Status: verify.StatusPending, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Minute),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore)
	for _, s := range []*sqldb.Store{a, b} {
		for range perStore {
			wg.Go(func() {
				errs <- s.Tx(t.Context(), func(tx verify.Tx) error {
					v, err := tx.LockVerification(t.Context(), "vf_1")
					if err != nil {
						return err
					}
					v.Attempts++
					return tx.UpdateVerification(t.Context(), v)
				})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("increment: %v", err)
		}
	}
	v, err := b.Verification(t.Context(), "vf_1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Attempts != 2*perStore {
		t.Errorf("Attempts = %d, want %d", v.Attempts, 2*perStore)
	}
}

// BenchmarkInsertVerificationTx is the write path of a start request: one
// transaction that looks for a pending verification, reads the pool, and
// inserts the verification and its event. Run in parallel, it measures how
// well the single writer queue holds up under concurrent starts.
func BenchmarkInsertVerificationTx(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	ctx := b.Context()
	now := time.Now()
	err := s.Tx(ctx, func(tx verify.Tx) error {
		if err := tx.InsertApp(ctx, verify.App{ID: "app_bench", Name: "bench", WebhookSecret: "whsec_b", CreatedAt: now}); err != nil {
			return err
		}
		for i := range 5 {
			n := verify.Number{AppID: "app_bench", Number: fmt.Sprintf("+44207946000%d", i), Country: "GB", CreatedAt: now}
			if err := tx.InsertNumber(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := startTx(ctx, s, seq.Add(1), now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func startTx(ctx context.Context, s *sqldb.Store, n int64, now time.Time) error {
	phone := fmt.Sprintf("+4477%09d", n)
	return s.Tx(ctx, func(tx verify.Tx) error {
		if _, err := tx.PendingVerification(ctx, "app_bench", phone); !errors.Is(err, verify.ErrNotFound) {
			return fmt.Errorf("pending verification: %v", err)
		}
		pool, err := tx.PoolNumbers(ctx, "app_bench", "GB")
		if err != nil || len(pool) == 0 {
			return fmt.Errorf("pool numbers: %d, %v", len(pool), err)
		}
		v := verify.Verification{
			ID: verify.NewID("vf_"), AppID: "app_bench", Phone: phone, Country: "GB",
			Channel: verify.ChannelMissedCall, Status: verify.StatusPending, DialNumber: pool[n%int64(len(pool))].Number,
			CallbackURL: "https://cb.example/hook", Metadata: map[string]string{"order": "42"},
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(3 * time.Minute),
		}
		if err := tx.InsertVerification(ctx, v); err != nil {
			return err
		}
		e := verify.Event{VerificationID: v.ID, AppID: v.AppID, Type: verify.EventCreated, Payload: []byte(`{"type":"verification.created"}`), CreatedAt: now}
		return tx.InsertEvent(ctx, &e)
	})
}

// Webhook secrets are sealed at rest, including those of a database from
// before sealing; the files are 0600.
func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringgate.db")
	s := open(t, path)
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := func(id string) string {
		var v string
		if err := db.QueryRow(`SELECT webhook_secret FROM apps WHERE id = ?`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	storetest.SealedAtRest(t, s, raw, func(secret []byte) error {
		o := open(t, path)
		t.Cleanup(func() { o.Close() })
		_, err := o.SealSecrets(t.Context(), secret)
		return err
	})
}
