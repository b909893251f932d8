package webhook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ringgate/ringgate/internal/testutil"
	"github.com/ringgate/ringgate/internal/verify"
)

// receiver is a webhook endpoint on 127.0.0.1 that records what it gets.
type receiver struct {
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request) // n counts requests from 1; nil answers 200

	mu   sync.Mutex
	reqs []received
}

type received struct {
	method, uri string
	header      http.Header
	body        []byte
}

func newReceiver(t testing.TB, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, received{r.Method, r.RequestURI, r.Header.Clone(), body})
	n := len(rc.reqs)
	rc.mu.Unlock()
	if rc.respond != nil {
		rc.respond(n, w, r)
	}
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// testConfig is a dispatcher for tests: loopback allowed, fast retries.
func testConfig(t testing.TB, ob *memOutbox, clock *testClock) DispatcherConfig {
	return DispatcherConfig{
		Outbox:    ob,
		Client:    Policy{AllowLoopback: true}.Client(2 * time.Second),
		Now:       clock.Now,
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Timeout:   2 * time.Second,
		Lease:     5 * time.Second,
		RetryBase: 20 * time.Millisecond,
		RetryMax:  50 * time.Millisecond,
	}
}

// start runs d until the returned stop is called (or the test ends).
func start(t testing.TB, d *Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return within 5s of cancel")
		}
	})
	t.Cleanup(stop)
	return stop
}

func verifyRequest(t *testing.T, secret string, r received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(r.body, r.header); err != nil {
		t.Errorf("library Verify: %v", err)
	}
	if err := customerVerify(secret, r.header, r.body); err != nil {
		t.Errorf("hand-written verify: %v", err)
	}
}

func TestDispatchDelivers(t *testing.T) {
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, nil)
	secret := verify.NewWebhookSecret()
	del := clock.delivery("msg_1")
	del.URL = rc.srv.URL + "/hook?token=abc"
	ob.add(del, secret)

	start(t, NewDispatcher(testConfig(t, ob, clock)))
	ob.waitFor(t, 5*time.Second, "delivery", status("msg_1", verify.DeliveryDelivered))

	got, hist := ob.get("msg_1")
	if got.Attempts != 1 || got.LastStatusCode != 200 || got.LastError != "" || got.DeliveredAt.IsZero() || len(hist) != 1 {
		t.Errorf("delivery after success: %+v, history %+v", got, hist)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.uri != "/hook?token=abc" || string(r.body) != string(del.Payload) {
		t.Errorf("got %s %s %s", r.method, r.uri, r.body)
	}
	ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp %q is not now", r.header.Get("webhook-timestamp"))
	}
	for name, want := range map[string]string{
		"webhook-id": "msg_1", "Content-Type": "application/json", "User-Agent": "ringgate-webhooks/1",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	verifyRequest(t, secret, r)
}

func TestDispatchRetriesWithSameID(t *testing.T) {
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		clock.advance(2 * time.Second) // so each attempt has its own timestamp
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	secret := verify.NewWebhookSecret()
	del := clock.delivery("msg_retry")
	del.URL = rc.srv.URL
	ob.add(del, secret)

	cfg := testConfig(t, ob, clock)
	cfg.Poll = time.Minute // retries must wake the loop themselves
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "delivery", status("msg_retry", verify.DeliveryDelivered))

	got, hist := ob.get("msg_retry")
	if got.Attempts != 3 || len(hist) != 3 {
		t.Fatalf("delivered after %d attempts (history %+v), want 3", got.Attempts, hist)
	}
	for i, a := range hist[:2] {
		if a.Status != verify.DeliveryPending || a.StatusCode != 503 || a.Error != "503 Service Unavailable" || !a.NextAttemptAt.After(a.At) {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	seen := map[string]bool{}
	for i, r := range reqs {
		if id := r.header.Get("webhook-id"); id != "msg_retry" {
			t.Errorf("request %d: webhook-id %q, want msg_retry", i+1, id)
		}
		ts := r.header.Get("webhook-timestamp")
		if seen[ts] {
			t.Errorf("request %d repeats timestamp %s", i+1, ts)
		}
		seen[ts] = true
		verifyRequest(t, secret, r)
	}
}

func TestDispatchReceiverDownThenUp(t *testing.T) {
	// A port nothing listens on, for now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	clock, ob := &testClock{}, newMemOutbox()
	del := clock.delivery("msg_down")
	del.URL = "http://" + addr + "/hook"
	ob.add(del, verify.NewWebhookSecret())
	cfg := testConfig(t, ob, clock)
	cfg.Poll = time.Minute
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "two refused attempts", func(m *memOutbox) bool {
		d := m.ds["msg_down"]
		return d.Attempts >= 2 && d.LastError == "connection refused" && d.Status == verify.DeliveryPending
	})

	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	rc := &receiver{}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Listener.Close()
	rc.srv.Listener = l
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)

	ob.waitFor(t, 5*time.Second, "delivery", status("msg_down", verify.DeliveryDelivered))
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	if _, hist := ob.get("msg_down"); hist[0].StatusCode != 0 || hist[0].Error != "connection refused" {
		t.Errorf("first attempt recorded as %+v", hist[0])
	}
}

