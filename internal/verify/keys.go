package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// AuditEntry is one recorded admin action.
type AuditEntry struct {
	ID     string // "aud_…", time-ordered
	AppID  string
	At     time.Time
	Actor  string // who: "key:<key id>", "console:<user>", "system"
	Action string // Audit* constants
	Target string // what it acted on: an app, key or delivery id
	Detail json.RawMessage
	// Sandbox marks an action of a test key: test keys read only these.
	Sandbox bool
}

// AuditFilter selects a tenant's audit entries; Tenant.AppID must be set.
type AuditFilter struct {
	Tenant   Tenant
	Action   string // "" for all
	BeforeID string // cursor: only IDs less than this
	Limit    int
}

type actorKey struct{}

// WithActor names who acts in ctx ("key:key_…"); audit entries written by
// the service under ctx record it. Without one the actor is "system".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// hasActor reports whether ctx names who acts: actions that are audited
// only when someone (a key, the console) asked for them, not when ringgate
// does them itself (dev mode seeding its demo pool, the CLI at setup).
func hasActor(ctx context.Context) bool {
	a, ok := ctx.Value(actorKey{}).(string)
	return ok && a != ""
}

// ActorOf is the actor WithActor put in ctx, or "system".
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// ConsoleActor names the operator console (one shared admin token) as an
// actor.
const ConsoleActor = "console"

// KeyActor is how a key is named as an actor.
func KeyActor(k APIKey) string { return "key:" + k.ID }

// audit records an admin action in tx, so it commits with the action.
func (s *Service) audit(ctx context.Context, tx Tx, t Tenant, action, target string, detail any) error {
	raw := json.RawMessage(`{}`)
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	e := AuditEntry{ID: NewID("aud_"), AppID: t.AppID, At: s.Now(), Actor: ActorOf(ctx), Action: action, Target: target, Detail: raw, Sandbox: t.Sandbox}
	if err := tx.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Audit returns a page of the app's audit log, newest first, and the next
// page's cursor ("" at the end).
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error) {
	if f.Tenant.AppID == "" {
		return nil, "", errors.New("audit: no app")
	}
	f.Limit = clampPage(f.Limit) + 1
	es, err := s.store.AuditEntries(ctx, f)
	if err != nil || len(es) < f.Limit {
		return es, "", err
	}
	es = es[:f.Limit-1]
	return es, es[len(es)-1].ID, nil
}

// NewKeyRequest is a key to create.
type NewKeyRequest struct {
	Scope     Scope      `json:"scope"`
	Kind      KeyKind    `json:"kind,omitempty"`       // live unless test
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: never
}

// CreateKey makes a new key for the tenant's app and returns it with its
// secret, which is never readable again. A sandbox tenant (a test key) may
// make only test keys.
func (s *Service) CreateKey(ctx context.Context, t Tenant, r NewKeyRequest) (APIKey, string, error) {
	appID := t.AppID
	if !r.Scope.Valid() {
		return APIKey{}, "", FieldErrorf(CodeInvalid, "scope", "scope must be %q or %q", ScopeVerify, ScopeAdmin)
	}
	switch r.Kind {
	case "":
		r.Kind = KeyLive
	case KeyLive, KeyTest:
	default:
		return APIKey{}, "", FieldErrorf(CodeInvalid, "kind", "kind must be %q or %q", KeyLive, KeyTest)
	}
	if r.Kind == KeyLive {
		if err := t.forbidSandbox(`creating a live key (kind "live", the default)`); err != nil {
			return APIKey{}, "", err
		}
	}
	now := s.Now()
	k := APIKey{ID: NewID("key_"), AppID: appID, Kind: r.Kind, Scope: r.Scope, CreatedAt: now}
	if r.ExpiresAt != nil {
		exp := r.ExpiresAt.UTC().Truncate(time.Millisecond)
		if exp.Before(now.Add(MinKeyLife)) {
			return APIKey{}, "", FieldErrorf(CodeInvalid, "expires_at", "expires_at must be at least %v in the future", MinKeyLife)
		}
		k.ExpiresAt = exp
	}
	secret := NewAPIKey(r.Kind)
	k.Hash, k.Prefix = HashAPIKey(secret), KeyPrefixOf(secret)
	err := s.store.Tx(ctx, func(tx Tx) error {
		have, err := tx.APIKeys(ctx, appID)
		if err != nil {
			return err
		}
		active := 0
		for _, h := range have {
			if h.Active(now) {
				active++
			}
		}
		if active >= MaxKeysPerApp {
			return Errorf(CodeConflict, "the app has %d active keys, the most it may have; revoke one first", active)
		}
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, t, AuditKeyCreated, k.ID, map[string]any{
			"prefix": k.Prefix, "scope": k.Scope, "kind": k.Kind, "expires_at": optTime(k.ExpiresAt),
		})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, secret, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Keys lists the keys the tenant may manage, revoked and expired ones
// included: a live key sees all of the app's (it makes its test keys), a
// test key only test keys.
func (s *Service) Keys(ctx context.Context, t Tenant) ([]APIKey, error) {
	ks, err := s.store.APIKeys(ctx, t.AppID)
	if err != nil {
		return nil, err
	}
	out := ks[:0]
	for _, k := range ks {
		if t.mayManage(k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// RevokeKey revokes one of the app's keys. An app always keeps at least
// one active admin key, so that it cannot lock itself out: revoking the
// last one is refused with CodeConflict. A caller may revoke the very key
// it authenticated with (the last step of a rotation) when another active
// admin key exists.
// A test key reaches only test keys: a live key's id is not found.
func (s *Service) RevokeKey(ctx context.Context, t Tenant, id string) (APIKey, error) {
	appID := t.AppID
	now := s.Now()
	var out APIKey
	err := s.store.Tx(ctx, func(tx Tx) error {
		have, err := tx.APIKeys(ctx, appID)
		if err != nil {
			return err
		}
		found, otherAdmins := false, 0
		for _, k := range have {
			if k.ID == id {
				if !k.RevokedAt.IsZero() || !t.mayManage(k) {
					return Errorf(CodeNotFound, "no active API key %q", id)
				}
				found, out = true, k
				continue
			}
			if k.Active(now) && k.EffectiveScope() == ScopeAdmin {
				otherAdmins++
			}
		}
		if !found {
			return Errorf(CodeNotFound, "no active API key %q", id)
		}
		if out.Active(now) && out.EffectiveScope() == ScopeAdmin && otherAdmins == 0 {
			return Errorf(CodeConflict, "%s… is the app's last active admin key; create another admin key before revoking it", out.Prefix)
		}
		if err := tx.RevokeAPIKey(ctx, appID, id, now); err != nil {
			return err
		}
		out.RevokedAt = now
		return s.audit(ctx, tx, t, AuditKeyRevoked, id, map[string]any{"prefix": out.Prefix, "scope": out.EffectiveScope()})
	})
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, Errorf(CodeNotFound, "no active API key %q", id)
	}
	return out, err
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
