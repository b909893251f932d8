package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/config"
)

// Every bad request gets an RFC 9457 problem with a stable code, and none
// of them harms the server or loses a verification.
func TestBadInputGetsProblemJSON(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	kept := h.start("+14155552690", rx.URL(), nil)

	big := `{"phone":"+14155552691","channel":"missed_call","metadata":{"k":"` + strings.Repeat("x", 70<<10) + `"}}`
	tests := []struct {
		name, method, path, key string
		body                    any
		hdr                     []string
		status                  int
		code, field             string
	}{
		{"malformed JSON", "POST", "/v1/verifications", testKey, `{"phone": "+1415`, nil, 400, "malformed_json", ""},
		{"not an object", "POST", "/v1/verifications", testKey, `[1,2]`, nil, 400, "malformed_json", ""},
		{"trailing data", "POST", "/v1/verifications", testKey, `{"phone":"+14155552691","channel":"missed_call"} {}`, nil, 400, "malformed_json", ""},
		{"empty body", "POST", "/v1/verifications", testKey, ``, nil, 400, "malformed_json", ""},
		{"misspelt field", "POST", "/v1/verifications", testKey, `{"phone_number":"+14155552691","channel":"missed_call"}`, nil, 400, "unknown_field", "phone_number"},
		{"wrong type", "POST", "/v1/verifications", testKey, `{"phone":14155552691,"channel":"missed_call"}`, nil, 400, "malformed_json", "phone"},
		{"metadata not strings", "POST", "/v1/verifications", testKey, `{"phone":"+14155552691","channel":"missed_call","metadata":{"n":1}}`, nil, 400, "malformed_json", "metadata"},
		{"oversized body", "POST", "/v1/verifications", testKey, big, nil, 413, "body_too_large", ""},
		{"form encoded", "POST", "/v1/verifications", testKey, `phone=1`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"unknown channel", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "carrier_pigeon"}, nil, 400, "unsupported_channel", "channel"},
		{"no channel", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691"}, nil, 400, "invalid_request", "channel"},
		{"invalid phone", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+1 099 555 0100", "channel": "missed_call"}, nil, 400, "invalid_phone", "phone"},
		{"national without country", "POST", "/v1/verifications", testKey, map[string]any{"phone": "020 7946 0018", "channel": "missed_call"}, nil, 400, "invalid_phone", "phone"},
		{"timeout too short", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "missed_call", "timeout_s": 5}, nil, 400, "invalid_request", "timeout_s"},
		{"timeout too long", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "missed_call", "timeout_s": 3601}, nil, 400, "invalid_request", "timeout_s"},
		{"callback to metadata service", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "missed_call", "callback_url": "http://169.254.169.254/latest"}, nil, 400, "invalid_request", "callback_url"},
		{"callback to private network", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "missed_call", "callback_url": "http://10.0.0.8/hook"}, nil, 400, "invalid_request", "callback_url"},
		{"callback not http", "POST", "/v1/verifications", testKey, map[string]any{"phone": "+14155552691", "channel": "missed_call", "callback_url": "ftp://example.com/x"}, nil, 400, "invalid_request", "callback_url"},
		{"no key", "POST", "/v1/verifications", "", map[string]any{"phone": "+14155552691", "channel": "missed_call"}, nil, 401, "unauthorized", ""},
		{"wrong key", "GET", "/v1/verifications", "rg_live_notakeyatallnotakeyatall", nil, nil, 401, "unauthorized", ""},
		{"malformed key", "GET", "/v1/verifications", "sk_test_123", nil, nil, 401, "unauthorized", ""},
		{"unknown id", "GET", "/v1/verifications/vf_nope", testKey, nil, nil, 404, "not_found", ""},
		{"cancel unknown id", "POST", "/v1/verifications/vf_nope/cancel", testKey, nil, nil, 404, "not_found", ""},
		{"retry unknown delivery", "POST", "/v1/webhooks/deliveries/msg_nope/retry", testKey, nil, nil, 404, "not_found", ""},
		{"bad status filter", "GET", "/v1/verifications?status=happy", testKey, nil, nil, 400, "invalid_request", "status"},
		{"bad limit", "GET", "/v1/verifications?limit=1000", testKey, nil, nil, 400, "invalid_request", "limit"},
		{"bad delivery status", "GET", "/v1/webhooks/deliveries?status=lost", testKey, nil, nil, 400, "invalid_request", "status"},
		{"bad Last-Event-ID", "GET", "/v1/verifications/" + kept["id"].(string) + "/events", testKey, nil, []string{"Last-Event-ID", "abc"}, 400, "invalid_request", "Last-Event-ID"},
		{"unknown route", "GET", "/v2/verifications", testKey, nil, nil, 404, "no_such_route", ""},
		{"wrong method", "DELETE", "/v1/verifications", testKey, nil, nil, 405, "method_not_allowed", ""},
		{"sim call not a number", "POST", "/sim/calls", "", map[string]string{"from": "hello", "to": "+12025550100"}, nil, 400, "invalid_phone", "from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.key, tt.body, tt.hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			p := r.json(t)
			if p["code"] != tt.code || p["status"] != float64(tt.status) || p["type"] != "urn:ringgate:problem:"+tt.code {
				t.Fatalf("problem %v, want code %s", p, tt.code)
			}
			if tt.field != "" && p["field"] != tt.field {
				t.Fatalf("field %v, want %s (%v)", p["field"], tt.field, p["detail"])
			}
			if d, _ := p["detail"].(string); d == "" {
				t.Fatal("problem has no detail")
			}
		})
	}
	// Nothing above touched the verification that was already there.
	got := h.mustStatus(h.do("GET", "/v1/verifications/"+kept["id"].(string), testKey, nil), http.StatusOK)
	if got["status"] != "pending" {
		t.Fatalf("kept verification: %v", got)
	}
	if r := h.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz after bad input: %d", r.status)
	}
}