func TestDispatchGivesUpAfterMaxAge(t *testing.T) {
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		clock.advance(40 * time.Minute)
		w.WriteHeader(http.StatusInternalServerError)
	})
	del := clock.delivery("msg_old")
	del.URL = rc.srv.URL
	ob.add(del, verify.NewWebhookSecret())
	cfg := testConfig(t, ob, clock)
	cfg.MaxAge, cfg.Poll = time.Hour, time.Minute
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "failure", status("msg_old", verify.DeliveryFailed))

	// Attempt 1 at +0 (retry due at +40m, within the hour); attempt 2 at
	// +40m, whose retry would be past +1h.
	got, hist := ob.get("msg_old")
	if got.Attempts != 2 || got.LastError != "500 Internal Server Error" || got.LastStatusCode != 500 {
		t.Errorf("failed delivery: %+v", got)
	}
	if last := hist[len(hist)-1]; !last.NextAttemptAt.IsZero() {
		t.Errorf("final attempt has NextAttemptAt %v", last.NextAttemptAt)
	}
}

// TestDispatchFailures checks how failed attempts are recorded.
func TestDispatchFailures(t *testing.T) {
	tests := []struct {
		name      string
		respond   func(n int, w http.ResponseWriter, r *http.Request)
		policy    Policy
		secret    string // default: a fresh one
		timeout   time.Duration
		wantError string
		wantCode  int
		wantReqs  int
	}{
		{
			name: "redirect",
			respond: func(n int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			policy:    Policy{AllowLoopback: true},
			wantError: "302 Found (redirects are not followed; use the final URL)", wantCode: 302, wantReqs: 1,
		},
		{
			name:      "no secret",
			policy:    Policy{AllowLoopback: true},
			secret:    "whsec_",
			wantError: "the app has no webhook secret", wantReqs: 0,
		},
		{
			name:      "refused address",
			policy:    Policy{},
			wantError: "refused: address 127.0.0.1 is in the loopback network", wantReqs: 0,
		},
		{
			name: "timeout",
			respond: func(n int, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			policy: Policy{AllowLoopback: true}, timeout: 100 * time.Millisecond,
			wantError: "no answer within 100ms", wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock, ob := &testClock{}, newMemOutbox()
			rc := newReceiver(t, tt.respond)
			del := clock.delivery("msg_f")
			del.URL = rc.srv.URL + "/hook"
			secret := tt.secret
			if secret == "" {
				secret = verify.NewWebhookSecret()
			}
			ob.add(del, secret)
			cfg := testConfig(t, ob, clock)
			cfg.Client = tt.policy.Client(time.Second)
			cfg.RetryBase, cfg.RetryMax = time.Hour, time.Hour // one attempt
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			start(t, NewDispatcher(cfg))
			ob.waitFor(t, 5*time.Second, "an attempt", func(m *memOutbox) bool { return m.ds["msg_f"].Attempts > 0 })
			got, _ := ob.get("msg_f")
			if got.Status != verify.DeliveryPending || got.LastError != tt.wantError || got.LastStatusCode != tt.wantCode {
				t.Errorf("after one attempt: status %s, code %d, error %q; want pending, %d, %q",
					got.Status, got.LastStatusCode, got.LastError, tt.wantCode, tt.wantError)
			}
			if d := time.Until(got.NextAttemptAt.Add(-time.Duration(clock.off.Load()))); d < 40*time.Minute {
				t.Errorf("next attempt in %v, want about an hour", d)
			}
			if n := len(rc.requests()); n != tt.wantReqs {
				t.Errorf("receiver got %d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

// countingTransport counts the response body bytes its client read.
type countingTransport struct {
	next http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	b.n.Add(int64(k))
	return k, err
}

// TestDispatchReadsAtMost64KiB: a receiver that answers 200 with an endless
// body must not hold a worker until the timeout, and the dispatcher reads
// exactly 64 KiB of it, not a byte more.
func TestDispatchReadsAtMost64KiB(t *testing.T) {
	var written atomic.Int64
	var stopped atomic.Bool
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		defer stopped.Store(true)
		chunk := make([]byte, 32<<10)
		for range 1 << 14 { // 512 MiB, bounded in case nobody hangs up
			k, err := w.Write(chunk)
			written.Add(int64(k))
			if err != nil {
				return
			}
		}
	})
	del := clock.delivery("msg_big")
	del.URL = rc.srv.URL
	ob.add(del, verify.NewWebhookSecret())
	cfg := testConfig(t, ob, clock)
	cfg.Timeout, cfg.Lease = 10*time.Second, 20*time.Second
	cfg.Client = Policy{AllowLoopback: true}.Client(10 * time.Second)
	counted := &countingTransport{next: cfg.Client.Transport}
	cfg.Client.Transport = counted
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 3*time.Second, "delivery well before the 10s timeout", status("msg_big", verify.DeliveryDelivered))
	if got := counted.read.Load(); got != 64<<10 {
		t.Errorf("the dispatcher read %d bytes of the response, want exactly %d (64 KiB)", got, 64<<10)
	}
	// The receiver's writes fail once the dispatcher hangs up: it never got
	// to write all of its 512 MiB (what it did write fills socket buffers).
	testutil.WaitFor(t, 5*time.Second, "the receiver to stop writing", stopped.Load)
	if w := written.Load(); w >= 512<<20 {
		t.Errorf("the receiver wrote its whole %d bytes: nobody hung up", w)
	}
	t.Logf("receiver wrote %d KiB before the dispatcher hung up", written.Load()>>10)
}

func TestKickWakesRun(t *testing.T) {
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, nil)
	cfg := testConfig(t, ob, clock)
	cfg.Poll = time.Minute // without a kick, nothing happens for a minute
	d := NewDispatcher(cfg)
	start(t, d)
	ob.waitFor(t, 5*time.Second, "the loop to go idle", func(m *memOutbox) bool { return m.nextCalls > 0 })

	del := clock.delivery("msg_kick")
	del.URL = rc.srv.URL
	ob.add(del, verify.NewWebhookSecret())
	time.Sleep(30 * time.Millisecond)
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("delivered %d times before the kick; the loop was not asleep", n)
	}
	kicked := time.Now()
	d.Kick()
	ob.waitFor(t, 5*time.Second, "delivery after Kick", status("msg_kick", verify.DeliveryDelivered))
	if took := time.Since(kicked); took > time.Second {
		t.Errorf("delivered %v after Kick", took)
	}
}

func TestKickNeverBlocks(t *testing.T) {
	d := NewDispatcher(DispatcherConfig{Outbox: newMemOutbox()}) // not running
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				d.Kick()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Kick blocked")
	}
	if len(d.kick) != 1 {
		t.Errorf("%d kicks pending, want them merged into 1", len(d.kick))
	}
}

func TestDispatchBoundedConcurrency(t *testing.T) {
	const workers, deliveries = 3, 12
	var inFlight, most atomic.Int32
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := most.Load(); now > old && !most.CompareAndSwap(old, now); old = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
	})
	for i := range deliveries {
		del := clock.delivery(fmt.Sprintf("msg_%02d", i))
		del.URL = rc.srv.URL
		ob.add(del, verify.NewWebhookSecret())
	}
	cfg := testConfig(t, ob, clock)
	cfg.Workers = workers
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "all deliveries", func(m *memOutbox) bool {
		for _, d := range m.ds {
			if d.Status != verify.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	if got := most.Load(); got != workers {
		t.Errorf("at most %d requests in flight, want exactly %d", got, workers)
	}
	if n := len(rc.requests()); n != deliveries {
		t.Errorf("receiver got %d requests, want %d", n, deliveries)
	}
}

// TestRunShutdownAbandonsInFlight: an attempt cut short by shutdown is not
// recorded; once its lease runs out another dispatcher delivers it.
func TestRunShutdownAbandonsInFlight(t *testing.T) {
	got := make(chan struct{})
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			close(got)
			select { // hang until the dispatcher hangs up
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	})
	del := clock.delivery("msg_shut")
	del.URL = rc.srv.URL
	ob.add(del, verify.NewWebhookSecret())
	cfg := testConfig(t, ob, clock)

	stop := start(t, NewDispatcher(cfg))
	<-got
	stopping := time.Now()
	stop()
	if took := time.Since(stopping); took > time.Second {
		t.Errorf("Run took %v to return", took)
	}
	if d, hist := ob.get("msg_shut"); d.Status != verify.DeliveryPending || d.Attempts != 0 || len(hist) != 0 {
		t.Fatalf("abandoned attempt was settled: %+v", d)
	}

	clock.advance(cfg.Lease) // the lease runs out
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "redelivery", status("msg_shut", verify.DeliveryDelivered))
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[0].header.Get("webhook-id") != reqs[1].header.Get("webhook-id") {
		t.Errorf("want 2 requests with the same webhook-id, got %d", len(reqs))
	}
}

