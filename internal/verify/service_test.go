package verify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }

var _ = (*clock).set

type fixture struct {
	svc    *verify.Service
	op     *operator.Service
	store  verify.Store
	clock  *clock
	caller verify.Caller
}

func setup(t *testing.T) fixture {
	t.Helper()
	f := setupOutbound(t, nil)
	if _, err := f.op.AddNumber(t.Context(), "app_t", "+12025550100", verify.AnyCountry); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) start(t *testing.T, phone string) verify.Verification {
	t.Helper()
	v, _, err := f.svc.Start(context.Background(), f.caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f fixture) events(t *testing.T, id string) []string {
	t.Helper()
	evs, err := f.store.Events(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// A carrier that retransmits the same call (SIP INVITE retransmission,
// HTTP webhook retry) gets the same answer and creates nothing new, even
// when the copies arrive at once.
func TestRetransmittedCallIsHandledOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v := f.start(t, "+14155552671")
	call := carrier.InboundCall{From: "+14155552671", To: v.DialNumber, Carrier: "sip:a", CallID: "abc@host"}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			d, err := f.svc.InboundCall(context.Background(), call)
			if err != nil {
				t.Error(err)
			}
			ids[i] = d.VerificationID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != v.ID {
			t.Fatalf("copies of one call answered %v, want all %s", ids, v.ID)
		}
	}
	if got := f.events(t, v.ID); len(got) != 2 {
		t.Fatalf("events %v, want created and verified once each", got)
	}
}

// A carrier's call seen again after it verified (a retransmission from
// another node, or after its SIP transaction ended) gets its first answer
// and verifies nothing else, not even a verification of the same phone
// started since on the same dial number: the first pass decides afresh
// and only the call's unique carrier id, failing at its insert, rolls that
// back.
func TestCallSeenAgainVerifiesNothingNew(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	v1 := f.start(t, "+14155552675")
	call := carrier.InboundCall{From: v1.Phone, To: v1.DialNumber, Carrier: "sip:a", CallID: "again@host"}
	if d, err := f.svc.InboundCall(ctx, call); err != nil || d.VerificationID != v1.ID {
		t.Fatalf("first call: %+v %v", d, err)
	}
	v2 := f.start(t, "+14155552675")
	if v2.DialNumber != v1.DialNumber {
		t.Fatalf("the test needs the same dial number twice: %s, %s", v1.DialNumber, v2.DialNumber)
	}
	d, err := f.svc.InboundCall(ctx, call)
	if err != nil || d.VerificationID != v1.ID {
		t.Fatalf("the call again: %+v %v, want the first answer (%s)", d, err, v1.ID)
	}
	got, err := f.store.Verification(ctx, v2.ID)
	if err != nil || got.Status != verify.StatusPending {
		t.Fatalf("the later verification after the call came again: %v %v, want pending", got.Status, err)
	}
	if evs := f.events(t, v2.ID); !slices.Equal(evs, []string{verify.EventCreated}) {
		t.Fatalf("the later verification's events: %v, want only created", evs)
	}
}

// A call that arrives after expires_at but before the sweep ran must not
// verify: time decides, not the sweep's schedule.
func TestLateCallDoesNotVerify(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v := f.start(t, "+14155552672")
	f.clock.add(verify.DefaultTimeout)
	d, err := f.svc.InboundCall(context.Background(), carrier.InboundCall{From: v.Phone, To: v.DialNumber, Carrier: "sim"})
	if err != nil || d.VerificationID != "" {
		t.Fatalf("late call: %+v %v", d, err)
	}
	got, _ := f.svc.Get(context.Background(), verify.LiveTenant("app_t"), v.ID)
	if got.Status != verify.StatusExpired || got.Reason != verify.ReasonNotDialed || got.ResultCode() != "001" {
		t.Fatalf("after a late call: %s %s %s", got.Status, got.Reason, got.ResultCode())
	}
}

// Sweeps running at once (several nodes) end each verification once.
func TestParallelSweepsExpireOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var ids []string
	for i := range 30 {
		ids = append(ids, f.start(t, fmt.Sprintf("+141555570%02d", i)).ID)
	}
	f.clock.add(verify.DefaultTimeout + time.Second)
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				n, err := f.svc.ExpireDue(context.Background(), 7)
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(int64(n))
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if total.Load() != 30 {
		t.Fatalf("sweeps expired %d, want 30", total.Load())
	}
	for _, id := range ids {
		if got := f.events(t, id); len(got) != 2 || got[1] != verify.EventExpired {
			t.Fatalf("%s events %v", id, got)
		}
	}
	if _, ok, _ := f.svc.NextExpiry(context.Background()); ok {
		t.Fatal("a verification is still pending")
	}
}