// One app cannot read, list or cancel another app's verifications.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	v := h.start("+14155552692", rx.URL(), nil)
	id := v["id"].(string)

	other := "rg_live_otherappotherappotherapp00"
	if _, err := h.srv.Operator().CreateApp(t.Context(), newApp("app_other", other)); err != nil {
		t.Fatal(err)
	}
	h.mustStatus(h.do("GET", "/v1/verifications/"+id, other, nil), http.StatusNotFound)
	h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", other, nil), http.StatusNotFound)
	if _, code := h.stream("/v1/verifications/"+id+"/events", other, ""); code != http.StatusNotFound {
		t.Fatalf("other app's stream: %d", code)
	}
	list := h.mustStatus(h.do("GET", "/v1/verifications", other, nil), http.StatusOK)
	if n := len(list["data"].([]any)); n != 0 {
		t.Fatalf("other app lists %d verifications", n)
	}
	if got := h.mustStatus(h.do("GET", "/v1/verifications/"+id, testKey, nil), http.StatusOK); got["status"] != "pending" {
		t.Fatalf("owner's view changed: %v", got)
	}
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	h.mustStatus(h.do("GET", "/healthz", "", nil), http.StatusOK)
	h.mustStatus(h.do("GET", "/readyz", "", nil), http.StatusOK)
	rx := newReceiver(t, testSecret)
	v := h.start("+14155552693", rx.URL(), nil)
	h.call("+14155552693", v["dial_number"].(string))
	h.call("+14155552694", v["dial_number"].(string))
	r := h.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`ringgate_http_requests_total{code="201",route="POST /v1/verifications"} 1`,
		`ringgate_events_total{type="verification.verified"} 1`,
		`ringgate_inbound_calls_total{outcome="verified"} 1`,
		`ringgate_inbound_calls_total{outcome="no_match"} 1`,
		`ringgate_webhook_attempts_total`,
	} {
		if r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Errorf("metrics (%d) lack %s", r.status, want)
		}
	}
}

// Outside dev mode an enabled simulator is not open to anonymous callers:
// a simulated call verifies numbers, so it takes an API key.
func TestServeModeSimulatorNeedsAKey(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Mode = config.ModeServe
		c.Secret = strings.Repeat("ab", 32)
		c.Simulator.Enabled = true
	})
	key := "rg_test_staging0000000000000000000"
	if _, err := h.srv.Operator().CreateApp(t.Context(), newApp("app_staging", key)); err != nil {
		t.Fatal(err)
	}
	call := map[string]string{"from": "+14155552695", "to": "+12025550100"}
	p := h.mustStatus(h.do("POST", "/sim/calls", "", call), http.StatusUnauthorized)
	if p["code"] != "unauthorized" {
		t.Fatalf("anonymous sim call: %v", p)
	}
	h.mustStatus(h.do("POST", "/sim/calls", key, call), http.StatusOK)
	h.mustStatus(h.do("GET", "/dev/webhooks", "", nil), http.StatusNotFound)
}
