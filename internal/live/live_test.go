package live

import (
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

func TestPublishWakesOnlyMatchingSubscribers(t *testing.T) {
	t.Parallel()
	b := NewBroker()
	a, other, all := b.Subscribe("vf_a"), b.Subscribe("vf_b"), b.Subscribe("")
	b.Publish(verify.Notice{VerificationID: "vf_a"})
	for name, s := range map[string]*Sub{"same id": a, "all": all} {
		select {
		case <-s.C:
		case <-time.After(time.Second):
			t.Fatalf("%s subscriber not woken", name)
		}
	}
	select {
	case <-other.C:
		t.Fatal("subscriber of another verification was woken")
	default:
	}
}

func TestPublishCoalescesAndNeverBlocks(t *testing.T) {
	t.Parallel()
	b := NewBroker()
	s := b.Subscribe("vf_a")
	for range 1000 {
		b.Publish(verify.Notice{VerificationID: "vf_a"}) // nobody reads: must not block
	}
	<-s.C
	select {
	case <-s.C:
		t.Fatal("wake-ups did not coalesce")
	default:
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	b := NewBroker()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			s := b.Subscribe("vf_a")
			b.Publish(verify.Notice{VerificationID: "vf_a"})
			b.Unsubscribe(s)
			b.Unsubscribe(s)
		})
	}
	wg.Wait()
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("Subscribers() = %d after all unsubscribed", n)
	}
}

func TestWakeAll(t *testing.T) {
	t.Parallel()
	b := NewBroker()
	subs := []*Sub{b.Subscribe("vf_a"), b.Subscribe("vf_b"), b.Subscribe("")}
	b.WakeAll()
	for i, s := range subs {
		select {
		case <-s.C:
		default:
			t.Errorf("subscriber %d not woken", i)
		}
	}
}
