// Package bench measures ringgate under load on this machine, always next
// to a baseline measured the same way in the same run, because shared
// 2-core machines are too noisy for absolute figures to mean much.
package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one load run.
type Result struct {
	Name     string
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// PerSecond is the completed-request rate.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-38s %8.0f/s  p50 %7s  p99 %7s  (%d requests, %d errors)",
		r.Name, r.PerSecond(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests, r.Errors)
}

// Load calls op n times from `workers` goroutines, giving each call its
// index, and stops early at the deadline: every loop is bounded in count
// and in time.
func Load(ctx context.Context, name string, n, workers int, limit time.Duration, op func(ctx context.Context, i int) error) Result {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	lat := make([]time.Duration, n)
	var next, errs, done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					errs.Add(1)
				}
				lat[i] = time.Since(t0)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := lat[:min(int(done.Load()), n)]
	slices.Sort(got)
	return Result{Name: name, Requests: len(got), Errors: int(errs.Load()), Elapsed: elapsed, P50: pct(got, 50), P99: pct(got, 99)}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}