func TestRunOnlyOnce(t *testing.T) {
	clock, ob := &testClock{}, newMemOutbox()
	d := NewDispatcher(testConfig(t, ob, clock))
	start(t, d)
	ob.waitFor(t, 5*time.Second, "Run to start", func(m *memOutbox) bool { return m.nextCalls > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := d.Run(ctx); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run = %v, want already running", err)
	}
}

func TestNewDispatcherConfig(t *testing.T) {
	ob := newMemOutbox()
	d := NewDispatcher(DispatcherConfig{Outbox: ob})
	if d.workers != 8 || d.batch != 8 || d.lease != 30*time.Second || d.timeout != DefaultTimeout ||
		d.retryBase != 5*time.Second || d.retryMax != time.Hour || d.maxAge != 24*time.Hour || d.poll != time.Second {
		t.Errorf("defaults: %+v", d)
	}
	if d := NewDispatcher(DispatcherConfig{Outbox: ob, Workers: 4, Batch: 100}); d.batch != 4 {
		t.Errorf("batch %d, want capped at workers (4)", d.batch)
	}
	// A client with a shorter timeout sets the attempt limit.
	if d := NewDispatcher(DispatcherConfig{Outbox: ob, Client: &http.Client{Timeout: 3 * time.Second}, Lease: 4 * time.Second}); d.timeout != 3*time.Second {
		t.Errorf("timeout %v, want the client's 3s", d.timeout)
	}
	if d := NewDispatcher(DispatcherConfig{Outbox: ob, Client: &http.Client{Timeout: 30 * time.Second}, Lease: 50 * time.Second}); d.timeout != 30*time.Second {
		t.Errorf("timeout %v, want the client's 30s when Timeout is unset", d.timeout)
	}
	for name, cfg := range map[string]DispatcherConfig{
		"no outbox":             {},
		"lease = timeout":       {Outbox: ob, Timeout: 10 * time.Second, Lease: 10 * time.Second},
		"lease < client limit":  {Outbox: ob, Client: &http.Client{Timeout: 5 * time.Second}, Lease: 4 * time.Second},
		"lease < default limit": {Outbox: ob, Lease: 10 * time.Second},
		"lease = client limit":  {Outbox: ob, Client: &http.Client{Timeout: 30 * time.Second}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewDispatcher did not panic", name)
				}
			}()
			NewDispatcher(cfg)
		}()
	}
}

