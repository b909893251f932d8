package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

// A transaction through database/sql is one round trip per statement, BEGIN
// and COMMIT included: a start was eight, a verifying call twelve, and on
// a loaded machine each round trip is two context switches and a wait for
// the scheduler (issue 21, goal 3). runTx runs sqldb's transactions on the
// pgx connection under database/sql instead, and pipelines what need not
// wait:
//
//   - BEGIN goes with the transaction's first statement; a transaction
//     that sends none sends nothing.
//   - Writes made through verify.Tx.Deferred (sqldb.Deferrer) are held
//     back and go with the next statement, or with COMMIT.
//
// A held write must change a row (an INSERT … ON CONFLICT DO NOTHING that
// inserted nothing is a conflict, an UPDATE that matched nothing is not
// found), and its outcome is known only after the statements sent with it
// have run: so it is sent as mustChange's statement, which fails when no
// row changed, and the failure aborts the transaction on the server: the
// statements after it in the pipeline, COMMIT included, do not run. The
// failure is then reported as the write's own error (its check), by the
// call that sent it and by every later call, and the transaction is rolled
// back.
func (s *Store) runTx(ctx context.Context, fn func(q sqldb.Querier) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	// A panic in fn makes Raw discard the connection, open transaction and
	// all; an error leaves it to the pool, which discards it unless the
	// transaction ended (stdlib's ResetSession).
	return conn.Raw(func(dc any) error {
		p := &pipe{c: dc.(*stdlib.Conn).Conn()}
		if err := fn(p); err != nil {
			p.rollback(ctx)
			return err
		}
		return p.commit(ctx)
	})
}

// pipe is one transaction's statements on a pgx connection: an
// sqldb.Querier and sqldb.Deferrer.
type pipe struct {
	c      *pgx.Conn
	begun  bool   // BEGIN has been sent
	held   []held // writes not yet sent
	failed error  // a held write's failure: every later call returns it
}

type held struct {
	query string
	args  []any
	check func(n int64, err error) error // Defer's
	scan  func(sqldb.Row) error          // DeferScan's
}

var (
	_ sqldb.Querier      = (*pipe)(nil)
	_ sqldb.Deferrer     = (*pipe)(nil)
	_ sqldb.BatchQuerier = (*pipe)(nil)
)

// codeDivisionByZero is mustChange's failure when no row changed.
const codeDivisionByZero = "22012"

// mustChange wraps a write (INSERT, UPDATE or DELETE, without RETURNING)
// in a statement that fails with division_by_zero when it changed no row.
func mustChange(query string) string {
	return `WITH w AS (` + query + ` RETURNING 1) SELECT 1 / COUNT(*) FROM w`
}

// Defer holds a write back until the next statement or the commit.
func (p *pipe) Defer(query string, args []any, check func(n int64, err error) error) {
	p.held = append(p.held, held{query: mustChange(query), args: args, check: check})
}

// DeferScan holds back a write whose row scan reads once it is sent.
func (p *pipe) DeferScan(query string, args []any, scan func(sqldb.Row) error) {
	p.held = append(p.held, held{query: query, args: args, scan: scan})
}

// direct reports whether the next statement can go alone: the transaction
// has begun and nothing is held.
func (p *pipe) direct() bool { return p.begun && len(p.held) == 0 }

// send sends BEGIN if not yet sent, the held writes and then query, in one
// pipeline, and reads the results of all but query, which is the caller's
// to read (and then to close the batch).
func (p *pipe) send(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	return p.sendAll(ctx, []sqldb.Stmt{{Query: query, Args: args}})
}

