package webhook

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// BenchmarkDispatch measures deliveries per second through the whole path
// (claim, sign, POST to a local receiver, settle), with new deliveries
// queued and kicked as the service would, at most window outstanding.
func BenchmarkDispatch(b *testing.B) {
	const window = 256
	clock, ob := &testClock{}, newMemOutbox()
	rc := newReceiver(b, func(int, http.ResponseWriter, *http.Request) {})
	rc.mu.Lock()
	rc.reqs = make([]received, 0, b.N)
	rc.mu.Unlock()
	room := make(chan struct{}, window)
	done := make(chan struct{}, b.N)
	ob.onSettle = func(a Attempt) {
		if a.Status == verify.DeliveryDelivered {
			<-room
			done <- struct{}{}
		}
	}
	cfg := testConfig(b, ob, clock)
	cfg.Logger = nil
	cfg.Client = Policy{AllowLoopback: true}.Client(5 * time.Second)
	d := NewDispatcher(cfg)
	start(b, d)
	secret := verify.NewWebhookSecret()

	b.ResetTimer()
	began := time.Now()
	go func() {
		for i := range b.N {
			room <- struct{}{}
			del := clock.delivery(fmt.Sprintf("msg_%08d", i))
			del.URL = rc.srv.URL
			ob.add(del, secret)
			d.Kick()
		}
	}()
	deadline := time.After(5 * time.Minute)
	for range b.N {
		select {
		case <-done:
		case <-deadline:
			b.Fatal("deliveries stalled")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "deliveries/s")
}
