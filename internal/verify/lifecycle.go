package verify

import (
	"strconv"
	"strings"
	"time"
)

// The operator lifecycle of an app after creation (issue 19): changing its
// name and default callback, rotating its webhook secret with an overlap,
// and the retention and erasure of phone numbers' data.

// Audit actions of this file.
const (
	AuditAppUpdated    = "app.updated"
	AuditSecretRotated = "app.webhook_secret_rotated"
	AuditPhoneErased   = "phone.erased"
)

// AppPatch changes an app's name or default callback URL; nil leaves a
// field as it is, an empty callback URL removes it (the app then polls,
// or passes callback_url per verification).
type AppPatch struct {
	Name               *string `json:"name,omitempty"`
	DefaultCallbackURL *string `json:"default_callback_url,omitempty"`
}

// Apply sets p's fields on app and names them, for the audit log.
func (p AppPatch) Apply(app *App) []string {
	fields := []string{}
	if p.Name != nil {
		app.Name = strings.TrimSpace(*p.Name)
		fields = append(fields, "name")
	}
	if p.DefaultCallbackURL != nil {
		app.DefaultCallbackURL = *p.DefaultCallbackURL
		fields = append(fields, "default_callback_url")
	}
	return fields
}

// MaxSecretOverlap bounds how long a rotated-out webhook secret keeps
// signing.
const MaxSecretOverlap = 30 * 24 * time.Hour

// Rotation is a webhook secret rotation as done: the new secret, shown only
// now, and until when the old one(s) still sign too.
type Rotation struct {
	Secret        string
	PreviousUntil time.Time // zero without an overlap
}

// SigningSecret is one of an app's webhook secrets; Until is zero for the
// current one.
type SigningSecret struct {
	Secret string
	Until  time.Time
}

// ParseWebhookSecrets reads an app's stored WebhookSecret: the secrets that
// sign at now, the current one first. Secrets whose overlap ended are left
// out; a malformed entry is skipped.
func ParseWebhookSecrets(stored string, now time.Time) []SigningSecret {
	var out []SigningSecret
	for i, f := range strings.Fields(stored) {
		sec, rest, hasUntil := strings.Cut(f, ";until=")
		if i == 0 || !hasUntil {
			out = append(out, SigningSecret{Secret: sec})
			continue
		}
		ms, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			continue
		}
		until := time.UnixMilli(ms).UTC()
		if now.Before(until) {
			out = append(out, SigningSecret{Secret: sec, Until: until})
		}
	}
	return out
}

// Purged counts rows a purge or an erasure deleted.
type Purged struct {
	Verifications int `json:"verifications"`
	Events        int `json:"events"`
	Jobs          int `json:"jobs"`
	Deliveries    int `json:"deliveries"`
	Calls         int `json:"calls"`
}

// Total is the number of rows deleted.
func (p Purged) Total() int { return p.Verifications + p.Events + p.Jobs + p.Deliveries + p.Calls }

func (p *Purged) Add(q Purged) {
	p.Verifications += q.Verifications
	p.Events += q.Events
	p.Jobs += q.Jobs
	p.Deliveries += q.Deliveries
	p.Calls += q.Calls
}

// NeedsCallback reports whether a workflow must have a callback URL. A
// missed call's result is decided by an inbound call the app's backend
// takes no part in, and the missed-call contract (seeds 001 and 003:
// result_code 000/001 reported to the callback) promises it there; every
// other channel ends in a check the backend makes, or can be polled
// (GET /v1/verifications/{id}), so an app without a callback URL may
// use them and poll.
func NeedsCallback(workflow []Step) bool {
	for _, st := range workflow {
		if st.Channel == ChannelMissedCall {
			return true
		}
	}
	return false
}
