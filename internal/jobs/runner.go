// Package jobs runs the outbound jobs verification steps queue (place a
// call, send a text, hang up): a Runner shaped like webhook.Dispatcher,
// with Run/Kick, a fixed number of slots and a lease on every claim. What
// a job does and how it settles is the domain's (verify.Service.RunJob);
// the runner only decides when to claim and how many at once.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/slots"
	"github.com/ringgate/ringgate/internal/verify"
)

// Defaults of Config.
const (
	DefaultSlots = 16
	DefaultLease = 30 * time.Second
	DefaultPoll  = time.Second
)

// Service claims due jobs under a lease and runs one; verify.Service is one.
type Service interface {
	ClaimJobs(ctx context.Context, limit int, lease time.Duration) ([]verify.Job, error)
	RunJob(ctx context.Context, j verify.Job)
}

var _ Service = (*verify.Service)(nil)

// Config wires a Runner. Only Service is required.
type Config struct {
	Service Service
	// Slots is the most jobs in flight at once (default 16). Each job
	// holds a slot from its claim until it is settled, and a round claims
	// only as many jobs as there are free slots: a carrier that takes its
	// time holds its own jobs' slots, not a whole batch, and no claimed
	// job waits in a queue while its lease runs down.
	Slots int
	// Lease is how long a claim holds a job (default 30s). A runner that
	// dies leaves its jobs to be claimed again when it runs out (at least
	// once: a carrier may see a command twice after a crash).
	Lease time.Duration
	// Poll is the longest sleep between rounds (default 1s), so jobs
	// queued on other nodes, retries that fell due and leases that ran out
	// are seen soon.
	Poll   time.Duration
	Logger *slog.Logger // default: discard
}

// Runner runs outbound jobs. Run one per process; several processes may
// share a store (claims skip each other's rows).
type Runner struct {
	svc         Service
	slots       int
	lease, poll time.Duration
	log         *slog.Logger
	kick        chan struct{} // holds at most one wake-up
	running     atomic.Bool
}

// New applies defaults to cfg and returns a Runner. It panics without a
// Service, a wiring mistake.
func New(cfg Config) *Runner {
	if cfg.Service == nil {
		panic("jobs: New without a Service")
	}
	r := &Runner{
		svc: cfg.Service, slots: cfg.Slots, lease: cfg.Lease, poll: cfg.Poll, log: cfg.Logger,
		kick: make(chan struct{}, 1),
	}
	if r.slots <= 0 {
		r.slots = DefaultSlots
	}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	if r.poll <= 0 {
		r.poll = DefaultPoll
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Kick wakes Run to look for due jobs now, instead of at its next poll. A
// commit that queues a job kicks (through the server's publisher). It
// never blocks, and kicks that arrive while one is pending merge into it.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run runs due jobs until ctx is done, then returns nil once no job is in
// flight. Jobs cut short by ctx are not settled: their leases run out and
// they are claimed again. Run returns an error at once if this Runner is
// already running.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("jobs: runner is already running")
	}
	defer r.running.Store(false)
	free := slots.New(r.slots) // one token per job in flight
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		full, err := r.round(ctx, free, &wg)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Error("outbound jobs", slog.Any("err", err))
			r.sleep(ctx)
		case full:
			// The queue may hold more than there was room for: go again,
			// waiting for a slot if none is free.
		default:
			r.sleep(ctx)
		}
	}
}

// round claims as many due jobs as there are free slots (waiting for one
// if none is) and runs each on its own goroutine. full reports that it got
// all it asked for.
func (r *Runner) round(ctx context.Context, free slots.Slots, wg *sync.WaitGroup) (full bool, err error) {
	return slots.Fill(ctx, free, r.slots, wg,
		func(n int) ([]verify.Job, error) { return r.svc.ClaimJobs(ctx, n, r.lease) },
		func(j verify.Job) { r.svc.RunJob(ctx, j) },
		func(asked, got int) {
			r.log.Error("outbound jobs: claimed more than asked; ignoring the rest", "asked", asked, "got", got)
		})
}

// sleep waits for a Kick, the poll interval or the end of ctx.
func (r *Runner) sleep(ctx context.Context) {
	t := time.NewTimer(r.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.kick:
	case <-t.C:
	}
}
