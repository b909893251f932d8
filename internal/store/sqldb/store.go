package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// Store is verify.Store and webhook.Outbox over database/sql.
type Store struct {
	reader         // reads outside transactions, on the read pool
	w      *sql.DB // transactions and the outbox's writes
	r      *sql.DB
	wq     querier    // w, through wc when statements are cached
	wc, rc *stmtCache // nil unless the dialect caches statements
	box    *secretBox // shared with every reader and transaction
	group  *committer // nil unless the dialect group-commits
	runner TxRunner   // nil: transactions through database/sql
}

// TxRunner runs fn in one transaction of its own making and commits it
// when fn returns nil; fn's statements go through q. A dialect's store
// supplies one (RunTxWith) when its driver does better than database/sql's
// one round trip per statement: PostgreSQL's sends BEGIN with the first
// statement and held-back writes (Deferrer) with the next statement or
// COMMIT, pipelined.
type TxRunner func(ctx context.Context, fn func(q Querier) error) error

// RunTxWith makes Tx run its transactions through run. Call it before the
// store is used; not with group commit (SQLite's).
func (s *Store) RunTxWith(run TxRunner) {
	if s.group == nil {
		s.runner = run
	}
}

var (
	_ verify.Store          = (*Store)(nil)
	_ webhook.HandOffOutbox = (*Store)(nil)
	_ webhook.BatchOutbox   = (*Store)(nil)
)

// New returns a Store that writes through w and reads outside transactions
// through r. r may be w; when it is not, it must see w's commits (SQLite in
// WAL mode, or a PostgreSQL primary, not a lagging replica: the service
// reads back what it has just written). The Store owns both pools and
// closes them in Close. Call Migrate before use.
func New(d Dialect, w, r *sql.DB) *Store {
	if r == nil {
		r = w
	}
	box := &secretBox{}
	s := &Store{reader: reader{d: d, db: sqlQuerier{r}, box: box}, w: w, r: r, wq: sqlQuerier{w}, box: box}
	if c, ok := d.(StatementCacher); ok && c.CacheStatements() {
		s.wc, s.rc = newStmtCache(w), newStmtCache(r)
		if r == w {
			s.rc = s.wc
		}
		s.reader.db, s.wq = cachedPool{s.rc}, cachedPool{s.wc}
		if g, ok := d.(GroupCommitter); ok && g.GroupCommit() {
			s.group = newCommitter(w, s.wc, d, box)
		}
	}
	return s
}

// maxTxAttempts bounds how often Tx runs fn when the database keeps asking
// for a retry; past it the error is the caller's.
const maxTxAttempts = 5

// Tx runs fn in a transaction, again (up to maxTxAttempts in all) when the
// dialect says the failure was a serialisation failure, deadlock or busy
// database. fn's own errors are returned as they are, unwrapped, so callers
// can match domain errors. A Tx must not start another Tx: on SQLite the
// single writer connection is already held, and it would wait forever.
func (s *Store) Tx(ctx context.Context, fn func(tx verify.Tx) error) error {
	if s.group != nil {
		return s.retry(ctx, func() error { return s.group.tx(ctx, fn) })
	}
	if s.runner != nil {
		return s.retry(ctx, func() error {
			return s.runner(ctx, func(q Querier) error { return fn(txn{reader: reader{d: s.d, db: q, box: s.box}}) })
		})
	}
	return s.retry(ctx, func() error { return runTx(ctx, s.w, s.wc, s.d, s.box, fn) })
}

// retry runs op until it succeeds, fails for good, or runs out of attempts,
// sleeping a little longer, with jitter, between attempts so that colliding
// transactions spread out.
func (s *Store) retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || attempt == maxTxAttempts || !s.d.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		base := time.Duration(1<<attempt) * time.Millisecond
		wait := base + rand.N(base)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("ping readers: %w", err)
		}
	}
	return nil
}

// Close closes the pools, readers first so that the writer, closing last,
// can checkpoint the SQLite WAL.
func (s *Store) Close() error {
	var errs []error
	if s.group != nil { // the writer goroutine first: it may hold the writer
		s.group.close()
	}
	if s.wc != nil { // statements before their pools
		if s.rc != s.wc {
			s.rc.close()
		}
		s.wc.close()
	}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}
