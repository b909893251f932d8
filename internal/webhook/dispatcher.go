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
	"slices"
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
	// maxHanded bounds the deliveries handed over (Offer) and not yet
	// started. Past it Offer drops them: each stays leased until its lease
	// runs out, and is then claimed like any other.
	maxHanded = 4096
	// secretTTL is how long a secret read for a handed delivery is used
	// for others of its app. A rotation drops it at once on the node that
	// made it and, through the cluster's notices, on the others
	// (ForgetSecret); the TTL bounds how long a node that missed the
	// notice signs with a secret rotated out without overlap.
	secretTTL = time.Second
	// settleQueue is how many outcomes may wait for the settler per worker:
	// a worker goes on to its next attempt once its outcome is queued, and
	// waits only when the queue is full.
	settleQueue = 4
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
	// Batch is the most attempts a claim starts at once (default and at
	// most Workers). When the lease covers two attempts, a claim also takes
	// as many again as there are workers, to start as workers come free:
	// each waits at most one attempt, and starts only if its lease still
	// covers its own.
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
	// wantClaim says the next round must claim from the outbox: set by
	// Kick, by the poll and next-due timers, and after a full claim. A
	// wake-up for handed deliveries alone claims nothing.
	wantClaim atomic.Bool
	// handOff is the outbox as a HandOffOutbox, nil if it is not one.
	handOff HandOffOutbox
	// queue holds deliveries this dispatcher holds under a lease and has
	// not started, oldest first: those Offer was handed, and a claim's
	// extras (round). Each starts only if its lease leaves room for an
	// attempt.
	queueMu sync.Mutex
	queue   []queued
	// extra is how many deliveries a claim takes beyond the idle workers,
	// to wait in the queue: the workers' number if the lease covers two
	// attempts (each waits at most one), else none.
	extra   int
	dropped atomic.Int64
	// secrets caches the apps' secrets read for handed deliveries, for
	// secretTTL: a read each (4% of a node's CPU at 1,000 verified calls
	// a second) for a value that changes when an operator rotates it.
	// secretsGen counts ForgetSecret calls, so that a read that began
	// before one is used but not kept.
	secretsMu  sync.Mutex
	secrets    map[string]cachedSecret
	secretsGen uint64
	// wakeAt is when the idle loop means to wake, as time since epoch on
	// the monotonic clock (Now may be set, stepped or faked).
	epoch  time.Time
	wakeAt atomic.Int64
	// dueGen counts what may make a delivery due sooner than the idle
	// loop last found (a Kick, a claim round); while it is unchanged the
	// loop sleeps until its last wake-up time again instead of asking the
	// outbox (a query per hand-off otherwise, 3% of a verified call's CPU
	// at 1,000 a second). Handed deliveries are due only when their lease
	// ends, later than the loop's longest sleep (Poll), and a retry settled
	// sooner than the wake-up kicks. idleGen and idleWake are Run's own.
	dueGen   atomic.Int64
	idleGen  int64
	idleWake time.Time
	// batcher settles outcomes in batches when the outbox is a
	// BatchOutbox; set by Run before any attempt starts.
	batcher *batchSettler
}

// batchSettler records the outcomes of attempts in batches of one
// SettleDeliveries: a worker queues its outcome and goes on to its next
// attempt (waiting only while the queue is full), and the settler takes
// whatever has queued meanwhile as one batch. No timer: a lone attempt
// settles at once, as it would alone; under load the batches grow by
// themselves. Settling one by one, and workers waiting for their settles,
// were the dispatcher's main costs (a statement, and on PostgreSQL a round
// trip, per delivery, during which its worker sent nothing). An outcome
// queued is held under its delivery's lease, so nobody sends it again
// meanwhile; if the process dies first, the lease runs out and the
// delivery is sent again (at least once, as always).
type batchSettler struct {
	outbox  BatchOutbox
	max     int
	reqs    chan Settlement
	done    chan struct{}
	settled func(Claimed, Attempt, error) // told of each outcome recorded or not
}

