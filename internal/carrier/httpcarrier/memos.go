package httpcarrier

import (
	"sync"
	"time"
)

// Memos is what a node remembers about its own calls between webhooks, by
// ringgate's call id (an answering machine reported, a call it hung up
// itself). It is memory only: a memo lost to a restart makes an ended
// call's cause less precise, nothing more. Once it holds memoSweepAt
// entries, creating one drops those older than memoMaxAge, so it stays
// bounded by a day's calls.
type Memos[T any] struct {
	mu sync.Mutex
	m  map[string]*memo[T]
}

type memo[T any] struct {
	v  T
	at time.Time
}

const (
	memoSweepAt = 1024
	memoMaxAge  = 24 * time.Hour
)

// Get returns call id's memo; nil unless it exists or create is set.
func (ms *Memos[T]) Get(id string, create bool, now time.Time) *T {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m := ms.m[id]; m != nil {
		return &m.v
	}
	if !create {
		return nil
	}
	if ms.m == nil {
		ms.m = map[string]*memo[T]{}
	}
	if len(ms.m) >= memoSweepAt {
		for k, v := range ms.m {
			if now.Sub(v.at) > memoMaxAge {
				delete(ms.m, k)
			}
		}
	}
	m := &memo[T]{at: now}
	ms.m[id] = m
	return &m.v
}

// Forget drops call id's memo.
func (ms *Memos[T]) Forget(id string) {
	ms.mu.Lock()
	delete(ms.m, id)
	ms.mu.Unlock()
}
