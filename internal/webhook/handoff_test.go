package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/testutil"
	"github.com/ringgate/ringgate/internal/verify"
)

// handOutbox is a memOutbox that takes hand-offs and counts its claims.
type handOutbox struct {
	*memOutbox
	mu     sync.Mutex
	claims int
}

func (h *handOutbox) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claimed, error) {
	h.mu.Lock()
	h.claims++
	h.mu.Unlock()
	return h.memOutbox.ClaimDeliveries(ctx, now, lease, limit)
}

func (h *handOutbox) claimCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.claims
}

func (h *handOutbox) WebhookSecrets(_ context.Context, apps []string) (map[string]string, error) {
	h.memOutbox.mu.Lock()
	defer h.memOutbox.mu.Unlock()
	out := map[string]string{}
	for _, a := range apps {
		if s, ok := h.secrets[a]; ok {
			out[a] = s
		}
	}
	return out, nil
}

// A delivery queued leased to this dispatcher and offered to it is sent,
// signed with its app's secret, and settled under the lease it was queued
// with, without a claim: the hand-off's point.
func TestHandOffSendsWithoutClaim(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, nil)
	cfg := testConfig(t, ob.memOutbox, clock)
	cfg.Outbox, cfg.Poll = ob, time.Hour // no claim but the first
	d := NewDispatcher(cfg)
	if d.HandOff() != cfg.Lease {
		t.Fatalf("HandOff = %v, want the lease %v", d.HandOff(), cfg.Lease)
	}
	start(t, d)
	ob.waitFor(t, 5*time.Second, "the first look", func(m *memOutbox) bool { return m.nextCalls > 0 })
	claims := ob.claimCount()

	secret := verify.NewWebhookSecret()
	del := clock.delivery("msg_handed")
	del.URL = rc.srv.URL
	del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
	ob.add(del, secret)
	d.Offer([]verify.Delivery{del})
	ob.waitFor(t, 5*time.Second, "the handed delivery", status("msg_handed", verify.DeliveryDelivered))

	if got := ob.claimCount(); got != claims {
		t.Errorf("%d claims for a handed delivery, want none", got-claims)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	verifyRequest(t, secret, reqs[0])
}

// A handed delivery whose lease would end before an attempt could is not
// sent from the hand-off (another node could claim it mid-attempt); it is
// claimed once the lease is over and sent once.
func TestHandOffLeaseTooShortWaitsForClaim(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, nil)
	cfg := testConfig(t, ob.memOutbox, clock)
	// Real time passes too (the test clock is the wall clock plus what
	// advance added): an attempt's timeout long enough that half of it
	// outlasts a slow run's looks, so the lease ends only when advanced.
	cfg.Outbox, cfg.Timeout, cfg.Lease = ob, time.Minute, 5*time.Minute
	cfg.Client = Policy{AllowLoopback: true}.Client(cfg.Timeout)
	d := NewDispatcher(cfg)
	start(t, d)
	del := clock.delivery("msg_short")
	del.URL = rc.srv.URL
	del.LeaseUntil = clock.Now().Add(cfg.Timeout / 2).Truncate(time.Millisecond)
	ob.add(del, verify.NewWebhookSecret())
	d.Offer([]verify.Delivery{del})
	ob.waitFor(t, 5*time.Second, "a look after the offer", func(m *memOutbox) bool { return m.nextCalls > 2 })
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("sent %d times under a lease shorter than an attempt", n)
	}
	clock.advance(cfg.Timeout)
	d.Kick()
	ob.waitFor(t, 5*time.Second, "the claimed delivery", status("msg_short", verify.DeliveryDelivered))
	if n := len(rc.requests()); n != 1 {
		t.Errorf("sent %d times, want 1", n)
	}
}

// Without a HandOffOutbox there is no hand-off: the service must queue
// deliveries for claiming.
func TestHandOffNeedsSecrets(t *testing.T) {
	d := NewDispatcher(testConfig(t, newMemOutbox(), &testClock{}))
	if d.HandOff() != 0 {
		t.Errorf("HandOff = %v on an outbox without WebhookSecrets, want 0", d.HandOff())
	}
}