func startBatchSettler(o BatchOutbox, max int, settled func(Claimed, Attempt, error)) *batchSettler {
	b := &batchSettler{outbox: o, max: max, reqs: make(chan Settlement, max), done: make(chan struct{}), settled: settled}
	go b.run()
	return b
}

// queue hands an outcome to the settler.
func (b *batchSettler) queue(c Claimed, a Attempt) {
	b.reqs <- Settlement{Claimed: c, Attempt: a}
}

// stop ends the settler once every attempt has settled (Run calls it after
// waiting for them).
func (b *batchSettler) stop() {
	close(b.reqs)
	<-b.done
}

func (b *batchSettler) run() {
	defer close(b.done)
	batch := make([]Settlement, 0, b.max)
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

// flush settles a batch in one call; if that fails, each alone, so that
// one bad outcome does not cost the others theirs. It goes on after Run's
// context is done: the answers are in hand, and dropping them would mean
// sending the webhooks again.
func (b *batchSettler) flush(batch []Settlement) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if len(batch) > 1 {
		if err := b.outbox.SettleDeliveries(ctx, batch); err == nil {
			for _, r := range batch {
				b.settled(r.Claimed, r.Attempt, nil)
			}
			return
		}
	}
	for _, r := range batch {
		b.settled(r.Claimed, r.Attempt, b.outbox.SettleDelivery(ctx, r.Claimed, r.Attempt))
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
	d.handOff, _ = cfg.Outbox.(HandOffOutbox)
	if d.lease >= 2*d.timeout {
		d.extra = d.workers
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
	d.dueGen.Add(1)
	d.wantClaim.Store(true)
	d.wake()
}

func (d *Dispatcher) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// HandOff is the lease a store should queue deliveries under for Offer
// (verify.Config.DeliveryLease): this dispatcher's lease, or 0 if its
// outbox cannot take hand-offs.
func (d *Dispatcher) HandOff() time.Duration {
	if d.handOff == nil {
		return 0
	}
	return d.lease
}

// Offer hands the dispatcher deliveries this node queued leased to it
// (verify.Notice.Handed), once their transaction has committed: it sends
// them without claiming them, so a webhook costs no claim on the store and
// leaves as soon as a worker is free. It never blocks. Deliveries it
// cannot take (more than maxHanded waiting, or a lease too near its end
// when a worker gets to them) stay leased until the lease runs out and are
// then claimed like any other. Safe from any goroutine, before or during
// Run.
func (d *Dispatcher) Offer(ds []verify.Delivery) {
	if len(ds) == 0 || d.handOff == nil {
		return
	}
	d.queueMu.Lock()
	take := max(min(maxHanded-len(d.queue), len(ds)), 0)
	for _, dl := range ds[:take] {
		d.queue = append(d.queue, queued{Claimed{Delivery: dl}, true})
	}
	d.queueMu.Unlock()
	if lost := len(ds) - take; lost > 0 {
		d.dueGen.Add(1) // due when their leases end
		if n := d.dropped.Add(int64(lost)); n == int64(lost) || (n-int64(lost))/1000 != n/1000 {
			d.log.Warn("webhook hand-off queue full; deliveries wait for their leases to end", "dropped", n)
		}
	}
	d.wake()
}

// ForgetSecret drops what the dispatcher holds of an app's webhook
// secret, or of every app's for "": the server calls it when a secret was
// rotated, here or on another node, and when it may have missed other
// nodes' notices. Safe from any goroutine.
func (d *Dispatcher) ForgetSecret(appID string) {
	d.secretsMu.Lock()
	defer d.secretsMu.Unlock()
	if appID == "" {
		clear(d.secrets)
	} else {
		delete(d.secrets, appID)
	}
	d.secretsGen++
}

// queued is a delivery in the queue; needSecret marks one handed over,
// whose app's secret is read when it starts.
type queued struct {
	Claimed
	needSecret bool
}

func (d *Dispatcher) queued() bool {
	d.queueMu.Lock()
	defer d.queueMu.Unlock()
	return len(d.queue) > 0
}

// takeQueued takes up to n deliveries from the queue and returns those
// whose lease leaves room for an attempt, with their app's secret. Those
// it drops, and all it took on an error, stay leased and are claimed when
// their leases end.
func (d *Dispatcher) takeQueued(ctx context.Context, n int) ([]Claimed, error) {
	d.queueMu.Lock()
	k := min(n, len(d.queue))
	qs := slices.Clone(d.queue[:k])
	d.queue = slices.Delete(d.queue, 0, k)
	d.queueMu.Unlock()
	latest := d.now().Add(d.timeout) // an attempt starting now ends by then
	if qs = slices.DeleteFunc(qs, func(q queued) bool { return !q.LeaseUntil.After(latest) }); len(qs) < k {
		d.dueGen.Add(1) // those dropped are due when their leases end
	}
	var apps []string
	for _, q := range qs {
		if q.needSecret && !slices.Contains(apps, q.AppID) {
			apps = append(apps, q.AppID)
		}
	}
	out := make([]Claimed, 0, len(qs))
	if len(apps) == 0 {
		for _, q := range qs {
			out = append(out, q.Claimed)
		}
		return out, nil
	}
	resolved := make(map[string]string, len(apps))
	now := d.now()
	d.secretsMu.Lock()
	gen := d.secretsGen
	var missing []string
	for _, app := range apps {
		if c, ok := d.secrets[app]; ok && now.Sub(c.at) < secretTTL && !now.Before(c.at) {
			resolved[app] = c.secret
		} else {
			missing = append(missing, app)
		}
	}
	d.secretsMu.Unlock()
	if len(missing) > 0 {
		read, err := d.handOff.WebhookSecrets(ctx, missing)
		if err != nil {
			d.dueGen.Add(1) // all taken stay leased: due when their leases end
			return nil, fmt.Errorf("read webhook secrets: %w", err)
		}
		d.secretsMu.Lock()
		if d.secrets == nil || len(d.secrets) > 1024 { // many apps: start again
			d.secrets = map[string]cachedSecret{}
		}
		for _, app := range missing {
			secret, ok := read[app]
			if ok {
				resolved[app] = secret
			}
			switch {
			case d.secretsGen != gen: // forgotten meanwhile: used once, not kept
			case ok:
				d.secrets[app] = cachedSecret{secret, now}
			default:
				delete(d.secrets, app)
			}
		}
		d.secretsMu.Unlock()
	}
	for _, q := range qs {
		if !q.needSecret {
			out = append(out, q.Claimed)
		} else if secret, ok := resolved[q.AppID]; ok { // an app gone: its lease runs out
			q.Secret = secret
			out = append(out, q.Claimed)
		}
	}
	return out, nil
}

type cachedSecret struct {
	secret string
	at     time.Time
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
	d.batcher = nil
	if bo, ok := d.outbox.(BatchOutbox); ok {
		// Runs until every attempt has settled (the deferred wg.Wait below
		// runs first).
		d.batcher = startBatchSettler(bo, settleQueue*d.workers, d.settled)
		defer d.batcher.stop()
	}
	free := slots.New(d.workers) // one token per attempt in flight
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	d.wantClaim.Store(true)
	var lastClaim time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		if d.queued() {
			if err := d.queuedRound(ctx, free, &wg); err != nil && ctx.Err() == nil {
				d.log.Error("webhook deliveries held not sent; they will be claimed when their leases end", "err", err)
			}
			// The queue goes first, but claims wait a poll at most:
			// retries, and deliveries whose node died or whose lease ran
			// out in the queue, are due too.
			if !d.wantClaim.Load() && time.Since(lastClaim) < d.poll {
				continue
			}
			d.wantClaim.Store(true)
		}
		if d.wantClaim.Swap(false) {
			lastClaim = time.Now()
			d.dueGen.Add(1)
			full, err := d.round(ctx, free, &wg)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				failures++
				d.wantClaim.Store(true)
				d.log.Error("webhook outbox unavailable", "err", err, "failures", failures)
				d.sleep(ctx, min(minWait<<min(failures, 20), maxErrorWait))
				continue
			case full:
				failures = 0 // more may be due: go again at once
				d.wantClaim.Store(true)
				continue
			}
			failures = 0
		}
		if !d.queued() && !d.wantClaim.Load() {
			d.idle(ctx)
		}
	}
}

