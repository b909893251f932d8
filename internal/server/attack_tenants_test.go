package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/verify"
)

// Attacks on tenant and key-kind isolation (issue 14, items 1–3), played
// through the HTTP API of a real server.

// newTestKey makes an rg_test_ key of scope for the harness's app with its
// live admin key, through the API.
func (h *harness) newTestKey(scope string) string {
	h.t.Helper()
	k := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": scope, "kind": "test"}), http.StatusCreated)
	key := k["key"].(string)
	if !strings.HasPrefix(key, verify.TestKeyPrefix) {
		h.t.Fatalf("test key %v", k)
	}
	return key
}

func idsOf(items []map[string]any, field string) map[string]bool {
	out := map[string]bool{}
	for _, it := range items {
		if s, ok := it[field].(string); ok {
			out[s] = true
		}
	}
	return out
}

// A test key of the app must not reach its live verifications: not read,
// list, cancel, check, step on, stream them, nor see their webhook
// deliveries or the live keys' audit entries. A start with a test key for a
// phone that has a live pending verification must not hand that live one
// back either.
func TestAttackTestKeyReachesLiveData(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	recv := newReceiver(t, testSecret)
	test := h.newTestKey("admin") // audited as the live key's action

	live := h.start("+14155552681", recv.URL(), map[string]any{"metadata": map[string]string{"user": "secret-live-user"}})
	liveID := live["id"].(string)
	ended := h.start("+14155552682", recv.URL(), nil)
	endedID := ended["id"].(string)
	h.mustStatus(h.do("POST", "/v1/verifications/"+endedID+"/cancel", h.key, nil), http.StatusOK)
	waitFor(t, 5*time.Second, "the live cancel webhook", func() bool {
		return len(dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+endedID, h.key, nil), http.StatusOK))) == 1
	})
	liveDeliveries := idsOf(dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries", h.key, nil), http.StatusOK)), "id")
	before := h.mustStatus(h.do("GET", "/v1/verifications/"+liveID, h.key, nil), http.StatusOK)

	for _, x := range []struct{ method, path, body string }{
		{"GET", "/v1/verifications/" + liveID, ""},
		{"GET", "/v1/verifications/" + endedID, ""},
		{"POST", "/v1/verifications/" + liveID + "/cancel", ""},
		{"POST", "/v1/verifications/" + liveID + "/check", `{"code":"123456"}`},
		{"POST", "/v1/verifications/" + liveID + "/next", ""},
		{"GET", "/v1/verifications/" + liveID + "/events", ""},
		{"GET", "/v1/verifications/" + liveID + "/status", ""},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		r := h.do(x.method, x.path, test, body)
		if r.status != http.StatusNotFound {
			t.Errorf("%s %s with a test key: %d %s, want 404", x.method, x.path, r.status, r.body)
		}
	}
	for id := range liveDeliveries {
		if r := h.do("POST", "/v1/webhooks/deliveries/"+id+"/retry", test, nil); r.status != http.StatusNotFound {
			t.Errorf("retry of live delivery %s with a test key: %d %s, want 404", id, r.status, r.body)
		}
	}
	if ids := idsOf(dataOf(h.mustStatus(h.do("GET", "/v1/verifications", test, nil), http.StatusOK)), "id"); ids[liveID] || ids[endedID] {
		t.Errorf("a test key lists live verifications: %v", ids)
	}
	for id := range idsOf(dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries", test, nil), http.StatusOK)), "id") {
		if liveDeliveries[id] {
			t.Errorf("a test key lists live delivery %s", id)
		}
	}
	for _, e := range dataOf(h.mustStatus(h.do("GET", "/v1/audit", test, nil), http.StatusOK)) {
		t.Errorf("a test key reads the live audit log: %v", e)
	}
	for _, k := range dataOf(h.mustStatus(h.do("GET", "/v1/keys", test, nil), http.StatusOK)) {
		if k["kind"] != "test" {
			t.Errorf("a test key lists live key %v", k)
		}
	}

	// Starting for the live verification's phone gives a sandbox one.
	r := h.do("POST", "/v1/verifications", test, map[string]any{"phone": "+14155552681", "channel": "missed_call", "callback_url": recv.URL()})
	if r.status != http.StatusCreated {
		t.Errorf("test start for a phone with a live pending verification: %d %s, want 201", r.status, r.body)
	} else if v := r.json(t); v["id"] == liveID || v["sandbox"] != true || strings.Contains(string(r.body), "secret-live-user") {
		t.Errorf("test start answered with live data: %s", r.body)
	}

	after := h.mustStatus(h.do("GET", "/v1/verifications/"+liveID, h.key, nil), http.StatusOK)
	if after["status"] != "pending" || after["attempts_remaining"] != before["attempts_remaining"] {
		t.Errorf("the live verification changed: before %v, after %v", before, after)
	}
}

