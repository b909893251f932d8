package webhook

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// memOutbox is an Outbox in memory, enough to drive the dispatcher. The SQL
// store's own conformance suite covers the real one.
type memOutbox struct {
	mu        sync.Mutex
	ds        map[string]*memDelivery
	pending   map[string]*memDelivery // the subset of ds still pending
	secrets   map[string]string       // by app ID
	changed   chan struct{}           // closed and replaced on every change
	nextCalls int
	onSettle  func(Attempt) // called outside the lock, if set
}

type memDelivery struct {
	verify.Delivery
	leaseUntil time.Time
	history    []Attempt
}

func newMemOutbox() *memOutbox {
	return &memOutbox{ds: map[string]*memDelivery{}, pending: map[string]*memDelivery{}, secrets: map[string]string{}, changed: make(chan struct{})}
}

func (m *memOutbox) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *memOutbox) add(d verify.Delivery, secret string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds[d.ID] = &memDelivery{Delivery: d, leaseUntil: d.LeaseUntil}
	if d.Status == verify.DeliveryPending {
		m.pending[d.ID] = m.ds[d.ID]
	}
	m.secrets[d.AppID] = secret
	m.notify()
}

// get returns a copy of a delivery and the attempts settled on it.
func (m *memOutbox) get(id string) (verify.Delivery, []Attempt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.ds[id]
	return d.Delivery, slices.Clone(d.history)
}

func (m *memOutbox) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]Claimed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*memDelivery
	for _, d := range m.pending {
		if !d.NextAttemptAt.After(now) && !d.leaseUntil.After(now) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b *memDelivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	var out []Claimed
	for _, d := range due[:min(limit, len(due))] {
		d.leaseUntil = now.Add(lease)
		c := Claimed{Delivery: d.Delivery, Secret: m.secrets[d.AppID]}
		c.LeaseUntil = d.leaseUntil
		out = append(out, c)
	}
	return out, nil
}

func (m *memOutbox) SettleDelivery(_ context.Context, c Claimed, a Attempt) error {
	m.mu.Lock()
	d := m.ds[c.ID]
	if d == nil || !d.leaseUntil.Equal(c.LeaseUntil) {
		m.mu.Unlock()
		return nil // claimed by someone else since
	}
	d.Attempts++
	d.Status, d.LastStatusCode, d.LastError = a.Status, a.StatusCode, a.Error
	d.NextAttemptAt = a.NextAttemptAt
	if a.Status == verify.DeliveryDelivered {
		d.DeliveredAt = a.At
	}
	d.leaseUntil = time.Time{}
	d.history = append(d.history, a)
	if a.Status != verify.DeliveryPending {
		delete(m.pending, d.ID)
	}
	m.notify()
	hook := m.onSettle
	m.mu.Unlock()
	if hook != nil {
		hook(a)
	}
	return nil
}

func (m *memOutbox) NextDeliveryDue(context.Context) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextCalls++
	m.notify()
	var at time.Time
	ok := false
	for _, d := range m.pending {
		t := d.NextAttemptAt
		if d.leaseUntil.After(t) {
			t = d.leaseUntil
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok, nil
}

// waitFor waits until cond holds of the outbox (checked on every change),
// failing the test after timeout.
func (m *memOutbox) waitFor(t testing.TB, timeout time.Duration, what string, cond func(m *memOutbox) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		ok, ch := cond(m), m.changed
		m.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// status is a waitFor condition: delivery id has the given status.
func status(id, want string) func(*memOutbox) bool {
	return func(m *memOutbox) bool { return m.ds[id].Status == want }
}

// testClock is time.Now shifted by an offset tests can move forward, so a
// test can step over hours without waiting for them.
type testClock struct{ off atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *testClock) delivery(id string) verify.Delivery {
	now := c.Now()
	return verify.Delivery{
		ID: id, AppID: "app_1", VerificationID: "vf_1", EventID: 1, Type: verify.EventVerified,
		Payload: []byte(`{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{"id":"vf_1"}}`),
		Status:  verify.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
	}
}