// queuedRound starts attempts at queued deliveries, as many as there are
// idle workers (waiting for one if none is).
func (d *Dispatcher) queuedRound(ctx context.Context, free slots.Slots, wg *sync.WaitGroup) error {
	_, err := slots.Fill(ctx, free, d.batch, wg,
		func(n int) ([]Claimed, error) { return d.takeQueued(ctx, n) },
		func(c Claimed) { d.deliver(ctx, c) },
		func(int, int) {})
	return err
}

// round claims due deliveries, as many as there are idle workers (waiting
// for one if none is) plus extra, starts attempts at as many as there are
// idle workers and queues the rest, which start as workers come free
// (the queue is empty when round runs, so each waits at most one attempt).
// Claiming more at once costs fewer claims per delivery. full reports
// that it got all it asked for.
func (d *Dispatcher) round(ctx context.Context, free slots.Slots, wg *sync.WaitGroup) (full bool, err error) {
	n := free.Acquire(ctx, d.batch)
	if n == 0 {
		return false, nil // ctx is done
	}
	extra := d.extra
	if d.queued() { // the queue has work for the workers already
		extra = 0
	}
	want := n + extra
	claims, err := d.outbox.ClaimDeliveries(ctx, d.clock(), d.lease, want)
	if err != nil {
		free.Release(n)
		return false, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(claims) > want {
		d.log.Error("webhook outbox returned more deliveries than asked; ignoring the rest", "asked", want, "got", len(claims))
		claims = claims[:want]
	}
	now := claims[:min(n, len(claims))]
	free.Release(n - len(now))
	for _, c := range now {
		wg.Go(func() {
			defer free.Release(1)
			d.deliver(ctx, c)
		})
	}
	if rest := claims[len(now):]; len(rest) > 0 {
		d.queueMu.Lock()
		for _, c := range rest {
			d.queue = append(d.queue, queued{Claimed: c})
		}
		d.queueMu.Unlock()
	}
	return len(claims) == want, nil
}

// idle sleeps until the next delivery is due, a Kick, or Poll.
func (d *Dispatcher) idle(ctx context.Context) {
	gen := d.dueGen.Load()
	if gen == d.idleGen && !d.idleWake.IsZero() {
		// Nothing can be due sooner than when the loop last meant to wake
		// (dueGen): sleep until then again.
		wait := d.idleWake.Sub(d.now())
		if wait <= 0 {
			d.wantClaim.Store(true)
			return
		}
		d.wakeAt.Store(int64(time.Since(d.epoch) + wait))
		d.sleep(ctx, wait)
		return
	}
	// Until the wake-up time is known, any retry settled meanwhile must
	// kick: the query below may not have seen it.
	d.wakeAt.Store(math.MaxInt64)
	wait := d.poll
	at, ok, err := d.outbox.NextDeliveryDue(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Warn("webhook outbox: next due delivery", "err", err)
		gen-- // ask again next time
	case ok:
		wait = min(wait, max(at.Sub(d.now()), minWait))
	}
	d.idleGen, d.idleWake = gen, d.now().Add(wait)
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

// sleep waits for wait, a wake-up or ctx. When the wait runs out, the next
// round claims.
func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.kick:
	case <-t.C:
		d.wantClaim.Store(true)
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
	if d.batcher != nil {
		d.batcher.queue(c, a)
		return
	}
	// Record the outcome even if shutdown has begun: the answer is in hand,
	// and dropping it would mean sending the webhook again.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	d.settled(c, a, d.outbox.SettleDelivery(sctx, c, a))
}

// settled follows an outcome's recording: a retry due soon wakes the loop.
func (d *Dispatcher) settled(c Claimed, a Attempt, err error) {
	if err != nil {
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
