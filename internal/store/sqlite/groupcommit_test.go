package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Transactions that wait for the writer together share one commit, and
// each keeps its own outcome: a function that fails leaves nothing, one that
// panics panics in its caller's goroutine, and the others are written.
func TestGroupCommitKeepsEachOutcome(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "group.db"))
	defer s.Close()
	ctx := t.Context()
	const n = 60
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			<-start
			results[i] = s.Tx(ctx, func(tx verify.Tx) error {
				app := verify.App{ID: fmt.Sprintf("app_%02d", i), Name: "x", WebhookSecret: "whsec_x", CreatedAt: time.Now()}
				if err := tx.InsertApp(ctx, app); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errBoom // written, then rolled back
				case 7:
					panic(fmt.Sprintf("panic %d", i))
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		_, err := s.App(ctx, fmt.Sprintf("app_%02d", i))
		switch i % 10 {
		case 3:
			if !errors.Is(results[i], errBoom) || !errors.Is(err, verify.ErrNotFound) {
				t.Errorf("tx %d failed: result %v, app read %v; want boom and not found", i, results[i], err)
			}
		case 7:
			if panics[i] != fmt.Sprintf("panic %d", i) || !errors.Is(err, verify.ErrNotFound) {
				t.Errorf("tx %d panicked: caller saw %v, app read %v; want its panic and not found", i, panics[i], err)
			}
		default:
			if results[i] != nil || panics[i] != nil || err != nil {
				t.Errorf("tx %d: result %v, panic %v, app read %v; want it written", i, results[i], panics[i], err)
			}
		}
	}
	commits, txs := s.GroupCommitStats()
	t.Logf("%d transactions in %d commits", txs, commits)
	if txs < n {
		t.Errorf("group commit saw %d transactions, want at least %d", txs, n)
	}
}

// A conflict inside a batch (the second insert of one id) is that
// transaction's error alone.
func TestGroupCommitConflictIsLocal(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "group.db"))
	defer s.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Tx(ctx, func(tx verify.Tx) error {
				return tx.InsertApp(ctx, verify.App{ID: "app_same", Name: "x", WebhookSecret: "whsec_x", CreatedAt: time.Now()})
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, verify.ErrConflict):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d inserts of one id succeeded, want 1", ok)
	}
}

// A caller whose context has ended before its turn is not run.
func TestGroupCommitCancelledBeforeTurn(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "group.db"))
	defer s.Close()
	cctx, stop := context.WithCancel(t.Context())
	stop()
	ran := false
	err := s.Tx(cctx, func(verify.Tx) error { ran = true; return nil })
	if err == nil || ran {
		t.Errorf("cancelled Tx: err %v, ran %v; want an error and not run", err, ran)
	}
}

// One writer that commits, then commits again at once, is a closed loop:
// nobody else can join its batch, and waiting batchWindow for company would
// only slow it down. After a wait that gained nothing the next batches skip
// it (1, 2, 4 … 16 of them), so 200 such transactions wait a few dozen times
// at most instead of nearly every time.
func TestGroupCommitClosedLoopSkipsTheWindow(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "loop.db"))
	defer s.Close()
	ctx := t.Context()
	const n = 200
	for i := range n {
		err := s.Tx(ctx, func(tx verify.Tx) error {
			return tx.InsertApp(ctx, verify.App{ID: fmt.Sprintf("app_%03d", i), Name: "x", WebhookSecret: "whsec_x", CreatedAt: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waits := s.GroupCommitWaits()
	t.Logf("%d of %d batches waited", waits, n)
	if waits > n/5 {
		t.Errorf("%d of %d one-writer batches waited for company, want a few (a wait that gains nothing backs off)", waits, n)
	}
}
