package sqlite_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/store/sqldb"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/store/storetest"
)

// before0010 is the SQLite dialect with the migrations before 0010 only: a
// database as the previous release left it.
type before0010 struct{ sqldb.Dialect }

func (d before0010) Migrations() fs.FS {
	return filteredFS{d.Dialect.Migrations(), func(name string) bool { return name < "0010" }}
}

type filteredFS struct {
	fs.FS
	keep func(string) bool
}

func (f filteredFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(f.FS, name)
	var out []fs.DirEntry
	for _, e := range ents {
		if f.keep(e.Name()) {
			out = append(out, e)
		}
	}
	return out, err
}

// Migration 0010 on a database with rows: a delivery's due_at becomes the
// later of its next attempt and its lease, counters keep their values (the
// SQLite table is rebuilt with its shard column), and the rebuilt indexes
// serve the same queries.
func TestMigration0010KeepsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenDialect(ctx, path, before0010{sqlite.Dialect{}})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO apps (id, name, default_callback_url, webhook_secret, created_at, settings) VALUES ('app_a', 'A', '', 'whsec_x', 0, '{}')`,
		`INSERT INTO webhook_deliveries (id, app_id, type, url, payload, status, next_attempt_at, lease_until, created_at)
			VALUES ('msg_leased', 'app_a', 't', 'u', '{}', 'pending', 1000, 5000, 0),
			       ('msg_retry', 'app_a', 't', 'u', '{}', 'pending', 7000, 0, 0)`,
		`INSERT INTO counters (key, win_start, value, expires_at) VALUES ('rl|app_a|app|3600|app_a', 0, 42, 99999999999)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.50s: %v", q, err)
		}
	}
	s, err := sqlite.Open(ctx, path) // applies 0010
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[string]int64{"msg_leased": 5000, "msg_retry": 7000} {
		var due int64
		if err := db.QueryRow(`SELECT due_at FROM webhook_deliveries WHERE id = ?`, id).Scan(&due); err != nil || due != want {
			t.Errorf("%s: due_at %d, %v; want %d", id, due, err, want)
		}
	}
	if n, err := s.Counter(ctx, "rl|app_a|app|3600|app_a", time.UnixMilli(0).UTC()); err != nil || n != 42 {
		t.Errorf("counter after 0010: %d, %v; want 42", n, err)
	}
	var idx string
	if err := db.QueryRow(`SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('webhook_deliveries', 'counters', 'verifications') ORDER BY name)`).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"webhook_deliveries_due_at", "counters_expiry", "verifications_caller", "verifications_expiry"} {
		if !strings.Contains(idx, want) {
			t.Errorf("indexes after 0010: %s; want %s", idx, want)
		}
	}
	if strings.Contains(idx, "webhook_deliveries_due,") {
		t.Errorf("the old due index is still there: %s", idx)
	}
}

// Migration 0011 keeps what existing apps receive per verifying call.
func TestMigration0011KeepsBothForOldApps(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Migration0011(t, func(q string) error { _, err := db.Exec(q); return err }, func() storetest.Store {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
