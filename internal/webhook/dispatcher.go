package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/slots"
	"github.com/ringgate/ringgate/internal/verify"
)

// Defaults of DispatcherConfig.
const (
	DefaultWorkers   = 8
	DefaultLease     = 30 * time.Second
	DefaultRetryBase = 5 * time.Second
	DefaultRetryMax  = time.Hour
	DefaultMaxAge    = 24 * time.Hour
	DefaultPoll      = time.Second
)

const (
	// maxDrain is how much of an answer is read. Reading lets the
	// connection be reused; the limit stops a receiver from holding a
	// worker with an endless body.
	maxDrain = 64 << 10
	// settleTimeout bounds recording an outcome, which goes on even after
	// Run's context is done so that answers already received are kept.
	settleTimeout = 5 * time.Second
	// minWait keeps the loop from spinning if the outbox says something is
	// due that it will not yet hand out.
	minWait = 10 * time.Millisecond
	// maxErrorWait caps the pause after repeated outbox errors.
	maxErrorWait = 10 * time.Second
)

// DispatcherConfig wires a Dispatcher. Only Outbox is required.
type DispatcherConfig struct {
	Outbox Outbox
	// Client sends the webhooks. Default: Policy{}.Client(Timeout), which
	// refuses private and loopback addresses.
	Client  *http.Client
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
	Metrics Metrics          // optional
	// Workers is the most attempts in flight at once (default 8).
	Workers int
	// Batch is the most deliveries claimed at once (default Workers). The
	// dispatcher never claims more than it has idle workers for, so no
	// claimed delivery waits in a queue while its lease runs down.
	Batch int
	// Timeout bounds one attempt. Default: the Client's Timeout if it has
	// one, else DefaultTimeout; if both are set, the shorter applies.
	Timeout time.Duration
	// Lease is how long a claim holds a delivery (default 30s). It must
	// exceed Timeout, with room to settle; NewDispatcher panics otherwise.
	Lease time.Duration
	// RetryBase is the wait after the first failure (default 5s); each
	// further failure doubles it, up to RetryMax (default 1h).
	RetryBase time.Duration
	RetryMax  time.Duration
	// MaxAge is how long after its creation a delivery is retried
	// (default 24h); after that a failure marks it failed.
	MaxAge time.Duration
	// Poll is the longest sleep between rounds (default 1s), so deliveries
	// queued on other nodes, which cannot Kick this one, are seen soon.
	Poll time.Duration
}

// Dispatcher delivers the outbox. Run one per process; several processes
// may share an outbox.
type Dispatcher struct {
	outbox  Outbox
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	metrics Metrics
	jitter  func() float64 // in [0, 1)

	workers, batch                                    int
	timeout, lease, retryBase, retryMax, maxAge, poll time.Duration

	kick    chan struct{} // holds at most one wake-up
	running atomic.Bool
	// wakeAt is when the idle loop means to wake, as time since epoch on
	// the monotonic clock (Now may be set, stepped or faked).
	epoch  time.Time
	wakeAt atomic.Int64
	// settle records an attempt's outcome: the outbox's SettleDelivery, or
	// a batchSettler's. Set by Run before any attempt starts.
	settle func(ctx context.Context, c Claimed, a Attempt) error
}

// batchSettler records the outcomes of attempts that finish together in
// one SettleDeliveries: each worker hands its outcome over and waits, and
// the settler takes whatever has queued meanwhile (up to the workers'
// number) as one batch. No timer: a lone attempt settles at once, as it
// would alone; under load the batches grow by themselves. Settling one by
// one was the dispatcher's main cost on the store (a statement, and on
// PostgreSQL a round trip, per delivery).
type batchSettler struct {
	outbox BatchOutbox
	max    int
	reqs   chan settleReq
	done   chan struct{}
}

type settleReq struct {
	ctx context.Context
	s   Settlement
	err chan error
}

func startBatchSettler(o BatchOutbox, max int) *batchSettler {
	b := &batchSettler{outbox: o, max: max, reqs: make(chan settleReq, max), done: make(chan struct{})}
	go b.run()
	return b
}

