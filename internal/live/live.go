// Package live tells waiting readers (SSE streams, the console) that a
// verification has changed. A notice carries no state, only "look again":
// readers fetch the events themselves from the store, so a missed or
// duplicated notice costs at most one query and never loses an event, and
// the same design works across nodes, where notices travel through the
// database (PostgreSQL LISTEN/NOTIFY) instead of memory.
package live

import (
	"sync"

	"github.com/ringgate/ringgate/internal/verify"
)

// Broker fans notices out to subscribers in this process.
type Broker struct {
	mu   sync.Mutex
	subs map[string]map[*Sub]struct{} // by verification id; "" holds subscribers to everything
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{subs: make(map[string]map[*Sub]struct{})}
}

var _ verify.Publisher = (*Broker)(nil)

// Sub is one subscription. C receives a value whenever there may be
// something new; values coalesce, so a slow reader sees one wake-up for many
// notices, and Publish never blocks.
type Sub struct {
	C   <-chan struct{}
	c   chan struct{}
	key string
}

// Subscribe listens for notices about one verification; "" listens to all.
// Call Unsubscribe when done.
func (b *Broker) Subscribe(verificationID string) *Sub {
	c := make(chan struct{}, 1)
	s := &Sub{C: c, c: c, key: verificationID}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[verificationID]
	if m == nil {
		m = make(map[*Sub]struct{})
		b.subs[verificationID] = m
	}
	m[s] = struct{}{}
	return s
}

// Unsubscribe stops s. It is safe to call more than once.
func (b *Broker) Unsubscribe(s *Sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.subs[s.key]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(b.subs, s.key)
		}
	}
}

// Publish wakes the subscribers of n's verification and of everything.
func (b *Broker) Publish(n verify.Notice) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wake(b.subs[n.VerificationID])
	if n.VerificationID != "" {
		wake(b.subs[""])
	}
}

// WakeAll wakes every subscriber. A node that may have missed notices (its
// link to the other nodes was down) calls it, so that every reader looks
// again.
func (b *Broker) WakeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.subs {
		wake(m)
	}
}

func wake(m map[*Sub]struct{}) {
	for s := range m {
		select {
		case s.c <- struct{}{}:
		default: // already has a wake-up pending
		}
	}
}

// Subscribers counts live subscriptions, for metrics.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}
