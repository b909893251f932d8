package storetest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// BacklogSize is the backlog BenchOutboxBacklog compares with an empty
// outbox: deliveries pending a retry, their receiver down (issue 21, goal 4).
const BacklogSize = 100_000

// BenchOutboxBacklog measures a missed-call start, and a start with its
// verifying call, on an empty outbox and on one with BacklogSize deliveries
// pending retry, in one run: the goal is that the backlog costs nothing (p99
// and CPU per op within 1.2× of the empty outbox), and the dispatcher's
// next-due read and a claim that finds nothing due cost the same on both. A real webhook.Dispatcher
// runs against the store throughout, kicked after every commit that queues
// a webhook as the server does, and its receiver answers 503, so every
// webhook the calls queue fails and joins the backlog as a retry an hour
// away. Before migration 0010 the dispatcher's "when is the next delivery
// due" read every pending delivery after each round.
//
// open returns a new, empty, migrated store that lives as long as b; it is
// called once per outbox, and that outbox's sub-benchmarks share it. Reported: p50 and p99 of one
// op in µs, and the process's CPU per op (the dispatcher's included).
func BenchOutboxBacklog(b *testing.B, open func(b *testing.B) Store) {
	for _, backlog := range []int{0, BacklogSize} {
		name := "empty"
		if backlog > 0 {
			name = fmt.Sprintf("backlog=%d", backlog)
		}
		st := open(b)
		env := newBacklogEnv(b, st, backlog)
		for _, op := range []string{"start", "start+call"} {
			b.Run(name+"/"+op, func(b *testing.B) { env.run(b, op == "start+call") })
		}
		env.close()
		// The dispatcher's own two reads, alone (it is stopped): what it
		// pays for the backlog on every round.
		b.Run(name+"/next-due", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := st.NextDeliveryDue(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/claim-none-due", func(b *testing.B) {
			for b.Loop() {
				c, err := st.ClaimDeliveries(b.Context(), time.Now(), time.Minute, 8)
				if err != nil || len(c) > 0 {
					b.Fatalf("claimed %d, %v", len(c), err)
				}
			}
		})
	}
}

// GrowthSize is the history BenchGrowth compares with an empty database:
// ended verifications (issue 21, goal 7).
const GrowthSize = 200_000

// BenchGrowth measures a missed-call start, and a start with its verifying
// call, on an empty database and on one holding GrowthSize verified
// verifications (each with its events' worth of history in the tables
// that matter to a start: the verifications themselves, on the same app),
// in one run: the goal is p99 and CPU per op within 1.2× of the empty
// database. The dispatcher runs as in BenchOutboxBacklog (its receiver
// down).
func BenchGrowth(b *testing.B, open func(b *testing.B) Store) {
	for _, history := range []int{0, GrowthSize} {
		name := "empty"
		if history > 0 {
			name = fmt.Sprintf("verified=%d", history)
		}
		env := newBacklogEnv(b, open(b), 0)
		env.seedVerified(b, history)
		for _, op := range []string{"start", "start+call"} {
			b.Run(name+"/"+op, func(b *testing.B) { env.run(b, op == "start+call") })
		}
		env.close()
	}
}

