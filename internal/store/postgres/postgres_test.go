package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringgate/ringgate/internal/store/postgres"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/store/storetest"
	"github.com/ringgate/ringgate/internal/verify"
)

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return open(t, pgtest.Schema(t))
	})
}

// TestMigrateConcurrent stands for nodes starting together on an empty
// schema: the advisory lock lets one migrate, and the others find it done.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for range nodes {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	s := open(t, url)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(postgres.Dialect{}.Migrations(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("schema_migrations has %d rows, want one per migration (%d)", n, len(files))
	}
}

func TestForeignKeyIsNotConflict(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.Schema(t))
	err := s.Tx(t.Context(), func(tx verify.Tx) error {
		return tx.InsertVerification(t.Context(), verify.Verification{ID: "vf_1", AppID: "app_missing", Status: verify.StatusPending})
	})
	if err == nil {
		t.Fatal("InsertVerification of a missing app: no error")
	}
	if errors.Is(err, verify.ErrConflict) {
		t.Errorf("InsertVerification of a missing app: %v, not a conflict", err)
	}
}

// TestNotifyListen: a payload sent with Notify reaches a listener of the
// same channel, on another store of the same database; onConnect runs once
// listening.
func TestNotifyListen(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	a, b := open(t, url), open(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan string, 10)
	connected := make(chan struct{}, 10)
	done := make(chan struct{})
	channel := "rgtest_" + time.Now().Format("150405.000000")
	go func() {
		defer close(done)
		b.Listen(ctx, channel, func(p string) { got <- p }, func() { connected <- struct{}{} }, nil)
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not connect in 10s")
	}
	for _, p := range []string{"one", "two"} {
		if err := a.Notify(t.Context(), channel, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		select {
		case p := <-got:
			if p != want {
				t.Errorf("payload %q, want %q", p, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %q in 10s", want)
		}
	}
}

// TestListenReconnects: when the server ends the listening session, Listen
// connects again and says so.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	s := open(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	connected := make(chan struct{}, 10)
	got := make(chan string, 10)
	done := make(chan struct{})
	channel := "rgtest_reconnect_" + time.Now().Format("150405000000")
	go func() {
		defer close(done)
		s.Listen(ctx, channel, func(p string) { got <- p }, func() { connected <- struct{}{} }, nil)
	}()
	defer func() { cancel(); <-done }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: listener did not connect in 10s", what)
		}
	}
	wait("first")
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = $1`, `LISTEN "`+channel+`"`).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate listener: %d sessions, %v", n, err)
	}
	wait("after the session was terminated")
	if err := s.Notify(t.Context(), channel, "again"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "again" {
			t.Errorf("payload %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after reconnecting")
	}
}

// Webhook secrets are sealed at rest, including those of a schema from
// before sealing.
func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	s := open(t, url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := func(id string) string {
		var v string
		if err := db.QueryRow(`SELECT webhook_secret FROM apps WHERE id = $1`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	storetest.SealedAtRest(t, s, raw, func(secret []byte) error {
		o := open(t, url)
		_, err := o.SealSecrets(t.Context(), secret)
		return err
	})
}

// TestCounterShards: on PostgreSQL a shared counter's adds land on several
// rows, so that concurrent starts do not queue on one row lock (issue 21),
// and an exact one stays one row.
func TestCounterShards(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	s := open(t, url)
	ctx := t.Context()
	w := time.UnixMilli(3_600_000).UTC()
	shared := verify.CounterHit{Key: "rl|app|app|3600|app_x", Window: w, Expires: w.Add(time.Hour), Delta: 1, Shared: true}
	exact := verify.CounterHit{Key: "rl|app|phone|3600|+447700900001", Window: w, Expires: w.Add(time.Hour), Delta: 1}
	for range 64 {
		if err := s.Tx(ctx, func(tx verify.Tx) error {
			_, err := tx.AddCounters(ctx, []verify.CounterHit{shared, exact})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		key      string
		min, max int
	}{{shared.Key, 2, 16}, {exact.Key, 1, 1}} {
		var rows, sum int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(value) FROM counters WHERE key = $1`, c.key).Scan(&rows, &sum); err != nil {
			t.Fatal(err)
		}
		if rows < c.min || rows > c.max || sum != 64 {
			t.Errorf("%s: %d rows summing to %d, want %d–%d rows summing to 64", c.key, rows, sum, c.min, c.max)
		}
	}
}

// Migration 0011 keeps what existing apps receive per verifying call.
func TestMigration0011KeepsBothForOldApps(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	open(t, url)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	storetest.Migration0011(t, func(q string) error { _, err := conn.Exec(t.Context(), q); return err },
		func() storetest.Store { return open(t, url) })
}