// sendAll is send with several statements after the held ones.
func (p *pipe) sendAll(ctx context.Context, qs []sqldb.Stmt) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	begin := !p.begun
	if begin {
		b.Queue("BEGIN")
	}
	hs := p.held
	p.held = nil
	for _, h := range hs {
		b.Queue(h.query, h.args...)
	}
	for _, q := range qs {
		b.Queue(q.Query, q.Args...)
	}
	p.begun = true
	br := p.c.SendBatch(ctx, b)
	if begin {
		if _, err := br.Exec(); err != nil {
			br.Close()
			p.failed = fmt.Errorf("begin transaction: %w", err)
			return nil, p.failed
		}
	}
	for _, h := range hs {
		if h.scan != nil {
			if failed := h.scan(br.QueryRow()); failed != nil {
				br.Close()
				p.failed = failed
				return nil, failed
			}
			continue
		}
		_, err := br.Exec()
		var failed error
		switch {
		case err == nil:
			failed = h.check(1, nil)
		case sqlState(err) == codeDivisionByZero:
			failed = h.check(0, nil)
		default:
			failed = h.check(0, err)
		}
		if failed != nil {
			br.Close()
			p.failed = failed
			return nil, failed
		}
	}
	return br, nil
}

func (p *pipe) ExecContext(ctx context.Context, query string, args ...any) (sqldb.Result, error) {
	if p.failed != nil {
		return nil, p.failed
	}
	var tag pgconn.CommandTag
	var err error
	if p.direct() {
		tag, err = p.c.Exec(ctx, query, args...)
	} else {
		var br pgx.BatchResults
		if br, err = p.send(ctx, query, args); err != nil {
			return nil, err
		}
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, err
	}
	return result(tag.RowsAffected()), nil
}

func (p *pipe) QueryContext(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	if p.failed != nil {
		return nil, p.failed
	}
	if p.direct() {
		rows, err := p.c.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return &pgRows{r: rows}, nil
	}
	br, err := p.send(ctx, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &pgRows{r: rows, br: br}, nil
}

// QueryBatch sends qs in one pipeline, with BEGIN and the held writes if
// any, and hands each query's rows to each in turn.
func (p *pipe) QueryBatch(ctx context.Context, qs []sqldb.Stmt, each func(i int, rows sqldb.Rows) error) error {
	if p.failed != nil {
		return p.failed
	}
	br, err := p.sendAll(ctx, qs)
	if err != nil {
		return err
	}
	for i := range qs {
		rows, err := br.Query()
		if err == nil {
			err = each(i, &pgRows{r: rows})
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

func (p *pipe) QueryRowContext(ctx context.Context, query string, args ...any) sqldb.Row {
	rows, err := p.QueryContext(ctx, query, args...)
	return pgRow{rows: rows, err: err}
}

// commit sends COMMIT, with whatever is held.
func (p *pipe) commit(ctx context.Context) error {
	if p.failed != nil {
		p.rollback(ctx)
		return p.failed
	}
	if !p.begun && len(p.held) == 0 {
		return nil // nothing was sent, so there is nothing to commit
	}
	var tag pgconn.CommandTag
	var err error
	if p.direct() {
		tag, err = p.c.Exec(ctx, "COMMIT")
	} else {
		var br pgx.BatchResults
		if br, err = p.send(ctx, "COMMIT", nil); err != nil {
			p.rollback(ctx)
			return err // a held write's own error
		}
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		p.rollback(ctx)
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" { // the transaction had failed
		return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
	}
	return nil
}

// rollback ends the transaction if it began. A connection it cannot reset
// is discarded by the pool (stdlib's ResetSession sees the transaction
// still open, or the connection closed).
func (p *pipe) rollback(ctx context.Context) {
	if !p.begun {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = p.c.Exec(ctx, "ROLLBACK")
}

type result int64

func (r result) RowsAffected() (int64, error) { return int64(r), nil }

// pgRows are a query's rows, and the pipeline they came in, closed with
// them.
type pgRows struct {
	r  pgx.Rows
	br pgx.BatchResults
}

func (r *pgRows) Next() bool             { return r.r.Next() }
func (r *pgRows) Scan(dest ...any) error { return r.r.Scan(dest...) }
func (r *pgRows) Err() error             { return r.r.Err() }

func (r *pgRows) Close() error {
	r.r.Close()
	if r.br != nil {
		br := r.br
		r.br = nil
		return br.Close()
	}
	return nil
}

// pgRow is the first row of a query, as *sql.Row: no row is sql.ErrNoRows.
type pgRow struct {
	rows sqldb.Rows
	err  error
}

func (r pgRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	if err := r.rows.Close(); err != nil {
		return err
	}
	return r.rows.Err()
}
