package server_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

// Line types from libphonenumber's metadata: an SMS-only start to a
// landline is refused before anything is sent (the phone gets nothing), a
// workflow with a voice step drops its SMS step, and premium-rate or
// shared-cost numbers are refused whatever the channel.
func TestLineTypes(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const landline = "+33145678901" // Paris, fixed line
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": landline, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	if p := r.json(t); r.status != http.StatusBadRequest || p["code"] != "sms_to_landline" || p["field"] != "phone" || !strings.Contains(p["detail"].(string), "landline") {
		t.Fatalf("SMS to a landline: %d %s", r.status, r.body)
	}
	if p := h.phone(landline); len(p.Messages) != 0 {
		t.Fatalf("the landline got %v", p.Messages)
	}
	v := h.startChannel(map[string]any{"phone": landline, "callback_url": h.url + "/dev/webhooks",
		"workflow": []map[string]any{{"channel": "sms_otp"}, {"channel": "voice_otp"}}})
	wf, _ := v["workflow"].([]any)
	if v["channel"] != "voice_otp" || len(wf) != 1 {
		t.Fatalf("workflow on a landline: %v", v)
	}
	h.waitPhone(landline, "the voice call", func(p phoneView) bool { return len(p.Calls) == 1 })
	for _, premium := range []string{"+449098790000", "+448717654321"} {
		for _, ch := range []string{"sms_otp", "voice_otp"} {
			r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": premium, "channel": ch, "callback_url": h.url + "/dev/webhooks"})
			if p := r.json(t); r.status != http.StatusForbidden || p["code"] != "premium_number" {
				t.Fatalf("%s to %s: %d %s", ch, premium, r.status, r.body)
			}
		}
	}
	// A mobile is untouched.
	h.startChannel(map[string]any{"phone": "+33612345679", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
}

// A code typed as the IVR reads it ("463 008", "463-008") verifies, and
// the successful check does not say no attempts are left.
func TestCheckCodeWithSeparators(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+447911123621"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	p := h.waitPhone(to, "a text", func(p phoneView) bool { return len(p.Messages) == 1 })
	if p.Messages[0].From != "Demo" {
		t.Errorf("the text's sender is %q, want the app's name", p.Messages[0].From)
	}
	code := codeRE.FindString(p.Messages[0].Text)
	id := v["id"].(string)
	// A wrong code with separators counts as a wrong code, not a bad form.
	bad := h.mustStatus(h.check(id, map[string]any{"code": wrong(code)[:3] + " " + wrong(code)[3:]}), http.StatusOK)
	if bad["valid"] != false || bad["attempts_remaining"] != float64(4) {
		t.Fatalf("wrong spaced code: %v", bad)
	}
	ok := h.mustStatus(h.check(id, map[string]any{"code": " " + code[:3] + "-" + code[3:] + " "}), http.StatusOK)
	if ok["valid"] != true || ok["status"] != "verified" || ok["attempts_remaining"] != float64(3) {
		t.Fatalf("dashed code: %v", ok)
	}
	// Separators are not a way to send anything else.
	v = h.startChannel(map[string]any{"phone": "+447911123622", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	r := h.check(v["id"].(string), map[string]any{"code": "12a 456"})
	if p := r.json(t); r.status != http.StatusBadRequest || p["code"] != "invalid_code" {
		t.Fatalf("letters in a code: %d %s", r.status, r.body)
	}
}

// Bad input gets a problem that says what to do: an unknown field is
// unknown_field (not malformed_json), a cursor this API never returned is
// a 400, and a national-format cli explains the international form.
func TestHelpfulErrors(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone_number": "+447911123631", "channel": "sms_otp"})
	if p := r.json(t); r.status != http.StatusBadRequest || p["code"] != "unknown_field" || p["field"] != "phone_number" {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/v1/verifications?cursor=nonsense", "/v1/webhooks/deliveries?cursor=vf_zz", "/v1/audit?cursor=%27%20or%201=1"} {
		r := h.do("GET", path, h.key, nil)
		if p := r.json(t); r.status != http.StatusBadRequest || p["code"] != "invalid_request" || p["field"] != "cursor" {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	h.mustStatus(h.do("GET", "/v1/verifications?cursor=vf_0197273a4c2a7b5c9d8e1f2a3b4c5d6e", h.key, nil), http.StatusOK)

	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"flash_caller_ids": []map[string]string{{"country": "*", "pattern": "+442079XXXXXX"}}}), http.StatusOK)
	v := h.startChannel(map[string]any{"phone": "+447911123632", "channel": "flash_call", "callback_url": h.url + "/dev/webhooks"})
	r = h.check(v["id"].(string), map[string]any{"cli": "020 7946 1234"})
	p := r.json(t)
	if r.status != http.StatusBadRequest || p["code"] != "invalid_code" || p["field"] != "cli" ||
		!strings.Contains(p["detail"].(string), "international format") || !strings.Contains(p["detail"].(string), "takes no country") {
		t.Fatalf("national cli: %d %s", r.status, r.body)
	}
}

// The README's `POST /sim/phones/{n}/answer` without a body answers as a
// person.
func TestSimAnswerWithoutBody(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+447911123641"
	h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "callback_url": h.url + "/dev/webhooks"})
	h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 })
	req, _ := http.NewRequest("POST", h.url+"/sim/phones/"+to+"/answer", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("answer without a body: %d", res.StatusCode)
	}
	h.waitPhone(to, "the prompt", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 1 })
}

