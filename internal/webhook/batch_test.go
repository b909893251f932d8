package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// batchOutbox is a memOutbox that settles batches (webhook.BatchOutbox),
// recording their sizes; fail makes every batch fail as a whole.
type batchOutbox struct {
	*memOutbox
	mu      sync.Mutex
	batches []int
	fail    bool
}

func (b *batchOutbox) SettleDeliveries(ctx context.Context, ss []Settlement) error {
	b.mu.Lock()
	b.batches = append(b.batches, len(ss))
	fail := b.fail
	b.mu.Unlock()
	if fail {
		return errors.New("batch refused")
	}
	for _, s := range ss {
		if err := b.memOutbox.SettleDelivery(ctx, s.Claimed, s.Attempt); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchOutbox) sizes() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}

// Outcomes queued together settle in one SettleDeliveries; if it fails,
// each settles alone and none is lost.
func TestBatchSettler(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			clock := &testClock{}
			ob := &batchOutbox{memOutbox: newMemOutbox(), fail: fail}
			for i := range 5 {
				ob.add(clock.delivery(fmt.Sprintf("msg_%d", i)), "whsec_x")
			}
			cs, _ := ob.ClaimDeliveries(t.Context(), clock.Now(), time.Minute, 5)
			if len(cs) != 5 {
				t.Fatalf("claimed %d", len(cs))
			}
			// Five outcomes queued before the settler runs: one batch.
			var mu sync.Mutex
			var errs []error
			b := &batchSettler{outbox: ob, max: 8, reqs: make(chan Settlement, 8), done: make(chan struct{}),
				settled: func(_ Claimed, _ Attempt, err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}
			for _, c := range cs {
				b.queue(c, Attempt{At: clock.Now(), Status: verify.DeliveryDelivered, StatusCode: 200})
			}
			go b.run()
			b.stop()
			if len(errs) != 5 || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
				t.Errorf("settled: %v, want 5 without error", errs)
			}
			if got := ob.sizes(); !slices.Equal(got, []int{5}) {
				t.Errorf("batches %v, want one of 5", got)
			}
			for _, c := range cs {
				if d, hist := ob.get(c.ID); d.Status != verify.DeliveryDelivered || len(hist) != 1 {
					t.Errorf("%s: %s after %d attempts", c.ID, d.Status, len(hist))
				}
			}
		})
	}
}

// A dispatcher on a batch outbox delivers everything once.
func TestDispatchWithBatchOutbox(t *testing.T) {
	const deliveries = 40
	clock := &testClock{}
	ob := &batchOutbox{memOutbox: newMemOutbox()}
	rc := newReceiver(t, nil)
	for i := range deliveries {
		del := clock.delivery(fmt.Sprintf("msg_%02d", i))
		del.URL = rc.srv.URL
		ob.add(del, verify.NewWebhookSecret())
	}
	cfg := testConfig(t, ob.memOutbox, clock)
	cfg.Outbox = ob
	start(t, NewDispatcher(cfg))
	ob.waitFor(t, 5*time.Second, "all deliveries", func(m *memOutbox) bool {
		for _, d := range m.ds {
			if d.Status != verify.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	if n := len(rc.requests()); n != deliveries {
		t.Errorf("receiver got %d requests, want %d", n, deliveries)
	}
	for id := range ob.ds {
		if _, hist := ob.get(id); len(hist) != 1 {
			t.Errorf("%s settled %d times", id, len(hist))
		}
	}
}
