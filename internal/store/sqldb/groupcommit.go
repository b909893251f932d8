package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// GroupCommitter is a Dialect whose database has one writer (SQLite), so
// that transactions queue for it anyway. sqldb then runs the transactions
// that are waiting together, as one database transaction with a SAVEPOINT
// for each, and commits once. A commit's cost is writing every page the
// transaction touched to the WAL (BenchmarkInboundCall: a third of a
// missed call's CPU was pwrite of the same index pages, call after call);
// concurrent transactions share those pages, so a batch writes each once.
// With no concurrency a batch holds one transaction and nothing changes.
type GroupCommitter interface {
	GroupCommit() bool
}

// maxBatch bounds a batch, so that one commit's latency stays short.
const maxBatch = 64

// batchWindow is how long a batch waits for more transactions when they
// come often: when the last batch closed less than batchWindow before this
// one's first transaction arrived. At 1,000 calls a second transactions
// arrive a millisecond apart and each commit took about as long alone as
// a batch's, so the wait halves the commits (PostgreSQL's commit_delay is
// the same idea). A transaction that comes after a quiet spell is not
// kept waiting. A wait that gained nothing (every writer there is already
// in the batch, waiting for it: a closed loop) makes the next batches skip
// it, 1, 2, 4 … up to maxSkip of them, until a wait gains again.
const (
	batchWindow = 2 * time.Millisecond
	maxSkip     = 16
)

var errClosed = errors.New("store is closed")

// committer is the single writer goroutine of a group-committing store.
type committer struct {
	db    *sql.DB
	cache *stmtCache
	d     Dialect
	box   *secretBox
	reqs  chan *txReq
	stop  chan struct{}
	done  chan struct{}
	// batches and txs count commits and the transactions in them; waits
	// the batches that waited batchWindow for company.
	batches, txs, waits atomic.Int64
}

type txReq struct {
	ctx   context.Context
	fn    func(verify.Tx) error
	err   error
	panic any // fn panicked: the caller's goroutine panics again with it
	reply chan struct{}
}

func newCommitter(db *sql.DB, cache *stmtCache, d Dialect, box *secretBox) *committer {
	c := &committer{db: db, cache: cache, d: d, box: box, reqs: make(chan *txReq), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// tx runs fn in the next batch and waits for its outcome. It waits even
// when ctx ends meanwhile: once fn has run, only the commit's outcome is
// true, and a caller told "cancelled" about a committed change might do it
// again. A request still queued when its ctx ends is not run.
func (c *committer) tx(ctx context.Context, fn func(verify.Tx) error) error {
	r := &txReq{ctx: ctx, fn: fn, reply: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-r.reply
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	w := waiter{timer: time.NewTimer(batchWindow)}
	w.timer.Stop()
	var closed time.Time // when the last batch stopped taking transactions
	for {
		var batch []*txReq
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		case <-c.stop:
			return
		}
		first := time.Now()
		busy := first.Sub(closed) < batchWindow
		// Let the goroutines that are about to ask run first: on a busy
		// machine this goroutine would otherwise take requests one by one as
		// fast as they come, and batch nothing. It costs one scheduler pass.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if busy && len(batch) < maxBatch {
			batch = c.waitForCompany(&w, batch, first)
		}
		closed = time.Now()
		c.runBatch(batch)
	}
}

// waiter is the batch window's state across batches.
type waiter struct {
	timer         *time.Timer
	skip, backoff int // batches not to wait, after a wait that gained nothing
}

// waitForCompany adds to batch the transactions that come until
// batchWindow after first (or maxBatch, or close), unless a recent wait
// gained nothing and this batch is one to skip.
func (c *committer) waitForCompany(w *waiter, batch []*txReq, first time.Time) []*txReq {
	if w.skip > 0 {
		w.skip--
		return batch
	}
	before := len(batch)
	c.waits.Add(1)
	w.timer.Reset(batchWindow - time.Since(first))
	defer w.timer.Stop()
	for len(batch) < maxBatch {
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
			continue
		case <-w.timer.C:
		case <-c.stop: // this batch runs; the next turn returns
		}
		break
	}
	if len(batch) == before {
		w.backoff = min(max(2*w.backoff, 1), maxSkip)
		w.skip = w.backoff
	} else {
		w.backoff = 0
	}
	return batch
}

func (c *committer) runBatch(batch []*txReq) {
	c.batches.Add(1)
	c.txs.Add(int64(len(batch)))
	var live []*txReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.reply)
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		c.alone(live[0])
		return
	}
	if err := c.together(live); err != nil {
		// The batch's transaction failed as a whole (a commit error, a
		// savepoint that would not roll back): nothing of it is written.
		// Each function runs again in a transaction of its own, so that one
		// request's trouble stays its own.
		for _, r := range live {
			c.alone(r)
		}
		return
	}
	for _, r := range live {
		close(r.reply)
	}
}

// alone runs one request in its own transaction and replies.
func (c *committer) alone(r *txReq) {
	r.err, r.panic = nil, nil
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
			}
		}()
		r.err = runTx(r.ctx, c.db, c.cache, c.d, c.box, r.fn)
	}()
	close(r.reply)
}

// together runs the requests in one transaction, each in a savepoint so
// that a function that fails leaves nothing behind, and commits once. It
// returns an error only when the transaction as a whole failed.
func (c *committer) together(batch []*txReq) error {
	// The batch is no one caller's: a caller's cancellation must not
	// interrupt the connection (SQLite would roll back the whole batch).
	ctx := context.WithoutCancel(batch[0].ctx)
	sqlTx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var missed []string
	defer func() { c.cache.prepareMissed(ctx, missed) }() // runs after Rollback frees the connection
	defer sqlTx.Rollback()                                //nolint:errcheck // a no-op after Commit
	tx := txn{reader: reader{d: c.d, db: cachedTx{tx: sqlTx, c: c.cache, missed: &missed, ctx: ctx}, box: c.box}}
	for _, r := range batch {
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT batch"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		r.err, r.panic = call(r.fn, tx)
		if r.err != nil || r.panic != nil {
			if _, err := sqlTx.ExecContext(ctx, "ROLLBACK TO batch"); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
		}
		if _, err := sqlTx.ExecContext(ctx, "RELEASE batch"); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// call runs fn, turning a panic into a value for the caller's goroutine.
func call(fn func(verify.Tx) error, tx verify.Tx) (err error, p any) {
	defer func() {
		if v := recover(); v != nil {
			p = v
		}
	}()
	return fn(tx), nil
}

// GroupCommitStats reports how many commits the store's group commit made
// and how many transactions they carried; zeros when it does not group.
func (s *Store) GroupCommitStats() (commits, txs int64) {
	if s.group == nil {
		return 0, 0
	}
	return s.group.batches.Load(), s.group.txs.Load()
}

// GroupCommitWaits reports how many batches waited for company (zero when
// the store does not group).
func (s *Store) GroupCommitWaits() int64 {
	if s.group == nil {
		return 0
	}
	return s.group.waits.Load()
}
