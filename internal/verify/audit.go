package verify

import (
	"context"
	"encoding/json"
	"time"
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

// HasActor reports whether ctx names who acts: actions that are audited
// only when someone (a key, the console) asked for them, not when ringgate
// does them itself (dev mode seeding its demo pool, the CLI at setup).
func HasActor(ctx context.Context) bool {
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