// Parallel starts for one phone each get their own verification and
// token, and end with exactly one pending: every other is superseded.
func TestParallelStartsLeaveOnePending(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			v, created, err := f.svc.Start(context.Background(), f.caller, verify.StartRequest{Phone: "+14155552673", Channel: verify.ChannelMissedCall})
			if err != nil || !created {
				t.Errorf("start: created %v, %v", created, err)
			}
			ids[i] = v.ID
		})
	}
	wg.Wait()
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("parallel starts shared a verification: %v", ids)
	}
	pending, _, err := f.svc.List(context.Background(), verify.ListFilter{Tenant: verify.LiveTenant("app_t"), Phone: "+14155552673", Status: verify.StatusPending})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending after 10 parallel starts: %d %v", len(pending), err)
	}
	for _, id := range ids {
		v, err := f.svc.Get(context.Background(), verify.LiveTenant("app_t"), id)
		if err != nil || (id != pending[0].ID && (v.Status != verify.StatusCanceled || v.Reason != verify.ReasonSuperseded)) {
			t.Fatalf("%s: %s %s %v", id, v.Status, v.Reason, err)
		}
	}
}

func TestClientTokenLifetime(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v := f.start(t, "+14155552674")
	tok := f.svc.ViewOf(v, true).ClientToken
	ctx := context.Background()
	if _, err := f.svc.ClientView(ctx, v.ID, tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if _, err := f.svc.Cancel(ctx, verify.LiveTenant("app_t"), v.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.add(verify.ClientTokenLifetime - time.Second)
	if _, err := f.svc.ClientView(ctx, v.ID, tok); err != nil {
		t.Fatalf("token within an hour of the end: %v", err)
	}
	f.clock.add(2 * time.Second)
	if _, err := f.svc.ClientView(ctx, v.ID, tok); verify.ErrorCode(err) != verify.CodeUnauthorized {
		t.Fatalf("token after the hour: %v", err)
	}
}

// By default a verifying call records and sends verification.verified
// alone, its data.call saying who called; an app that asks for both
// (matched_call_events "both") gets call.received before it, and asking
// for "verified" is the default again. An unknown value is a field error.
func TestMatchedCallEventsSetting(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	deliveries := func(id string) []string {
		ds, err := f.store.Deliveries(ctx, verify.DeliveryFilter{Tenant: verify.LiveTenant("app_t"), VerificationID: id, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Type)
		}
		slices.Sort(out)
		return out
	}
	call := func(v verify.Verification) {
		t.Helper()
		d, err := f.svc.InboundCall(ctx, carrier.InboundCall{From: v.Phone, To: v.DialNumber, Carrier: "sim"})
		if err != nil || d.VerificationID != v.ID {
			t.Fatalf("call: %+v %v", d, err)
		}
	}

	verifiedOnly := func(v verify.Verification, what string) {
		t.Helper()
		if got, want := f.events(t, v.ID), []string{verify.EventCreated, verify.EventVerified}; !slices.Equal(got, want) {
			t.Errorf("%s: events %v, want %v", what, got, want)
		}
		if got, want := deliveries(v.ID), []string{verify.EventVerified}; !slices.Equal(got, want) {
			t.Errorf("%s: webhooks %v, want %v", what, got, want)
		}
		evs, err := f.store.Events(ctx, v.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if p := string(evs[len(evs)-1].Payload); !strings.Contains(p, `"call":{`) || !strings.Contains(p, v.Phone) {
			t.Errorf("%s: verification.verified without its call: %s", what, p)
		}
	}
	set := func(value string) {
		t.Helper()
		if _, err := f.op.UpdateSettings(ctx, verify.LiveTenant("app_t"), verify.SettingsPatch{MatchedCallEvents: &value}); err != nil {
			t.Fatal(err)
		}
	}

	v := f.start(t, "+14155552681")
	call(v)
	verifiedOnly(v, "default")

	set(verify.MatchedCallBoth)
	v = f.start(t, "+14155552682")
	call(v)
	if got, want := f.events(t, v.ID), []string{verify.EventCreated, verify.EventCallReceived, verify.EventVerified}; !slices.Equal(got, want) {
		t.Errorf("both: events %v, want %v", got, want)
	}
	if got, want := deliveries(v.ID), []string{verify.EventCallReceived, verify.EventVerified}; !slices.Equal(got, want) {
		t.Errorf("both: webhooks %v, want %v", got, want)
	}

	set(verify.MatchedCallVerified)
	v = f.start(t, "+14155552683")
	call(v)
	verifiedOnly(v, "verified")

	bad := "call_only"
	_, err := f.op.UpdateSettings(ctx, verify.LiveTenant("app_t"), verify.SettingsPatch{MatchedCallEvents: &bad})
	var fe *verify.Error
	if !errors.As(err, &fe) || fe.Field != "matched_call_events" {
		t.Errorf("matched_call_events %q: %v, want a field error", bad, err)
	}
}