// The secrets read for handed deliveries are reused for secretTTL at most,
// and not after ForgetSecret (a rotation, told by a notice): a delivery
// handed after either is signed with the app's secret as it is then.
func TestHandOffSecretAfterRotation(t *testing.T) {
	for _, how := range []string{"ttl", "forget"} {
		t.Run(how, func(t *testing.T) {
			clock := &testClock{}
			ob := &handOutbox{memOutbox: newMemOutbox()}
			rc := newReceiver(t, nil)
			cfg := testConfig(t, ob.memOutbox, clock)
			cfg.Outbox = ob
			d := NewDispatcher(cfg)
			start(t, d)
			secrets := []string{verify.NewWebhookSecret(), verify.NewWebhookSecret()}
			for i, secret := range secrets {
				del := clock.delivery(fmt.Sprintf("msg_%d", i))
				del.URL = rc.srv.URL
				del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
				ob.add(del, secret) // the second rotates app_1's secret
				if i > 0 && how == "forget" {
					d.ForgetSecret("app_1")
				}
				d.Offer([]verify.Delivery{del})
				ob.waitFor(t, 5*time.Second, del.ID, status(del.ID, verify.DeliveryDelivered))
				if how == "ttl" {
					clock.advance(secretTTL)
				}
			}
			reqs := rc.requests()
			if len(reqs) != 2 {
				t.Fatalf("receiver got %d requests, want 2", len(reqs))
			}
			for i, secret := range secrets {
				verifyRequest(t, secret, reqs[i])
			}
		})
	}
}

// A claim takes as many deliveries again as there are workers, queued to
// start as workers come free: fewer claims per delivery, and never more
// attempts in flight than workers. With a lease too short for an attempt
// to wait one out, it takes only what the idle workers can start.
func TestClaimTakesExtrasForTheQueue(t *testing.T) {
	const deliveries = 12
	claims := map[bool]int{}
	for _, extras := range []bool{true, false} {
		clock := &testClock{}
		ob := &handOutbox{memOutbox: newMemOutbox()}
		var mu sync.Mutex
		inFlight, most := 0, 0
		rc := newReceiver(t, nil)
		rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // the attempts overlap
			mu.Lock()
			inFlight--
			mu.Unlock()
			rc.serve(w, r)
		})
		for i := range deliveries {
			del := clock.delivery(fmt.Sprintf("msg_%02d", i))
			del.URL = rc.srv.URL
			ob.add(del, verify.NewWebhookSecret())
		}
		cfg := testConfig(t, ob.memOutbox, clock)
		cfg.Outbox, cfg.Workers = ob, 2
		if !extras {
			cfg.Lease = cfg.Timeout + time.Second // does not cover two attempts
		}
		stop := start(t, NewDispatcher(cfg))
		ob.waitFor(t, 5*time.Second, "every delivery", func(m *memOutbox) bool { return len(m.pending) == 0 })
		stop()
		claims[extras] = ob.claimCount()
		if most > 2 {
			t.Errorf("extras %v: %d attempts in flight at once, want at most the 2 workers", extras, most)
		}
		if n := len(rc.requests()); n != deliveries {
			t.Errorf("extras %v: %d requests, want %d", extras, n, deliveries)
		}
	}
	// Without extras a claim takes at most 2: at least 6 for 12.
	if claims[false] < deliveries/2 || claims[true] >= claims[false] {
		t.Errorf("claims with extras %d, without %d: want fewer with", claims[true], claims[false])
	}
}

// Run returns when its context ends even with deliveries still queued
// behind busy workers (they stay leased, and are claimed after the lease).
func TestRunStopsWithAQueue(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	hold := make(chan struct{})
	defer close(hold)
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) { <-hold })
	cfg := testConfig(t, ob.memOutbox, clock)
	cfg.Outbox, cfg.Workers = ob, 1
	d := NewDispatcher(cfg)
	stop := start(t, d)
	var ds []verify.Delivery
	for i := range 5 {
		del := clock.delivery(fmt.Sprintf("msg_%d", i))
		del.URL = rc.srv.URL
		del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
		ob.add(del, verify.NewWebhookSecret())
		ds = append(ds, del)
	}
	d.Offer(ds)
	testutil.WaitFor(t, 5*time.Second, "the first attempt", func() bool { return len(rc.requests()) > 0 })
	if !d.queued() {
		t.Fatal("nothing queued behind the busy worker")
	}
	stop() // fails the test if Run does not return within 5s
}