// A test admin key must not mint live keys or change the settings live
// traffic uses: a phishing SMS template set through it would go out on
// the next live text.
func TestAttackTestKeyMintsLiveKeyOrSetsLiveTemplate(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	test := h.newTestKey("admin")

	for _, body := range []string{`{"scope":"admin"}`, `{"scope":"admin","kind":"live"}`, `{"scope":"verify","kind":"live"}`} {
		r := h.do("POST", "/v1/keys", test, body)
		if r.status != http.StatusForbidden || problemCode(t, r) != "forbidden" || !strings.Contains(string(r.body), "test key") {
			t.Errorf("POST /v1/keys %s with a test key: %d %s, want 403 naming the test key", body, r.status, r.body)
		}
	}
	phish := `{"sms_templates":{"en":"Security alert: confirm at https://evil.example/{code}"}}`
	if r := h.do("PATCH", "/v1/app", test, phish); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "test key") {
		t.Errorf("PATCH /v1/app with a test key: %d %s, want 403", r.status, r.body)
	}
	// A test key may still make test keys.
	h.mustStatus(h.do("POST", "/v1/keys", test, `{"scope":"verify","kind":"test"}`), http.StatusCreated)

	// The next live text uses the live template, not the attacker's.
	const to = "+447911123471"
	h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": to, "channel": "sms_otp"}), http.StatusCreated)
	p := h.waitPhone(to, "the live text", func(p phoneView) bool { return len(p.Messages) >= 1 })
	if txt := p.Messages[0].Text; strings.Contains(txt, "evil.example") {
		t.Errorf("the live text went out with the test key's template: %q", txt)
	}
	for _, k := range dataOf(h.mustStatus(h.do("GET", "/v1/keys", h.key, nil), http.StatusOK)) {
		if k["kind"] == "live" && strings.HasPrefix(k["id"].(string), "key_") && k["prefix"] != testKey[:12] {
			t.Errorf("a live key was minted: %v", k)
		}
	}
}