func (b *batchSettler) settle(ctx context.Context, c Claimed, a Attempt) error {
	r := settleReq{ctx: ctx, s: Settlement{Claimed: c, Attempt: a}, err: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.err
}

// stop ends the settler once every attempt has settled (Run calls it after
// waiting for them).
func (b *batchSettler) stop() {
	close(b.reqs)
	<-b.done
}

func (b *batchSettler) run() {
	defer close(b.done)
	batch := make([]settleReq, 0, b.max)
	for r := range b.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < b.max {
			select {
			case r, ok := <-b.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.flush(batch)
	}
}

// flush settles a batch in one call under the first request's deadline
// (they are all settleTimeout long); if that fails, each alone, so that
// one bad outcome does not cost the others theirs.
func (b *batchSettler) flush(batch []settleReq) {
	if len(batch) > 1 {
		ss := make([]Settlement, len(batch))
		for i, r := range batch {
			ss[i] = r.s
		}
		if err := b.outbox.SettleDeliveries(batch[0].ctx, ss); err == nil {
			for _, r := range batch {
				r.err <- nil
			}
			return
		}
	}
	for _, r := range batch {
		r.err <- b.outbox.SettleDelivery(r.ctx, r.s.Claimed, r.s.Attempt)
	}
}

// NewDispatcher applies defaults to cfg and returns a Dispatcher. It panics
// if cfg has no Outbox or a Lease not longer than the attempt timeout:
// both are wiring mistakes that would otherwise lose or duplicate work.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	if cfg.Outbox == nil {
		panic("webhook: NewDispatcher without an Outbox")
	}
	d := &Dispatcher{
		outbox: cfg.Outbox, client: cfg.Client, now: cfg.Now, log: cfg.Logger, metrics: cfg.Metrics,
		jitter:  rand.Float64,
		workers: orDefault(cfg.Workers, DefaultWorkers), timeout: attemptTimeout(cfg),
		lease: orDefault(cfg.Lease, DefaultLease), retryBase: orDefault(cfg.RetryBase, DefaultRetryBase),
		retryMax: orDefault(cfg.RetryMax, DefaultRetryMax), maxAge: orDefault(cfg.MaxAge, DefaultMaxAge),
		poll: orDefault(cfg.Poll, DefaultPoll),
		kick: make(chan struct{}, 1), epoch: time.Now(),
	}
	d.batch = min(orDefault(cfg.Batch, d.workers), d.workers)
	d.retryMax = max(d.retryMax, d.retryBase)
	if d.client == nil {
		d.client = Policy{}.Client(d.timeout)
	}
	if d.lease <= d.timeout {
		panic(fmt.Sprintf("webhook: Lease %v must exceed the attempt timeout %v", d.lease, d.timeout))
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.metrics == nil {
		d.metrics = nopMetrics{}
	}
	return d
}

// attemptTimeout is the shorter of cfg.Timeout and the Client's own
// Timeout, whichever are set, so that the limit reported in "no answer
// within …" is the one that applied.
func attemptTimeout(cfg DispatcherConfig) time.Duration {
	t := cfg.Timeout
	if c := cfg.Client; c != nil && c.Timeout > 0 && (t <= 0 || c.Timeout < t) {
		t = c.Timeout
	}
	return orDefault(t, DefaultTimeout)
}

// clock is the time handed to the outbox: UTC to the millisecond, as the
// store keeps it (see verify.Service.Now), so a LeaseUntil the store
// computes from it survives the round trip exactly.
func (d *Dispatcher) clock() time.Time { return d.now().UTC().Truncate(time.Millisecond) }

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

type nopMetrics struct{}

func (nopMetrics) Attempted(Outcome, time.Duration) {}
func (nopMetrics) GaveUp()                          {}

// Kick wakes Run to look for due deliveries now, instead of at its next
// poll. It never blocks, and kicks that arrive while one is pending merge
// into it; it is safe from any goroutine, before or during Run.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers due deliveries until ctx is done, then returns nil once no
// attempt is in flight. Attempts cut short by ctx are not settled: their
// leases run out and they are claimed again. Run returns an error at once
// if this Dispatcher is already running.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("webhook: dispatcher is already running")
	}
	defer d.running.Store(false)
	d.settle = d.outbox.SettleDelivery
	if bo, ok := d.outbox.(BatchOutbox); ok {
		// Runs until every attempt has settled (the deferred wg.Wait below
		// runs first).
		b := startBatchSettler(bo, d.workers)
		defer b.stop()
		d.settle = b.settle
	}
	free := slots.New(d.workers) // one token per attempt in flight
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for {
		full, err := d.round(ctx, free, &wg)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			d.log.Error("webhook outbox unavailable", "err", err, "failures", failures)
			d.sleep(ctx, min(minWait<<min(failures, 20), maxErrorWait))
		case full:
			failures = 0 // more may be due: go again at once
		default:
			failures = 0
			d.idle(ctx)
		}
	}
}

// round claims as many due deliveries as there are idle workers (waiting
// for one if none is) and starts their attempts. full reports that it got
// all it asked for.
func (d *Dispatcher) round(ctx context.Context, free slots.Slots, wg *sync.WaitGroup) (full bool, err error) {
	return slots.Fill(ctx, free, d.batch, wg,
		func(n int) ([]Claimed, error) {
			claims, err := d.outbox.ClaimDeliveries(ctx, d.clock(), d.lease, n)
			if err != nil {
				return nil, fmt.Errorf("claim deliveries: %w", err)
			}
			return claims, nil
		},
		func(c Claimed) { d.deliver(ctx, c) },
		func(asked, got int) {
			d.log.Error("webhook outbox returned more deliveries than asked; ignoring the rest", "asked", asked, "got", got)
		})
}

