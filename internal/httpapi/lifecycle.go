package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// The app lifecycle routes of issue 19: rotating the webhook secret and
// erasing a phone number's data. Both need an admin key.

// appPatch is PATCH /v1/app's body: the app's own fields and its settings.
type appPatch struct {
	verify.AppPatch
	verify.SettingsPatch
}

func (p appPatch) touchesApp() bool { return p.Name != nil || p.DefaultCallbackURL != nil }

func (p appPatch) touchesSettings() bool {
	b, err := json.Marshal(p.SettingsPatch)
	return err != nil || string(b) != "{}"
}

// rotationRequest is POST /v1/app/webhook-secret's body.
type rotationRequest struct {
	// OverlapSeconds is how long the old secret keeps signing too
	// (default 24 hours; 0 ends it at once).
	OverlapSeconds *int64 `json:"overlap_seconds,omitempty"`
}

type rotationView struct {
	WebhookSecret string        `json:"webhook_secret"`
	PreviousUntil *verify.Stamp `json:"previous_secret_valid_until"`
}

// DefaultSecretOverlap is how long a rotated-out secret keeps signing when
// the request does not say.
const DefaultSecretOverlap = 24 * time.Hour

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	var body rotationRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil {
			a.writeDecodeError(w, r, err)
			return
		}
	}
	overlap := DefaultSecretOverlap
	if body.OverlapSeconds != nil {
		if *body.OverlapSeconds < 0 || *body.OverlapSeconds > int64(verify.MaxSecretOverlap/time.Second) {
			a.writeError(w, r, verify.FieldErrorf(verify.CodeInvalid, "overlap_seconds", "overlap_seconds must be between 0 and %d", int64(verify.MaxSecretOverlap/time.Second)))
			return
		}
		overlap = time.Duration(*body.OverlapSeconds) * time.Second
	}
	rot, err := a.op.RotateWebhookSecret(r.Context(), c.Tenant(), overlap)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the secret must not sit in a cache
	writeJSON(w, http.StatusOK, rotationView{WebhookSecret: rot.Secret, PreviousUntil: optUTC(rot.PreviousUntil)})
}

// erasureView reports what DELETE /v1/phones/{phone} deleted.
type erasureView struct {
	Phone   string        `json:"phone"` // masked
	Deleted verify.Purged `json:"deleted"`
}

func (a *API) erasePhone(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	number := r.PathValue("phone")
	p, err := a.op.ErasePhone(r.Context(), c.Tenant(), number)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, erasureView{Phone: phone.Mask(number), Deleted: p})
}
