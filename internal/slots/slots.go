// Package slots bounds work in flight: the webhook dispatcher and the
// outbound job runner claim only as many items as they have free slots,
// so no claimed item waits in a queue while its lease runs down.
package slots

import (
	"context"
	"sync"
)

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

// Fill is one round of a claiming loop: it takes up to n free slots
// (waiting for the first), claims as many items with claim, and runs each
// with run on its own goroutine in wg, which frees the item's slot when
// run returns. Slots the claim does not fill are freed at once; items
// beyond those asked for are dropped after telling extra. full reports
// that the claim returned all it was asked for. A claim error frees the
// slots and is returned; a ctx done before a slot frees gives false, nil.
func Fill[T any](ctx context.Context, s Slots, n int, wg *sync.WaitGroup, claim func(n int) ([]T, error), run func(T), extra func(asked, got int)) (full bool, err error) {
	n = s.Acquire(ctx, n)
	if n == 0 {
		return false, nil // ctx is done
	}
	items, err := claim(n)
	if err != nil {
		s.Release(n)
		return false, err
	}
	if len(items) > n {
		extra(n, len(items))
		items = items[:n]
	}
	s.Release(n - len(items))
	for _, it := range items {
		wg.Go(func() {
			defer s.Release(1)
			run(it)
		})
	}
	return len(items) == n, nil
}
