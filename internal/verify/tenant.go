package verify

import "github.com/ringgate/ringgate/internal/carrier"

// Tenant is what an API key reaches: one app, and within it either the
// sandbox (test keys, rg_test_…) or live data (live keys). Every store
// query that serves an API key is scoped by one, so a test key never sees
// or changes a live row, and no key sees another app's.
type Tenant struct {
	AppID   string
	Sandbox bool
}

// LiveTenant is an app's live data: what the operator's tools (the CLI,
// dev mode's seeding) act on.
func LiveTenant(appID string) Tenant { return Tenant{AppID: appID} }

// Tenant is what the caller's key reaches.
func (c Caller) Tenant() Tenant { return Tenant{AppID: c.App.ID, Sandbox: c.Key.Kind == KeyTest} }

// TenantOf is the tenant a verification belongs to.
func TenantOf(v Verification) Tenant { return Tenant{AppID: v.AppID, Sandbox: v.Sandbox} }

// Owns reports whether v is the tenant's.
func (t Tenant) Owns(v Verification) bool { return v.AppID == t.AppID && v.Sandbox == t.Sandbox }

// MayManage reports whether the tenant's admin key may list and revoke k:
// a live key any of the app's keys, a test key only test keys.
func (t Tenant) MayManage(k APIKey) bool { return !t.Sandbox || k.Kind == KeyTest }

// ForbidSandbox refuses a change to what live traffic uses (the app's one
// settings object, live keys, fraud blocks) when the caller is a test key.
func (t Tenant) ForbidSandbox(what string) error {
	if t.Sandbox {
		return Errorf(CodeForbidden, "a test key (rg_test_…) only reaches the sandbox; %s changes what live traffic uses, so it needs a live key", what)
	}
	return nil
}

// tenantsCandidates keeps the verifications an inbound call may match: all
// of them for a carrier's call, only its tenant's for a simulated call
// placed with an API key (app B's key must not verify app A's users).
func tenantsCandidates(in carrier.InboundCall, vs []Verification) []Verification {
	if in.Tenant == nil {
		return vs
	}
	t := Tenant{AppID: in.Tenant.AppID, Sandbox: in.Tenant.Sandbox}
	out := vs[:0]
	for _, v := range vs {
		if t.Owns(v) {
			out = append(out, v)
		}
	}
	return out
}

// counterApp is the app name rate-limit counters of v are kept under: the
// sandbox counts apart from live traffic, so a test key's starts never use
// up a live phone's or the app's limits.
func counterApp(v Verification) string {
	if v.Sandbox {
		return v.AppID + "/sandbox"
	}
	return v.AppID
}
