package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// StatementCacher is a Dialect that wants sqldb to keep its statements
// prepared. SQLite does: modernc.org/sqlite compiles the SQL text on every
// unprepared call, and that parse was the largest single cost of a
// missed-call transaction (BenchmarkInboundCall). PostgreSQL does not need
// it: pgx already caches prepared statements per connection.
type StatementCacher interface {
	CacheStatements() bool
}

// maxCachedStatements bounds the cache. sqldb's queries are constants, so
// the real number is a few dozen; a query built with a varying number of
// placeholders past the bound simply runs unprepared.
const maxCachedStatements = 512

// stmtCache keeps one prepared statement per query text on a pool. A
// database/sql Stmt prepared on the pool prepares itself lazily on each
// connection it meets and is safe for concurrent use; inside a transaction
// Tx.StmtContext reuses the connection's copy.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// lookup returns the statement for q if it is prepared.
func (c *stmtCache) lookup(q string) (st *sql.Stmt, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q], len(c.m) >= maxCachedStatements
}

// get returns the statement for q, preparing it on first use; nil when it
// cannot be prepared or the cache is full (the caller runs q unprepared and
// reports the error the database gives then). Preparing takes a connection
// from the pool: never call get while holding one of the pool's
// connections (a transaction on SQLite's single writer), or it waits
// forever.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	st, full := c.lookup(q)
	if st != nil || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok { // prepared by another caller meanwhile
		st.Close()
		return prev
	}
	c.m[q] = st
	return st
}

// prepareMissed prepares what a finished transaction ran unprepared.
func (c *stmtCache) prepareMissed(ctx context.Context, missed []string) {
	for _, q := range missed {
		c.get(ctx, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// cachedPool is a querier that runs statements prepared on its pool.
type cachedPool struct{ c *stmtCache }

func (p cachedPool) ExecContext(ctx context.Context, q string, args ...any) (Result, error) {
	if st := p.c.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.c.db.ExecContext(ctx, q, args...)
}

func (p cachedPool) QueryContext(ctx context.Context, q string, args ...any) (Rows, error) {
	var rows *sql.Rows
	var err error
	if st := p.c.get(ctx, q); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = p.c.db.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (p cachedPool) QueryRowContext(ctx context.Context, q string, args ...any) Row {
	if st := p.c.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.c.db.QueryRowContext(ctx, q, args...)
}

// cachedTx is a querier that runs a transaction's statements through the
// cache of the pool the transaction came from. The transaction holds a
// connection, so it cannot prepare on the pool (SQLite's writer pool has
// one connection): a statement not yet cached runs unprepared and is noted
// in missed, and the transaction's runner prepares it once the connection
// is back (prepareMissed).
type cachedTx struct {
	tx     *sql.Tx
	c      *stmtCache
	missed *[]string
	// ctx, when set, replaces the context each call passes: a group commit
	// runs several callers' functions in one transaction, and one caller's
	// cancellation must not interrupt the connection under the others.
	ctx context.Context
}

func (t cachedTx) stmt(ctx context.Context, q string) *sql.Stmt {
	st, full := t.c.lookup(q)
	if st == nil {
		if !full {
			*t.missed = append(*t.missed, q)
		}
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

func (t cachedTx) context(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

func (t cachedTx) ExecContext(ctx context.Context, q string, args ...any) (Result, error) {
	ctx = t.context(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, q string, args ...any) (Rows, error) {
	ctx = t.context(ctx)
	var rows *sql.Rows
	var err error
	if st := t.stmt(ctx, q); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = t.tx.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (t cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) Row {
	ctx = t.context(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}
