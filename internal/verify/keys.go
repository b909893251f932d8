package verify

import (
	"context"
	"sync"
	"time"
)

// Scope is what an API key may do.
type Scope string

// Scopes. An admin key may do everything a verify key may, and more.
const (
	// ScopeVerify starts, checks, steps on, cancels and reads the app's own
	// verifications: what a customer's backend needs, and all it needs.
	ScopeVerify Scope = "verify"
	// ScopeAdmin also reads and changes the app's settings, manages its
	// keys, reads and retries webhook deliveries and reads the audit log.
	ScopeAdmin Scope = "admin"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeVerify || s == ScopeAdmin }

// Allows reports whether a key of scope s may call a route needing need.
// A key with no scope predates scopes and keeps full rights.
func (s Scope) Allows(need Scope) bool {
	switch s {
	case ScopeAdmin, "":
		return true
	case ScopeVerify:
		return need == ScopeVerify
	}
	return false
}

// EffectiveScope is the key's scope, admin for a key made before scopes.
func (k APIKey) EffectiveScope() Scope {
	if k.Scope == "" {
		return ScopeAdmin
	}
	return k.Scope
}

// Active reports whether the key works at now: not revoked, not expired.
func (k APIKey) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// TouchEvery is how stale a key's LastUsedAt may get before a request
// writes it again: key use costs at most one write a minute per key, not
// one per request.
const TouchEvery = time.Minute

// Limits on keys made through the API.
const (
	MaxKeysPerApp = 100
	MinKeyLife    = time.Minute
)

// Audit actions.
const (
	AuditSettingsUpdated = "app.settings_updated"
	AuditKeyCreated      = "key.created"
	AuditKeyRevoked      = "key.revoked"
	AuditDeliveryRetried = "delivery.retried"
	AuditNumberAdded     = "number.added"
	AuditNumberRemoved   = "number.removed"
)

// NewKeyRequest is a key to create.
type NewKeyRequest struct {
	Scope     Scope      `json:"scope"`
	Kind      KeyKind    `json:"kind,omitempty"`       // live unless test
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: never
}

// keyTouches remembers, per process, when each key's LastUsedAt was last
// written, so concurrent requests with one key do not all write it.
type keyTouches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (t *keyTouches) due(id string, stored, now time.Time) bool {
	if now.Sub(stored) < TouchEvery {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = make(map[string]time.Time)
	}
	if now.Sub(t.last[id]) < TouchEvery {
		return false
	}
	if len(t.last) > 10000 { // bounded: forget all; the stored time still guards
		clear(t.last)
	}
	t.last[id] = now
	return true
}

// touchKey records that k was used, at most once per TouchEvery. A failure
// is logged, not returned: it must not fail the request.
func (s *Service) touchKey(ctx context.Context, k APIKey) {
	now := s.Now()
	if !s.touches.due(k.ID, k.LastUsedAt, now) {
		return
	}
	err := s.store.Tx(ctx, func(tx Tx) error { return tx.TouchAPIKey(ctx, k.ID, now, now.Add(-TouchEvery)) })
	if err != nil {
		s.log.Warn("record API key use", "key", k.ID, "err", err)
	}
}
