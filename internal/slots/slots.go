// Package slots bounds work in flight: the webhook dispatcher and the
// outbound job runner claim only as many items as they have free slots,
// so no claimed item waits in a queue while its lease runs down.
package slots

import "context"

// Slots holds one token per item in flight.
type Slots chan struct{}

// New returns n slots, all free.
func New(n int) Slots { return make(Slots, n) }

// Acquire takes between 1 and n slots, blocking only for the first; it
// returns 0 if ctx ends first.
func (s Slots) Acquire(ctx context.Context, n int) int {
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	got := 1
	for got < n {
		select {
		case s <- struct{}{}:
			got++
		default:
			return got
		}
	}
	return got
}

// Release frees n slots.
func (s Slots) Release(n int) {
	for range n {
		<-s
	}
}
