package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/jobs"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
)

// gate is the carrier layer: every text waits for release, and it keeps
// how many were in flight at once.
type gate struct {
	release chan struct{}
	mu      sync.Mutex
	cond    *sync.Cond
	flight  int
	most    int
	sent    int
}

func newGate() *gate {
	g := &gate{release: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) SendSMS(ctx context.Context, m carrier.SMS) (carrier.Receipt, error) {
	g.mu.Lock()
	g.flight++
	g.most = max(g.most, g.flight)
	g.cond.Broadcast()
	g.mu.Unlock()
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.mu.Lock()
	g.flight--
	g.sent++
	g.cond.Broadcast()
	g.mu.Unlock()
	return carrier.Receipt{Carrier: "gate", Ref: "ref-" + m.ID}, nil
}

func (g *gate) PlaceCall(context.Context, carrier.Call) (carrier.Receipt, error) {
	return carrier.Receipt{}, fmt.Errorf("no calls in this test")
}
func (g *gate) Routable(string, string, string, bool) bool             { return true }
func (g *gate) EndCall(context.Context, string, carrier.CallEnd) error { return nil }

// waitUntil blocks until cond holds (checked whenever the gate changes),
// or fails the test after a minute.
func (g *gate) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	stop := time.AfterFunc(time.Minute, func() { g.mu.Lock(); g.cond.Broadcast(); g.mu.Unlock() })
	defer stop.Stop()
	deadline := time.Now().Add(time.Minute)
	g.mu.Lock()
	defer g.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s (in flight %d, most %d, sent %d)", what, g.flight, g.most, g.sent)
		}
		g.cond.Wait()
	}
}

// kicker publishes the services' notices to the runner, as the server does.
type kicker struct{ r *jobs.Runner }

func (k *kicker) Publish(n verify.Notice) {
	if n.Jobs && k.r != nil {
		k.r.Kick()
	}
}

type rig struct {
	store  verify.Store
	svc    *verify.Service
	caller verify.Caller
	now    time.Time
}

func setup(t *testing.T, out verify.Outbound, pub verify.Publisher) rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc, err := verify.NewService(verify.Config{Store: st, Publisher: pub, Secret: bytes.Repeat([]byte{5}, 32), Outbound: out,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: st, Verify: svc})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := op.CreateApp(t.Context(), verify.NewApp{ID: "app_j", DefaultCallbackURL: "https://example.com/hook"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Authenticate(t.Context(), cr.APIKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	return rig{store: st, svc: svc, caller: c, now: now}
}

func (r rig) start(t *testing.T, i int) verify.Verification {
	t.Helper()
	v, _, err := r.svc.Start(t.Context(), r.caller, verify.StartRequest{Phone: fmt.Sprintf("+4479111234%02d", i), Channel: verify.ChannelSMSOTP})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func run(t *testing.T, r *jobs.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
}

// A job queued while the runner sleeps is run at once through Kick: the
// poll here is an hour, so nothing else could wake it.
func TestRunnerKickRunsNewJobs(t *testing.T) {
	g := newGate()
	close(g.release)
	k := &kicker{}
	r := setup(t, g, k)
	k.r = jobs.New(jobs.Config{Service: r.svc, Slots: 4, Lease: time.Minute, Poll: time.Hour})
	defer run(t, k.r)()
	for i := range 3 {
		r.start(t, i)
	}
	g.waitUntil(t, "three texts", func() bool { return g.sent == 3 })
}

// waitSent waits until the job of each verification has settled as sent,
// or fails the test after a minute.
func (r rig) waitSent(t *testing.T, vs ...verify.Verification) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for _, v := range vs {
		for {
			js, err := r.store.Jobs(t.Context(), v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(js) == 1 && js[0].Status == verify.JobSent {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job of %s did not settle as sent: %+v", v.ID, js)
			}
			<-tick.C
		}
	}
}

// The runner claims no more jobs than it has slots, each under the lease,
// and runs the rest as slots free.
func TestRunnerSlotsAndLease(t *testing.T) {
	g := newGate()
	r := setup(t, g, nil)
	var vs []verify.Verification
	for i := range 5 {
		vs = append(vs, r.start(t, i))
	}
	runner := jobs.New(jobs.Config{Service: r.svc, Slots: 2, Lease: 7 * time.Minute, Poll: time.Hour})
	stop := run(t, runner)
	g.waitUntil(t, "two texts in flight", func() bool { return g.flight == 2 })
	claimed := 0
	for _, v := range vs {
		js, err := r.store.Jobs(t.Context(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.Status == verify.JobRunning {
				claimed++
				if want := r.now.Add(7 * time.Minute); !j.LeaseUntil.Equal(want) {
					t.Errorf("job %s leased until %v, want %v", j.ID, j.LeaseUntil, want)
				}
			}
		}
	}
	if claimed != 2 {
		t.Errorf("%d jobs claimed with 2 slots, want 2", claimed)
	}
	close(g.release)
	r.waitSent(t, vs...)
	stop()
	if g.most != 2 {
		t.Errorf("at most %d texts in flight with 2 slots, want 2", g.most)
	}
}

// One Runner runs once at a time: a second Run while the first has a job
// in flight is refused, and the first, once cancelled, returns only after
// its job has settled.
func TestRunnerRunsOnce(t *testing.T) {
	g := newGate()
	r := setup(t, g, nil)
	v := r.start(t, 0)
	runner := jobs.New(jobs.Config{Service: r.svc, Poll: time.Hour})
	stop := run(t, runner)
	g.waitUntil(t, "the text in flight", func() bool { return g.flight == 1 })
	if err := runner.Run(t.Context()); err == nil {
		t.Fatal("a second Run of the same runner was not refused")
	}
	close(g.release)
	r.waitSent(t, v)
	stop()
}