// While handed deliveries keep the workers busy, claims still run once a
// poll: a retry (or a delivery whose node died) does not wait for the
// queue to empty.
func TestClaimsRunWhileTheQueueIsLong(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) { time.Sleep(10 * time.Millisecond) })
	cfg := testConfig(t, ob.memOutbox, clock)
	cfg.Outbox, cfg.Workers, cfg.Poll = ob, 1, 30*time.Millisecond
	d := NewDispatcher(cfg)
	start(t, d)
	ob.waitFor(t, 5*time.Second, "the first look", func(m *memOutbox) bool { return m.nextCalls > 0 })
	const handed = 40 // 40 attempts of 10 ms: the queue lasts 400 ms
	var ds []verify.Delivery
	for i := range handed {
		del := clock.delivery(fmt.Sprintf("msg_h%02d", i))
		del.URL = rc.srv.URL
		del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
		ob.add(del, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		ds = append(ds, del)
	}
	retry := clock.delivery("msg_retry") // due now, for a claim
	retry.URL = rc.srv.URL
	ob.add(retry, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	d.Offer(ds)
	ob.waitFor(t, 10*time.Second, "every delivery", func(m *memOutbox) bool { return len(m.pending) == 0 })
	for i, r := range rc.requests() {
		if r.header.Get("webhook-id") == "msg_retry" {
			if i >= handed/2 {
				t.Errorf("the claimable delivery was request %d of %d: claims waited for the queue", i+1, handed+1)
			}
			return
		}
	}
	t.Error("the claimable delivery was never sent")
}

// A hand-off beyond the queue's bound loses nothing: the deliveries the
// queue could not take keep their leases in the outbox and are claimed
// once those end, so every delivery is sent, and sent once. The overflow
// is logged.
func TestHandOffQueueFullLeavesTheRestToClaims(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, nil)
	cfg := testConfig(t, ob.memOutbox, clock)
	var logs testutil.SyncBuffer
	cfg.Outbox, cfg.Logger = ob, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A lease far longer than the test, so that no delivery's lease ends
	// but when the clock is advanced; workers enough to send 4,096 quickly.
	cfg.Lease, cfg.Workers = time.Hour, 16
	d := NewDispatcher(cfg)
	secret := verify.NewWebhookSecret()
	const extra = 5
	ds := make([]verify.Delivery, maxHanded+extra)
	for i := range ds {
		del := clock.delivery(fmt.Sprintf("msg_%05d", i))
		del.URL = rc.srv.URL
		del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
		ob.add(del, secret)
		ds[i] = del
	}
	d.Offer(ds) // before Run, so that nothing drains the queue meanwhile
	if got := d.dropped.Load(); got != extra {
		t.Fatalf("hand-off dropped %d deliveries, want %d", got, extra)
	}
	if !strings.Contains(logs.String(), "hand-off queue full") {
		t.Errorf("no warning for the overflow; log: %q", logs.String())
	}
	delivered := func(m *memOutbox) int {
		n := 0
		for _, dl := range m.ds {
			if dl.Status == verify.DeliveryDelivered {
				n++
			}
		}
		return n
	}
	start(t, d)
	ob.waitFor(t, 2*time.Minute, "the queued deliveries", func(m *memOutbox) bool { return delivered(m) >= maxHanded })
	for _, dl := range ds[maxHanded:] {
		if got, _ := ob.get(dl.ID); got.Status != verify.DeliveryPending {
			t.Fatalf("%s, left out of the queue, is %s before its lease ended", dl.ID, got.Status)
		}
	}
	clock.advance(d.HandOff())
	d.Kick()
	ob.waitFor(t, 10*time.Second, "the rest, claimed after their leases", func(m *memOutbox) bool { return delivered(m) == len(ds) })
	if n := len(rc.requests()); n != len(ds) {
		t.Errorf("receiver got %d requests for %d deliveries, want each once", n, len(ds))
	}
}

// Handed deliveries cost no look at the outbox either: a handed delivery
// is never due before its lease ends, so after sending one the idle loop
// sleeps until the wake-up time it already knew, instead of asking the
// outbox for the next due delivery again (a query per verified call).
func TestHandOffNeedsNoLookPerDelivery(t *testing.T) {
	clock := &testClock{}
	ob := &handOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, nil)
	cfg := testConfig(t, ob.memOutbox, clock)
	cfg.Outbox, cfg.Poll = ob, time.Hour
	d := NewDispatcher(cfg)
	start(t, d)
	ob.waitFor(t, 5*time.Second, "the first look", func(m *memOutbox) bool { return m.nextCalls > 0 })
	secret := verify.NewWebhookSecret()
	ob.mu.Lock()
	looks := ob.nextCalls
	ob.mu.Unlock()
	const n = 50
	for i := range n {
		del := clock.delivery(fmt.Sprintf("msg_look_%d", i))
		del.URL = rc.srv.URL
		del.LeaseUntil = clock.Now().Add(d.HandOff()).Truncate(time.Millisecond)
		ob.add(del, secret)
		d.Offer([]verify.Delivery{del})
		ob.waitFor(t, 5*time.Second, "the handed delivery", status(del.ID, verify.DeliveryDelivered))
	}
	ob.mu.Lock()
	looks = ob.nextCalls - looks
	ob.mu.Unlock()
	if looks > 1 {
		t.Errorf("%d looks at the outbox for %d handed deliveries, want at most 1", looks, n)
	}
	if got := len(rc.requests()); got != n {
		t.Errorf("receiver got %d requests, want %d", got, n)
	}
}