// A successful start says, in the IETF draft's RateLimit fields, how much
// of the limits it was counted against is left; the count goes down with
// each start and the last allowed start says 0.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Abuse.ResendInterval = 0
		c.Abuse.RateLimits = []config.RateLimit{{Scope: "phone", Max: 3, Window: time.Hour}, {Scope: "app", Max: 100, Window: time.Minute}}
	})
	const to = "+447911123651"
	for i := range 3 {
		r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
		h.mustStatus(r, http.StatusCreated)
		if got, want := r.header.Get("RateLimit-Remaining"), strconv.Itoa(2-i); got != want || r.header.Get("RateLimit-Limit") != "3" {
			t.Fatalf("start %d: RateLimit-Limit %q Remaining %q, want 3 and %s", i+1, r.header.Get("RateLimit-Limit"), got, want)
		}
		reset, _ := strconv.Atoi(r.header.Get("RateLimit-Reset"))
		if reset < 1 || reset > 3600 {
			t.Fatalf("RateLimit-Reset %q", r.header.Get("RateLimit-Reset"))
		}
		if pol := r.header.Get("RateLimit-Policy"); !strings.Contains(pol, `3;w=3600;comment="phone_per_3600s"`) || !strings.Contains(pol, `100;w=60;comment="app_per_60s"`) {
			t.Fatalf("RateLimit-Policy %q", pol)
		}
	}
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth start: %d", r.status)
	}
}

// Every timestamp the API writes carries milliseconds, also when they are
// zero: the start's view, the webhook envelope, the stream's events.
func TestTimestampsCarryMilliseconds(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911123671", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	h.mustStatus(r, http.StatusCreated)
	stamp := regexp.MustCompile(`"(expires_at|created_at|updated_at|completed_at|timestamp|received_at)":"([^"]*)"`)
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	checkAll := func(what string, body []byte) {
		t.Helper()
		found := stamp.FindAllSubmatch(body, -1)
		if len(found) == 0 {
			t.Fatalf("%s: no timestamps in %s", what, body)
		}
		for _, m := range found {
			if !ms.Match(m[2]) {
				t.Errorf("%s: %s is %s, not UTC with milliseconds", what, m[1], m[2])
			}
		}
	}
	checkAll("start", r.body)
	id := r.json(t)["id"].(string)
	h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusOK)
	checkAll("get", h.do("GET", "/v1/verifications/"+id, h.key, nil).body)
	checkAll("list", h.do("GET", "/v1/verifications", h.key, nil).body)
	checkAll("status", h.do("GET", "/v1/verifications/"+id+"/status?token="+r.json(t)["client_token"].(string), "", nil).body)
	waitFor(t, 5*time.Second, "the canceled webhook", func() bool {
		return strings.Contains(string(h.do("GET", "/dev/webhooks", "", nil).body), "verification.canceled")
	})
	checkAll("webhooks", h.do("GET", "/dev/webhooks", "", nil).body)
	s, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	if evs := s.collect(t, 5*time.Second); len(evs) < 2 {
		t.Fatalf("events %v", evs)
	}
}