// seedVerified adds n ended verifications, copies of one made through the
// service (started and verified by a call), each with its own id and phone.
func (e *backlogEnv) seedVerified(b *testing.B, n int) {
	if n == 0 {
		return
	}
	ctx := context.Background()
	v, _, err := e.svc.Start(ctx, e.caller, verify.StartRequest{Phone: "+447999000000", Channel: verify.ChannelMissedCall, ClientIP: EndUserIP(0)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.svc.InboundCall(ctx, carrier.InboundCall{Carrier: "bench", CallID: "seed", From: v.Phone, To: v.DialNumber}); err != nil {
		b.Fatal(err)
	}
	tmpl, err := e.svc.Get(ctx, verify.TenantOf(v), v.ID)
	if err != nil || tmpl.Status != verify.StatusVerified {
		b.Fatalf("seed verification: %+v, %v", tmpl, err)
	}
	for i := 0; i < n; i += 2000 {
		err := e.store.Tx(ctx, func(tx verify.Tx) error {
			for j := i; j < min(i+2000, n); j++ {
				c := tmpl
				c.ID, c.Phone = verify.NewID("ver_"), fmt.Sprintf("+4478%08d", j)
				if err := tx.InsertVerification(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

type backlogEnv struct {
	store  Store
	svc    *verify.Service
	caller verify.Caller
	pool   string
	next   atomic.Int64
	posts  *atomic.Int64 // webhook attempts the receiver answered
	posted chan struct{} // a wake-up after each
	stop   func()
}

type kicker struct{ d *webhook.Dispatcher }

func (k kicker) Publish(n verify.Notice) {
	k.d.Offer(n.Handed) // as the server's wake-up does
	if n.Deliveries {
		k.d.Kick()
	}
}

func newBacklogEnv(b *testing.B, s Store, backlog int) *backlogEnv {
	ctx := context.Background()
	var posts atomic.Int64
	posted := make(chan struct{}, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		select {
		case posted <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	disp := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: s, Client: webhook.Policy{AllowLoopback: true}.Client(5 * time.Second),
		RetryBase: time.Hour,
	})
	// The abuse controls as served, their limits out of reach: each start
	// pays for its counters and none is refused.
	abuse := verify.DefaultAbusePolicy()
	for i := range abuse.Limits {
		abuse.Limits[i].Max = 1 << 30
	}
	abuse.CallsPerCaller = 1 << 30
	svc, err := verify.NewService(verify.Config{Store: s, Secret: make([]byte, 32), Publisher: kicker{disp}, Abuse: &abuse, DeliveryLease: disp.HandOff()})
	if err != nil {
		b.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: s, Verify: svc})
	if err != nil {
		b.Fatal(err)
	}
	cred, err := op.CreateApp(ctx, verify.NewApp{ID: "app_bench", DefaultCallbackURL: down.URL + "/hook"})
	if err != nil {
		b.Fatal(err)
	}
	pool := "+12025550100"
	if _, err := op.AddNumber(ctx, "app_bench", pool, verify.AnyCountry); err != nil {
		b.Fatal(err)
	}
	// The backlog: deliveries that failed and wait for a retry in an hour.
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := 0; i < backlog; i += 1000 {
		err := s.Tx(ctx, func(tx verify.Tx) error {
			for j := i; j < min(i+1000, backlog); j++ {
				err := tx.InsertDelivery(ctx, verify.Delivery{
					ID: fmt.Sprintf("msg_backlog%08d", j), AppID: "app_bench", Type: verify.EventVerified,
					URL: down.URL + "/hook", Payload: []byte(`{"type":"verification.verified"}`),
					Status: verify.DeliveryPending, Attempts: 3, LastStatusCode: 503,
					NextAttemptAt: now.Add(time.Hour + time.Duration(j)*time.Millisecond), CreatedAt: now,
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = disp.Run(runCtx) })
	return &backlogEnv{store: s, svc: svc, caller: verify.Caller{App: cred.App}, pool: pool, posts: &posts, posted: posted, stop: func() {
		cancel()
		wg.Wait()
		down.Close()
	}}
}

func (e *backlogEnv) close() { e.stop() }

func (e *backlogEnv) run(b *testing.B, call bool) {
	ctx := b.Context()
	took := make([]time.Duration, b.N)
	var slot atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	cpu0, posts0 := cpuTime(), e.posts.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := e.next.Add(1)
			phone := fmt.Sprintf("+4477%08d", i)
			t0 := time.Now()
			v, _, err := e.svc.Start(ctx, e.caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall, ClientIP: EndUserIP(i)})
			if err != nil {
				b.Errorf("start %s: %v", phone, err)
				return
			}
			if call {
				d, err := e.svc.InboundCall(ctx, carrier.InboundCall{Carrier: "bench", CallID: fmt.Sprint(i), From: phone, To: v.DialNumber})
				if err != nil || d.VerificationID != v.ID {
					b.Errorf("call %s: %+v, %v", phone, d, err)
					return
				}
			}
			took[slot.Add(1)-1] = time.Since(t0)
		}
	})
	if call {
		// Each verifying call queued one webhook (verification.verified):
		// the op is done when it was tried, so CPU per op includes the
		// dispatcher's claims, POSTs and settles.
		deadline := time.After(2 * time.Minute)
		for e.posts.Load()-posts0 < int64(b.N) {
			select {
			case <-e.posted:
			case <-deadline:
				b.Fatalf("webhooks stalled: %d of %d tried", e.posts.Load()-posts0, b.N)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(e.posts.Load()-posts0)/float64(b.N), "posts/op")
	took = took[:min(int(slot.Load()), len(took))]
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	}
}

// EndUserIP is the client_ip of the benchmarks' i-th start: each end user
// has an address of their own, as in real traffic (one address for all
// would make its per-address counter the one row every start updates).
func EndUserIP(i int64) string {
	return fmt.Sprintf("100.64.%d.%d", (i>>8)&255, i&255)
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
