// Package postgres is ringgate's store for several nodes: the shared sqldb
// implementation on PostgreSQL through pgx's database/sql driver
// (github.com/jackc/pgx/v5/stdlib), plus LISTEN/NOTIFY so that the nodes
// can wake each other.
//
// The connection string is pgx's: a URL (postgres://user:pass@host/db?…) or
// key=value pairs. Parameters pgx does not know are sent to the server as
// run-time parameters, so "?search_path=ringgate" puts ringgate's tables in
// a schema of their own. Every node of a deployment uses the same database
// and schema, and the primary: the service reads back what it has just
// written, so reads through a lagging replica would be wrong.
//
// Concurrency is PostgreSQL's: transactions run at READ COMMITTED, rows a
// transaction changes are locked with SELECT … FOR UPDATE, and work queues
// (expiry sweep, webhook outbox) are taken with FOR UPDATE SKIP LOCKED, so
// nodes pass over each other's rows instead of queueing behind them.
// Serialisation failures and deadlocks are run again by sqldb.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

// MaxConns is the size of a node's connection pool. PostgreSQL's default
// max_connections is 100: ten nodes at this size, plus their listeners,
// fit with room for admin commands.
const MaxConns = 8

// Store is the sqldb store on PostgreSQL, with NOTIFY and LISTEN on top.
type Store struct {
	*sqldb.Store
	db  *sql.DB
	cfg *pgx.ConnConfig
}

// Open connects to the database connString names, brings its schema up to
// date and returns the store. Migrations take an advisory lock, so nodes
// started together migrate once.
func Open(ctx context.Context, connString string) (*Store, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		// pgx's parse errors may quote the whole string, password included.
		return nil, errors.New("open postgres: cannot parse the connection string")
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where(cfg), err)
	}
	s := &Store{Store: sqldb.New(Dialect{}, db, db), db: db, cfg: cfg}
	s.RunTxWith(s.runTx)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where(cfg), err)
	}
	return s, nil
}

// where names the database for errors and logs, without the password.
func where(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Notify sends payload to every session listening on channel, through the
// pool. PostgreSQL delivers it only when the statement's own transaction
// commits (here at once) and caps a payload at 8000 bytes.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen holds a connection of its own that listens on channel, and calls
// onNotify with each payload that arrives, one at a time, in order. When
// the connection fails it reconnects with backoff (100 ms doubling to 5 s,
// with jitter) and calls onConnect once listening again, and after the
// first connection too: notifications sent while no connection listened are
// lost, so the caller should look for itself. Listen returns when ctx is
// done.
func (s *Store) Listen(ctx context.Context, channel string, onNotify func(payload string), onConnect func(), onError func(error)) {
	const minWait, maxWait = 100 * time.Millisecond, 5 * time.Second
	wait := minWait
	for ctx.Err() == nil {
		err := s.listen(ctx, channel, onNotify, func() {
			wait = minWait
			onConnect()
		})
		if ctx.Err() != nil {
			return
		}
		if onError != nil {
			onError(err)
		}
		t := time.NewTimer(wait - rand.N(wait/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}

func (s *Store) listen(ctx context.Context, channel string, onNotify func(string), onConnect func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.Copy())
	if err != nil {
		return fmt.Errorf("listen: connect %s: %w", where(s.cfg), err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	onConnect()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen %s: %w", channel, err)
		}
		onNotify(n.Payload)
	}
}
