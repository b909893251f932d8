package verify

import (
	"context"
	"log/slog"
	"sync"
)

// maxIPHints bounds the keys remembered as told: beyond it the set starts
// over, and a key may be told once more.
const maxIPHints = 10000

// keyHints remembers which keys were told, in this process, that their
// starts carry no client_ip.
type keyHints struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// first reports whether id is new to the set, and adds it.
func (h *keyHints) first(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.seen[id]; ok {
		return false
	}
	if h.seen == nil || len(h.seen) >= maxIPHints {
		h.seen = make(map[string]struct{})
	}
	h.seen[id] = struct{}{}
	return true
}

// hintClientIP logs, once per key, that a start came without the end
// user's address: the per-IP limit, which is about end users and never
// counts the integrator's server, cannot apply to it.
func (s *Service) hintClientIP(ctx context.Context, k APIKey) {
	if !s.ipHints.first(k.ID) {
		return
	}
	s.log.InfoContext(ctx, "a start without client_ip: the per-IP limit does not apply to it; send the end user's address as client_ip",
		slog.String("app", k.AppID), slog.String("key", k.ID), slog.String("key_prefix", k.Prefix))
}
