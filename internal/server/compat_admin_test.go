package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestCompatCredentialsRoutes drives /v1/app/compat-credentials through the
// native API's table: documented answers (the harness validates each
// against openapi.json), the admin scope, the 405 of a wrong method with
// its Allow header, a millisecond updated_at, and the route counted in the
// HTTP metrics under its own label.
func TestCompatCredentialsRoutes(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rot := h.do("POST", "/v1/app/compat-credentials", testKey, nil)
	nc := h.mustStatus(rot, http.StatusCreated)
	if rot.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotation's Cache-Control %q", rot.header.Get("Cache-Control"))
	}
	if !strings.HasPrefix(nc["twilio_account_sid"].(string), "AC") {
		t.Fatalf("rotated %v", nc)
	}
	cc := h.mustStatus(h.do("GET", "/v1/app/compat-credentials", testKey, nil), http.StatusOK)
	if cc["twilio_account_sid"] != nc["twilio_account_sid"] || cc["vonage_public_key"] != false {
		t.Fatalf("credentials %v after rotating to %v", cc, nc)
	}
	if s, _ := cc["updated_at"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
		t.Fatalf("updated_at %q: want milliseconds in UTC", s)
	}
	p := h.mustStatus(h.do("PUT", "/v1/app/compat-credentials/vonage-public-key", testKey, map[string]any{"public_key": "nope"}), http.StatusBadRequest)
	if p["type"] != "urn:ringgate:problem:invalid_request" || p["instance"] != "/v1/app/compat-credentials/vonage-public-key" {
		t.Fatalf("problem %v", p)
	}
	h.mustStatus(h.do("PUT", "/v1/app/compat-credentials/vonage-status-url", testKey, map[string]any{"url": ""}), http.StatusNoContent)
	h.mustStatus(h.do("PUT", "/v1/app/compat-credentials/vonage-status-url", testKey, strings.Repeat("x", 70000)), http.StatusRequestEntityTooLarge)

	wrong := h.do("GET", "/v1/app/compat-credentials/vonage-public-key", testKey, nil)
	if wrong.status != http.StatusMethodNotAllowed || wrong.header.Get("Allow") != "PUT" {
		t.Fatalf("GET on the PUT-only route: %d Allow %q %s", wrong.status, wrong.header.Get("Allow"), wrong.body)
	}
	k := h.mustStatus(h.do("POST", "/v1/keys", testKey, map[string]any{"scope": "verify"}), http.StatusCreated)
	h.mustStatus(h.do("GET", "/v1/app/compat-credentials", k["key"].(string), nil), http.StatusForbidden)
	h.mustStatus(h.do("GET", "/v1/app/compat-credentials", "", nil), http.StatusUnauthorized)

	m := string(h.do("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`ringgate_http_requests_total{code="201",route="POST /v1/app/compat-credentials"} 1`,
		`ringgate_http_requests_total{code="200",route="GET /v1/app/compat-credentials"} 1`,
		`ringgate_http_requests_total{code="204",route="PUT /v1/app/compat-credentials/vonage-status-url"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
