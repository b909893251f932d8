package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// The anchors' and ringgate's databases: a SQLite file, or a PostgreSQL
// database of the run's own (made here, dropped at the end), so that its
// backends can be told from every other client's by name and their CPU
// added to the server's.

// rowDB is the database an anchor writes its one row per call to.
type rowDB struct {
	db   *sql.DB
	kind string // "sqlite" or "postgres"
	con  string // Kamailio's sqlops connection: "cb=>…"
	pg   *pgDB  // PostgreSQL only
}

func newSQLiteRows(dir, schema string) (*rowDB, error) {
	path, err := filepath.Abs(filepath.Join(dir, "anchor.db"))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	ddl, err := os.ReadFile(schema)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.Exec(string(ddl)); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", schema, err)
	}
	return &rowDB{db: db, kind: "sqlite", con: "cb=>sqlite:///" + path}, nil
}

func newPostgresRows(ctx context.Context, base, schema string) (*rowDB, error) {
	pg, err := newPGDB(ctx, base, "sipbench_anchor")
	if err != nil {
		return nil, err
	}
	ddl, err := os.ReadFile(schema)
	if err != nil {
		pg.close()
		return nil, err
	}
	if _, err := pg.db.ExecContext(ctx, string(ddl)); err != nil {
		pg.close()
		return nil, fmt.Errorf("%s: %w", schema, err)
	}
	u, _ := url.Parse(pg.url)
	// Kamailio's db_postgres URL: no query parameters.
	con := fmt.Sprintf("cb=>postgres://%s@%s/%s", u.User.String(), u.Host, pg.name)
	return &rowDB{db: pg.db, kind: "postgres", con: con, pg: pg}, nil
}

// rows counts the calls recorded so far.
func (r *rowDB) rows(ctx context.Context) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls`).Scan(&n)
	return n, err
}

func (r *rowDB) close() {
	if r.pg != nil {
		r.pg.close()
		return
	}
	r.db.Close()
}

// pgDB is a database made for this run on the PostgreSQL server at base.
type pgDB struct {
	name, url string
	admin     *sql.DB // on the server's own database, to drop ours
	db        *sql.DB // on ours
}

func newPGDB(ctx context.Context, base, prefix string) (*pgDB, error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("PostgreSQL at %s: %w", redactURL(base), err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return nil, err
	}
	u.Path = "/" + name
	p := &pgDB{name: name, url: u.String(), admin: admin}
	if p.db, err = sql.Open("pgx", p.url); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// backendCPU is the CPU time so far of each backend serving this database
// (its own connection included, which is idle during a step), by pid.
func (p *pgDB) backendCPU(ctx context.Context) map[int]time.Duration {
	out := map[int]time.Duration{}
	rows, err := p.admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, p.name)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			if ns, ok := schedstat(pid); ok {
				out[pid] = ns
			}
		}
	}
	return out
}

// backendDelta is the backends' CPU between two readings; a backend that
// appeared in between counts from zero. One that ended in between is lost,
// which is why both the anchor and ringgate keep their connections open.
func backendDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

func (p *pgDB) close() {
	if p.db != nil {
		p.db.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+p.name+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "sipbench: drop database %s: %v\n", p.name, err)
	}
	p.admin.Close()
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return strings.TrimSpace(u.String())
}
