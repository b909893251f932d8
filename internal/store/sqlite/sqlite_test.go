package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

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
	if got != app {
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