// serveWithSim is a serve-mode server (simulator on for live traffic,
// behind API keys) with apps A and B, each with a live and a test key and
// the demo pool.
func serveWithSim(t *testing.T) (h *harness, keys map[string]string) {
	t.Helper()
	h = startServer(t, t.TempDir(), func(c *config.Config) {
		c.Mode = config.ModeServe
		c.Secret = strings.Repeat("cd", 32)
		c.Simulator.Enabled = true
	})
	keys = map[string]string{
		"A live": "rg_live_tenantA00000000000000000000",
		"A test": "rg_test_tenantA00000000000000000000",
		"B live": "rg_live_tenantB00000000000000000000",
		"B test": "rg_test_tenantB00000000000000000000",
	}
	for _, app := range []string{"A", "B"} {
		_, err := h.srv.Operator().CreateApp(t.Context(), verify.NewApp{
			ID: "app_" + app, Name: app, DefaultCallbackURL: "https://hooks.example/" + app,
			APIKeys: []string{keys[app+" live"], keys[app+" test"]},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range server.DemoPool {
			if _, err := h.srv.Operator().AddNumber(t.Context(), "app_"+app, n, verify.AnyCountry); err != nil {
				t.Fatal(err)
			}
		}
	}
	return h, keys
}

func (h *harness) phoneWith(key, number string) phoneView {
	h.t.Helper()
	var p phoneView
	r := h.do("GET", "/sim/phones/"+number, key, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("GET /sim/phones/%s: %d %s", number, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		h.t.Fatalf("phone view: %v: %s", err, r.body)
	}
	return p
}

// App B's key must see and act on none of app A's simulated traffic, and a
// test key none of its own app's live traffic.
func TestAttackSimPhoneAcrossTenants(t *testing.T) {
	t.Parallel()
	h, keys := serveWithSim(t)

	// A's sandbox text to one phone, A's live text to another.
	const texted, textedLive = "+447911123472", "+447911123474"
	h.mustStatus(h.do("POST", "/v1/verifications", keys["A test"], map[string]any{"phone": texted, "channel": "sms_otp"}), http.StatusCreated)
	h.mustStatus(h.do("POST", "/v1/verifications", keys["A live"], map[string]any{"phone": textedLive, "channel": "sms_otp"}), http.StatusCreated)
	waitFor(t, 10*time.Second, "A's texts", func() bool {
		return len(h.phoneWith(keys["A test"], texted).Messages) >= 1 && len(h.phoneWith(keys["A live"], textedLive).Messages) >= 1
	})
	for _, k := range []string{"B test", "B live"} {
		for _, n := range []string{texted, textedLive} {
			if p := h.phoneWith(keys[k], n); len(p.Messages) != 0 {
				t.Errorf("%s key reads app A's text on %s: %v", k, n, p.Messages)
			}
		}
	}
	if p := h.phoneWith(keys["A test"], textedLive); len(p.Messages) != 0 {
		t.Errorf("A's test key reads A's live text: %v", p.Messages)
	}
	if p := h.phoneWith(keys["A live"], texted); len(p.Messages) != 0 {
		t.Errorf("A's live key sees A's sandbox text: %v", p.Messages)
	}

	// A's sandbox answer_call: B's key may not answer it.
	const called = "+447911123473"
	v := h.mustStatus(h.do("POST", "/v1/verifications", keys["A test"], map[string]any{"phone": called, "channel": "answer_call"}), http.StatusCreated)
	id := v["id"].(string)
	waitFor(t, 10*time.Second, "A's call ringing", func() bool { return len(h.phoneWith(keys["A test"], called).Calls) == 1 })
	for _, k := range []string{"B test", "B live", "A live"} {
		if r := h.do("POST", "/sim/phones/"+called+"/answer", keys[k], `{}`); r.status != http.StatusNotFound {
			t.Errorf("%s key answering A's sandbox call: %d %s, want 404", k, r.status, r.body)
		}
	}
	if got := h.mustStatus(h.do("GET", "/v1/verifications/"+id, keys["A test"], nil), http.StatusOK); got["status"] != "pending" {
		t.Errorf("A's sandbox call was answered by another tenant: %v", got["status"])
	}
	if r := h.do("POST", "/sim/phones/"+called+"/answer", keys["A test"], `{}`); r.status != http.StatusOK {
		t.Errorf("A's test key answering its own sandbox call: %d %s", r.status, r.body)
	} else {
		waitFor(t, 10*time.Second, "A verified by its own answer", func() bool {
			return h.mustStatus(h.do("GET", "/v1/verifications/"+id, keys["A test"], nil), http.StatusOK)["status"] == "verified"
		})
	}

	// A's live missed call: B's simulated inbound call from A's user's
	// phone to the number A showed does not verify it.
	const user = "+14155552683"
	mc := h.mustStatus(h.do("POST", "/v1/verifications", keys["A live"], map[string]any{"phone": user, "channel": "missed_call"}), http.StatusCreated)
	mcID, dial := mc["id"].(string), mc["dial_number"].(string)
	for _, k := range []string{"B live", "B test", "A test"} {
		r := h.do("POST", "/sim/calls", keys[k], map[string]string{"from": user, "to": dial})
		if r.status == http.StatusOK && r.json(t)["verification_id"] != nil {
			t.Errorf("%s key's simulated call verified A's live verification: %s", k, r.body)
		}
	}
	if got := h.mustStatus(h.do("GET", "/v1/verifications/"+mcID, keys["A live"], nil), http.StatusOK); got["status"] != "pending" {
		t.Errorf("A's live missed call: %v after other tenants' simulated calls, want pending", got["status"])
	}
}

// A backend that starts verifications for its users without client_ip
// must not be locked out by the per-IP limit, which is about end users.
func TestAttackBackendLockedOutByPerIPLimit(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Abuse.RateLimits = []config.RateLimit{{Scope: "ip", Max: 100, Window: time.Hour}}
		c.Abuse.Pumping = config.Pumping{}
	})
	for i := range 101 {
		phone := fmt.Sprintf("+1415555%04d", 3000+i)
		r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": phone, "channel": "missed_call"})
		if r.status != http.StatusCreated {
			t.Fatalf("start %d without client_ip from one backend: %d %s, want 201", i+1, r.status, r.body)
		}
	}
	// The limit still holds for one end user, and says what counts.
	for i := range 100 {
		phone := fmt.Sprintf("+1415556%04d", 3000+i)
		h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": phone, "channel": "missed_call", "client_ip": "198.51.100.7"}), http.StatusCreated)
	}
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+14155569999", "channel": "missed_call", "client_ip": "198.51.100.7"})
	if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), "client_ip") {
		t.Errorf("101st start for one end user: %d %s, want 429 naming client_ip", r.status, r.body)
	}
}