func TestBackoff(t *testing.T) {
	const base, ceiling = 5 * time.Second, time.Hour
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, w := range want {
		if got := backoff(base, ceiling, i+1, 0); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	for _, n := range []int{11, 12, 100, 1 << 30} {
		if got := backoff(base, ceiling, n, 0); got != ceiling {
			t.Errorf("backoff(%d) = %v, want the cap %v", n, got, ceiling)
		}
	}
	for n := 1; n <= 40; n++ {
		lo, hi := backoff(base, ceiling, n, 0.999999), backoff(base, ceiling, n, 0)
		if hi > ceiling || lo < hi*3/4 {
			t.Errorf("backoff(%d) spans [%v, %v]; want within [¾d, d], d ≤ %v", n, lo, hi, ceiling)
		}
		if next := backoff(base, ceiling, n+1, 0.999999); hi < ceiling && next <= hi {
			t.Errorf("backoff(%d) can be %v, not longer than backoff(%d) = %v", n+1, next, n, hi)
		}
	}
	if got := backoff(time.Hour, time.Duration(1<<63-1), 200, 0); got <= 0 {
		t.Errorf("backoff overflowed to %v", got)
	}
}

func TestPromMetrics(t *testing.T) {
	reg := prometheusRegistry()
	m, err := NewPromMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPromMetrics(reg); err == nil {
		t.Error("registering twice succeeded")
	}
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	del := clock.delivery("msg_m")
	del.URL = rc.srv.URL
	ob.add(del, verify.NewWebhookSecret())
	cfg := testConfig(t, ob, clock)
	cfg.Metrics = m
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "delivery", status("msg_m", verify.DeliveryDelivered))

	got := gatherCounts(t, reg)
	for name, want := range map[string]float64{
		`ringgate_webhook_attempts_total{outcome="delivered"}`:   1,
		`ringgate_webhook_attempts_total{outcome="rejected"}`:    1,
		`ringgate_webhook_attempts_total{outcome="timeout"}`:     0,
		`ringgate_webhook_attempt_duration_seconds_count`:        2,
		`ringgate_webhook_deliveries_failed_total`:               0,
		`ringgate_webhook_attempts_total{outcome="refused"}`:     0,
		`ringgate_webhook_attempts_total{outcome="unreachable"}`: 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}
