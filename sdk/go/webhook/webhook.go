// Package webhook verifies and decodes ringgate's webhooks, which are
// signed per Standard Webhooks (https://www.standardwebhooks.com/):
// webhook-signature is "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with
// the app's whsec_ secret, possibly several space-separated (during a
// secret rotation), and webhook-timestamp must be within 5 minutes of now.
//
// The check is written here on crypto/hmac rather than imported so that the
// SDK needs nothing beyond the standard library; its output is held to the
// official Standard Webhooks libraries' by test vectors they produced.
//
//	http.Handle("/hooks/ringgate", webhook.Handler(secret, func(ctx context.Context, ev ringgate.Event) error {
//		if ev.Type == ringgate.EventVerified { … }
//		return nil
//	}))
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
)

// Header names (matched case-insensitively).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far webhook-timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// The kinds of refusal; an *Error wraps one (errors.Is works on them).
var (
	ErrInvalidSecret       = errors.New("the webhook secret is not whsec_ and base64")
	ErrMissingHeaders      = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrInvalidTimestamp    = errors.New("webhook-timestamp is not a unix time in seconds")
	ErrTooOld              = errors.New("webhook-timestamp is too old")
	ErrTooNew              = errors.New("webhook-timestamp is in the future")
	ErrNoMatchingSignature = errors.New("no signature matches")
	ErrMalformedBody       = errors.New("the body is not a ringgate event")
)

// Error is a refused webhook: Kind is one of the Err… values above.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "webhook: " + e.Kind.Error()
	}
	return "webhook: " + e.Kind.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Kind }

// Verifier checks signatures with one secret. The zero Tolerance is
// DefaultTolerance; Now defaults to time.Now.
type Verifier struct {
	Secret    string
	Tolerance time.Duration
	Now       func() time.Time
}

// Verify checks body's Standard Webhooks signature with secret (whsec_…)
// and the timestamp's freshness. It returns nil or an *Error.
func Verify(secret string, headers http.Header, body []byte) error {
	return Verifier{Secret: secret}.Verify(headers, body)
}

// Verify checks one webhook; see the package-level Verify.
func (v Verifier) Verify(headers http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v.Secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return &Error{Kind: ErrInvalidSecret}
	}
	id, ts, sigs := headers.Get(HeaderID), headers.Get(HeaderTimestamp), headers.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return &Error{Kind: ErrMissingHeaders}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &Error{Kind: ErrInvalidTimestamp, Detail: strconv.Quote(ts)}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	at := time.Unix(sec, 0)
	switch n := now(); {
	case n.Sub(at) > tol:
		return &Error{Kind: ErrTooOld, Detail: "sent " + n.Sub(at).Round(time.Second).String() + " ago"}
	case at.Sub(n) > tol:
		return &Error{Kind: ErrTooNew}
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, sec)
	mac.Write(body)
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return &Error{Kind: ErrNoMatchingSignature}
}

// Parse verifies a webhook and decodes its body into an event.
func Parse(secret string, headers http.Header, body []byte) (ringgate.Event, error) {
	return Verifier{Secret: secret}.Parse(headers, body)
}

// Parse verifies and decodes one webhook.
func (v Verifier) Parse(headers http.Header, body []byte) (ringgate.Event, error) {
	if err := v.Verify(headers, body); err != nil {
		return ringgate.Event{}, err
	}
	return decode(body)
}

func decode(body []byte) (ringgate.Event, error) {
	var ev ringgate.Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return ringgate.Event{}, &Error{Kind: ErrMalformedBody, Detail: err.Error()}
	}
	if dec.More() {
		return ringgate.Event{}, &Error{Kind: ErrMalformedBody, Detail: "data after the event"}
	}
	if ev.Type == "" || ev.Data.ID == "" || ev.Timestamp.IsZero() {
		return ringgate.Event{}, &Error{Kind: ErrMalformedBody, Detail: "type, timestamp or data.id missing"}
	}
	return ev, nil
}

// MaxBody is the largest webhook body Handler reads.
const MaxBody = 1 << 20

// Handler verifies each POST with secret, decodes its event and calls fn.
// It answers 204 when fn returns nil; 500 when fn fails, so that ringgate
// delivers the webhook again (deliveries are at least once: the same
// webhook-id may arrive twice, so make fn idempotent); 400 with problem
// JSON for a webhook that fails verification or decoding, which fn never
// sees; 405 for other methods.
func Handler(secret string, fn func(ctx context.Context, ev ringgate.Event) error) http.Handler {
	return Verifier{Secret: secret}.Handler(fn)
}

// Handler is the package-level Handler with v's settings.
func (v Verifier) Handler(fn func(ctx context.Context, ev ringgate.Event) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			problem(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST only")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			problem(w, http.StatusBadRequest, "unreadable_body", err.Error())
			return
		}
		ev, err := v.Parse(r.Header, body)
		if err != nil {
			code := "invalid_signature"
			if errors.Is(err, ErrMalformedBody) {
				code = "malformed_event"
			} else if errors.Is(err, ErrInvalidSecret) {
				// Our own configuration is wrong: ask to be retried later.
				problem(w, http.StatusInternalServerError, "invalid_secret", err.Error())
				return
			}
			problem(w, http.StatusBadRequest, code, err.Error())
			return
		}
		if err := fn(r.Context(), ev); err != nil {
			problem(w, http.StatusInternalServerError, "handler_failed", "the event was not processed")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "code": code, "detail": detail,
	})
}