// A test key's starts must not use up the live traffic's limits: five
// sandbox starts for a victim's phone would otherwise refuse the victim's
// next live verification (phone limit 5 an hour).
func TestAttackTestKeyExhaustsLivePhoneLimit(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	test := h.newTestKey("verify")
	const victim = "+14155552690"
	for range 6 {
		r := h.do("POST", "/v1/verifications", test, map[string]any{"phone": victim, "channel": "missed_call"})
		if r.status != http.StatusCreated {
			break // the sandbox's own limit: fine
		}
		h.mustStatus(h.do("POST", "/v1/verifications/"+r.json(t)["id"].(string)+"/cancel", test, nil), http.StatusOK)
	}
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": victim, "channel": "missed_call", "client_ip": "203.0.113.9"})
	if r.status != http.StatusCreated {
		t.Errorf("live start after a test key's sandbox starts for the phone: %d %s, want 201", r.status, r.body)
	}
}

// A leaked test (sandbox) admin key rotates or replaces the live compat
// credentials: the business's Twilio/Vonage SDKs would stop working, or
// the attacker's Vonage public key would sign live starts. Only a live
// admin key changes them.
func TestAttackTestKeyRotatesCompatCredentials(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	test := h.newTestKey("admin")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/app/compat-credentials", ""},
		{"GET", "/v1/app/compat-credentials", ""},
		{"PUT", "/v1/app/compat-credentials/vonage-status-url", `{"url":"https://evil.example/hook"}`},
		{"PUT", "/v1/app/compat-credentials/vonage-public-key", `{"public_key":"x"}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if r := h.do(c.method, c.path, test, body); r.status != http.StatusForbidden || problemCode(t, r) != "forbidden" {
			t.Errorf("%s %s with a test key: %d %s, want 403 forbidden", c.method, c.path, r.status, r.body)
		}
	}
}