// idle sleeps until the next delivery is due, a Kick, or Poll.
func (d *Dispatcher) idle(ctx context.Context) {
	// Until the wake-up time is known, any retry settled meanwhile must
	// kick: the query below may not have seen it.
	d.wakeAt.Store(math.MaxInt64)
	wait := d.poll
	at, ok, err := d.outbox.NextDeliveryDue(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Warn("webhook outbox: next due delivery", "err", err)
	case ok:
		wait = min(wait, max(at.Sub(d.now()), minWait))
	}
	d.wakeAt.Store(int64(time.Since(d.epoch) + wait))
	d.sleep(ctx, wait)
}

// retryScheduled wakes the idle loop early if a retry just settled is due
// before the loop meant to wake (short RetryBase, or a long Poll).
func (d *Dispatcher) retryScheduled(next time.Time) {
	if due := time.Since(d.epoch) + next.Sub(d.now()); int64(due) < d.wakeAt.Load() {
		d.Kick()
	}
}

func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.kick:
	case <-t.C:
	}
}

// deliver makes one attempt at c and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, c Claimed) {
	at := d.clock()
	start := time.Now()
	code, err := d.post(ctx, c, at)
	took := time.Since(start)
	if err != nil && ctx.Err() != nil {
		// Shut down mid-attempt. Counting it as a failure would push the
		// delivery back for the receiver's sake, not its own; let the
		// lease run out instead.
		d.log.Debug("webhook attempt abandoned at shutdown", "delivery", c.ID)
		return
	}
	a, o := d.judge(c, at, code, err)
	d.metrics.Attempted(o, took)
	if a.Status == verify.DeliveryFailed {
		d.metrics.GaveUp()
	}
	d.logAttempt(c, a, took)
	// Record the outcome even if shutdown has begun: the answer is in hand,
	// and dropping it would mean sending the webhook again.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if err := d.settle(sctx, c, a); err != nil {
		d.log.Error("webhook outcome not recorded; it will be retried when its lease ends",
			"delivery", c.ID, "status", a.Status, "err", err)
		return
	}
	if a.Status == verify.DeliveryPending {
		d.retryScheduled(a.NextAttemptAt)
	}
}

// post sends one signed attempt and returns the receiver's status code, or
// why there was none.
func (d *Dispatcher) post(ctx context.Context, c Claimed, at time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := NewRequest(ctx, c.URL, c.Secret, c.ID, at, c.Payload)
	if err != nil {
		return 0, &buildError{err}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// The status is the receiver's verdict; a body cut short changes
	// nothing, so a read error here is ignored.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return resp.StatusCode, nil
}

// judge turns an attempt's result into what the outbox records.
func (d *Dispatcher) judge(c Claimed, at time.Time, code int, err error) (Attempt, Outcome) {
	var o Outcome
	var msg string
	if err != nil {
		o, msg = describeError(err, d.timeout)
	} else {
		o, msg = describeStatus(code)
	}
	a := Attempt{At: at, StatusCode: code, Error: msg}
	if o == OutcomeDelivered {
		a.Status = verify.DeliveryDelivered
		return a, o
	}
	next := d.clock().Add(backoff(d.retryBase, d.retryMax, c.Attempts+1, d.jitter()))
	if next.After(c.CreatedAt.Add(d.maxAge)) {
		a.Status = verify.DeliveryFailed
		return a, o
	}
	a.Status, a.NextAttemptAt = verify.DeliveryPending, next
	return a, o
}

// backoff is the wait after the n-th failed attempt (n ≥ 1):
// d = min(base·2^(n-1), ceiling), less u·d/4 for u in [0, 1). Jitter that only
// subtracts keeps ceiling a true cap and the waits growing (0.75·2d > d).
func backoff(base, ceiling time.Duration, n int, u float64) time.Duration {
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		if d > ceiling/2 {
			d = ceiling // doubling would pass the cap (or overflow)
		} else {
			d *= 2
		}
	}
	d = min(d, ceiling)
	return d - time.Duration(float64(d)*u/4)
}

func (d *Dispatcher) logAttempt(c Claimed, a Attempt, took time.Duration) {
	attrs := []any{"delivery", c.ID, "app", c.AppID, "host", hostOf(c.URL), "attempt", c.Attempts + 1, "took", took}
	switch a.Status {
	case verify.DeliveryDelivered:
		d.log.Debug("webhook delivered", append(attrs, "code", a.StatusCode)...)
	case verify.DeliveryPending:
		d.log.Info("webhook attempt failed; will retry", append(attrs, "err", a.Error, "next", a.NextAttemptAt)...)
	default:
		d.log.Warn("webhook delivery failed; no more retries", append(attrs, "err", a.Error)...)
	}
}

// hostOf is the part of a URL that is safe to log: paths and queries may
// carry the customer's tokens.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Host
}
