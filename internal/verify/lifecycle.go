package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
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

// UpdateApp applies p, audited.
func (s *Service) UpdateApp(ctx context.Context, t Tenant, p AppPatch) (App, error) {
	return s.PatchApp(ctx, t, &p, nil)
}

// PatchApp changes an app's name or callback (ap) and its settings (sp)
// in one transaction, audited: a bad field in either leaves the app as it
// was. A nil patch leaves that part alone. An app's settings and callback
// are what its live traffic uses, so a sandbox tenant (a test key) may
// change neither.
func (s *Service) PatchApp(ctx context.Context, t Tenant, ap *AppPatch, sp *SettingsPatch) (App, error) {
	if err := t.forbidSandbox("PATCH /v1/app"); err != nil {
		return App{}, err
	}
	if ap != nil {
		if err := s.checkAppPatch(*ap); err != nil {
			return App{}, err
		}
	}
	appID := t.AppID
	var app App
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if app, err = tx.App(ctx, appID); err != nil {
			return err
		}
		if sp != nil {
			if err := s.applySettings(&app, *sp); err != nil {
				return err
			}
		}
		var fields []string
		if ap != nil {
			fields = ap.apply(&app)
		}
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		if sp != nil {
			if err := s.audit(ctx, tx, t, AuditSettingsUpdated, appID, map[string]any{"fields": sp.fields()}); err != nil {
				return err
			}
		}
		if ap != nil {
			return s.audit(ctx, tx, t, AuditAppUpdated, appID, map[string]any{"fields": fields})
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return App{}, Errorf(CodeNotFound, "no app %q", appID)
	}
	return app, err
}

// checkAppPatch validates a name and callback change before anything is
// written.
func (s *Service) checkAppPatch(p AppPatch) error {
	if p.Name != nil && strings.TrimSpace(*p.Name) == "" {
		return FieldErrorf(CodeInvalid, "name", "an app's name cannot be empty")
	}
	if p.DefaultCallbackURL != nil && *p.DefaultCallbackURL != "" {
		if err := s.checkURL(*p.DefaultCallbackURL); err != nil {
			return FieldErrorf(CodeInvalid, "default_callback_url", "callback URL %v", err)
		}
	}
	return nil
}

// apply sets p's fields on app and names them, for the audit log.
func (p AppPatch) apply(app *App) []string {
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

// RotateWebhookSecret gives the app a new webhook secret. During overlap
// the secrets it had keep signing too: every delivery carries one
// signature per secret (Standard Webhooks' space-separated
// webhook-signature), so receivers can switch at their own pace.
//
// The app's stored WebhookSecret then holds the current secret first and
// the overlapping ones after it, each as "whsec_…;until=<unix ms>"
// (ParseWebhookSecrets reads it back; internal/webhook signs with each).
func (s *Service) RotateWebhookSecret(ctx context.Context, t Tenant, overlap time.Duration) (Rotation, error) {
	if err := t.forbidSandbox("rotating the webhook secret"); err != nil {
		return Rotation{}, err
	}
	appID := t.AppID
	if overlap < 0 || overlap > MaxSecretOverlap {
		return Rotation{}, FieldErrorf(CodeInvalid, "overlap", "the overlap must be between 0 and %s", MaxSecretOverlap)
	}
	now := s.Now()
	r := Rotation{Secret: NewWebhookSecret()}
	if overlap > 0 {
		r.PreviousUntil = now.Add(overlap)
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		app, err := tx.App(ctx, appID)
		if err != nil {
			return err
		}
		keep := []string{r.Secret}
		if overlap > 0 {
			for _, old := range ParseWebhookSecrets(app.WebhookSecret, now) {
				until := r.PreviousUntil
				if !old.Until.IsZero() && old.Until.Before(until) {
					until = old.Until // an older overlap does not get longer
				}
				keep = append(keep, old.Secret+";until="+strconv.FormatInt(until.UnixMilli(), 10))
			}
		}
		app.WebhookSecret = strings.Join(keep, " ")
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		detail := map[string]any{"overlap_seconds": int64(overlap / time.Second)}
		return s.audit(ctx, tx, t, AuditSecretRotated, appID, detail)
	})
	if errors.Is(err, ErrNotFound) {
		return Rotation{}, Errorf(CodeNotFound, "no app %q", appID)
	}
	return r, err
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

func (p *Purged) add(q Purged) {
	p.Verifications += q.Verifications
	p.Events += q.Events
	p.Jobs += q.Jobs
	p.Deliveries += q.Deliveries
	p.Calls += q.Calls
}

// PurgeEnded deletes, in batches of batch, the verifications of every app
// that ended before now-retain, with their events, jobs, webhook
// deliveries and calls, and calls no verification claimed that old.
// Nothing in flight is touched: a pending verification, a job pending or
// running, a webhook delivery still pending keeps its verification (and
// so all its rows) until it settles. Safe on several nodes at once.
func (s *Service) PurgeEnded(ctx context.Context, retain time.Duration, batch int) (Purged, error) {
	var total Purged
	if retain <= 0 || batch <= 0 {
		return total, nil
	}
	before := s.Now().Add(-retain)
	for ctx.Err() == nil {
		var p Purged
		err := s.store.Tx(ctx, func(tx Tx) error {
			var err error
			p, err = tx.PurgeEnded(ctx, before, batch)
			return err
		})
		if err != nil {
			return total, err
		}
		total.add(p)
		if p.Verifications < batch && p.Calls < batch && p.Deliveries < batch {
			break
		}
	}
	return total, ctx.Err()
}

// ErasePhone deletes everything the app holds about one phone number:
// its verifications (pending ones too: they end unreported), their events,
// outbound jobs, webhook deliveries, and the calls. The erasure is
// audited, naming the number only masked.
func (s *Service) ErasePhone(ctx context.Context, t Tenant, number string) (Purged, error) {
	if err := t.forbidSandbox("erasing a phone number's data"); err != nil {
		return Purged{}, err
	}
	appID := t.AppID
	n, err := phone.ParseE164(number)
	if err != nil {
		return Purged{}, &Error{Code: CodeInvalidPhone, Field: "phone", Message: err.Error(), Err: err}
	}
	var p Purged
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.ErasePhone(ctx, appID, n.E164); err != nil {
			return fmt.Errorf("erase phone: %w", err)
		}
		return s.audit(ctx, tx, t, AuditPhoneErased, phone.Mask(n.E164), p)
	})
	return p, err
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
