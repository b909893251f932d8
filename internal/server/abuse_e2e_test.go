package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
)

// The abuse controls (docs/abuse.md), driven over HTTP against a real
// server on SQLite (and PostgreSQL where the store's concurrency matters).

// startAndCancel starts a missed call for phone and cancels it, so the
// next start for the phone makes a new verification.
func (h *harness) startAndCancel(phone string) response {
	h.t.Helper()
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": phone, "channel": "missed_call"})
	if r.status == http.StatusCreated {
		id := r.json(h.t)["id"].(string)
		h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusOK)
	}
	return r
}

// wantLimited checks a 429 problem naming limit, with Retry-After.
func wantLimited(t *testing.T, r response, code, limit string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", r.status, r.body)
	}
	p := r.json(t)
	if p["code"] != code || (limit != "" && p["limit"] != limit) {
		t.Fatalf("problem %v, want code %s limit %s", p, code, limit)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || float64(ra) != p["retry_after_s"] {
		t.Fatalf("Retry-After %q, retry_after_s %v", r.header.Get("Retry-After"), p["retry_after_s"])
	}
}

// The default per-number limit (5 an hour) refuses the sixth start for one
// number, never another number's, and a restart keeps the count.
func TestRateLimitPerNumberSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startServer(t, dir)
	const victim = "+14155550171"
	for i := range 5 {
		if r := h.startAndCancel(victim); r.status != http.StatusCreated {
			t.Fatalf("start %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := h.startAndCancel(victim)
	wantLimited(t, r, "rate_limited", "phone_per_3600s")
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra > 3600 {
		t.Fatalf("Retry-After %d is beyond the hour window", ra)
	}
	// The global-limit bug: other numbers must still work.
	for i := range 3 {
		if r := h.startAndCancel(fmt.Sprintf("+1415555018%d", i)); r.status != http.StatusCreated {
			t.Fatalf("another number after the victim's limit: %d %s", r.status, r.body)
		}
	}
	// A refused start counted nothing, and refusals go on after a restart.
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := startServer(t, dir)
	wantLimited(t, h2.startAndCancel(victim), "rate_limited", "phone_per_3600s")
	if r := h2.startAndCancel("+14155550190"); r.status != http.StatusCreated {
		t.Fatalf("a fresh number after restart: %d %s", r.status, r.body)
	}
	m := h2.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.body), `ringgate_abuse_refused_total{code="rate_limited",scope="phone"} 1`) {
		t.Fatalf("metrics lack the refusal:\n%s", grepLines(string(m.body), "ringgate_abuse"))
	}
}

// An app's own limit replaces the server's; the per-IP limit counts the
// client_ip a backend passes, never the address of the backend itself
// (nor the X-Forwarded-For its proxy adds): a caller with an API key is the
// integrator's server, not an end user.
func TestRateLimitPerIPAndAppOverride(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.TrustedProxies = []string{"127.0.0.0/8"} })
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"rate_limits": []map[string]any{{"scope": "ip", "max": 2, "window_s": 600}},
	}), http.StatusOK)
	start := func(phone string, body map[string]any, hdr ...string) response {
		b := map[string]any{"phone": phone, "channel": "missed_call"}
		for k, v := range body {
			b[k] = v
		}
		return h.do("POST", "/v1/verifications", h.key, b, hdr...)
	}
	// Two users behind the backend, told apart by client_ip.
	for i := range 2 {
		h.mustStatus(start(fmt.Sprintf("+1415555020%d", i), map[string]any{"client_ip": "203.0.113.7"}), http.StatusCreated)
	}
	wantLimited(t, start("+14155550209", map[string]any{"client_ip": "203.0.113.7"}), "rate_limited", "ip_per_600s")
	h.mustStatus(start("+14155550210", map[string]any{"client_ip": "203.0.113.8"}), http.StatusCreated)
	// Through the (trusted, loopback) proxy without client_ip: the address
	// is the backend's, which the per-IP limit does not count.
	for i := range 3 {
		h.mustStatus(start(fmt.Sprintf("+1415555022%d", i), nil, "X-Forwarded-For", "198.51.100.4"), http.StatusCreated)
	}
	r := start("+14155550230", map[string]any{"client_ip": "not an address"})
	if r.status != http.StatusBadRequest || r.json(t)["field"] != "client_ip" {
		t.Fatalf("bad client_ip: %d %s", r.status, r.body)
	}
}

// Geo permissions per channel and the deny list refuse with 403 and say why.
func TestGeoPermissionsAndDenyList(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.DenyPrefixes = []string{"+1900"} })
	app := h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"allowed_countries": map[string]any{"sms_otp": []string{"fr"}},
		"deny_prefixes":     []string{"+4479111234"},
	}), http.StatusOK)
	if s := app["settings"].(map[string]any); fmt.Sprint(s["allowed_countries"]) != "map[sms_otp:[FR]]" {
		t.Fatalf("settings after PATCH: %v", s)
	}
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911123001", "channel": "sms_otp"})
	if r.status != http.StatusForbidden || r.json(t)["code"] != "country_not_allowed" {
		t.Fatalf("sms_otp to GB: %d %s", r.status, r.body)
	}
	// A workflow is refused whole if any step may not reach the country.
	r = h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911123001",
		"workflow": []map[string]any{{"channel": "missed_call"}, {"channel": "sms_otp"}}})
	if r.status != http.StatusForbidden || r.json(t)["code"] != "country_not_allowed" {
		t.Fatalf("workflow through sms_otp to GB: %d %s", r.status, r.body)
	}
	h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911123001", "channel": "missed_call"}), http.StatusCreated)
	for _, num := range []string{"+447911123499", "+19005550100"} { // the app's list, the server's
		r = h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": num, "channel": "missed_call"})
		if r.status != http.StatusForbidden || r.json(t)["code"] != "prefix_denied" {
			t.Fatalf("denied prefix %s: %d %s", num, r.status, r.body)
		}
	}
	r = h.do("PATCH", "/v1/app", h.key, map[string]any{"allowed_countries": map[string]any{"fax": []string{"GB"}}})
	if r.status != http.StatusBadRequest || r.json(t)["field"] != "allowed_countries" {
		t.Fatalf("bad geo settings: %d %s", r.status, r.body)
	}
}

// A burst of texts to one prefix that nobody verifies gets the prefix
// blocked (event, webhook, metric); other prefixes go on; an unblock lifts it.
func TestPumpingGuardBlocksPrefix(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Abuse.Pumping = config.Pumping{MinStarts: 6, MinConversion: 0.5, Window: time.Hour, BlockFor: time.Hour}
	})
	rx := newReceiver(t, testSecret)
	start := func(phone string) response {
		return h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": phone, "channel": "sms_otp", "callback_url": rx.URL()})
	}
	// A real user on the same prefix verifies, which alone keeps it open.
	good := h.mustStatus(start("+447911000001"), http.StatusCreated)
	h.mustStatus(h.check(good["id"].(string), map[string]any{"code": h.textCode("+447911000001", 1)}), http.StatusOK)
	var last map[string]any
	for i := 2; i <= 6; i++ {
		last = h.mustStatus(start(fmt.Sprintf("+4479110000%02d", i)), http.StatusCreated)
	}
	// 6 starts, 1 verified (17% < 50%): the sixth start blocked the prefix.
	wantLimited(t, start("+447911000099"), "prefix_blocked", "prefix_blocked")
	h.mustStatus(start("+14155550301"), http.StatusCreated) // another prefix
	h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911000098", "channel": "missed_call"}), http.StatusCreated)

	waitFor(t, 15*time.Second, "fraud.prefix_blocked webhook", func() bool {
		for _, hk := range rx.of(last["id"].(string)) {
			if hk.Type == "fraud.prefix_blocked" {
				f := hk.Data["fraud"].(map[string]any)
				return f["prefix"] == "+44791" && f["started"] == float64(6) && f["verified"] == float64(1)
			}
		}
		return false
	})
	list := h.mustStatus(h.do("GET", "/v1/fraud/blocked-prefixes", h.key, nil), http.StatusOK)
	if d := list["data"].([]any); len(d) != 1 || d[0].(map[string]any)["prefix"] != "+44791" {
		t.Fatalf("blocked prefixes: %v", list)
	}
	m := h.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.body), "ringgate_fraud_prefix_blocked_total 1") {
		t.Fatalf("metrics:\n%s", grepLines(string(m.body), "fraud"))
	}
	h.mustStatus(h.do("POST", "/v1/fraud/blocked-prefixes/%2B44791/unblock", h.key, nil), http.StatusNoContent)
	if r := h.do("POST", "/v1/fraud/blocked-prefixes/%2B44791/unblock", h.key, nil); r.status != http.StatusNotFound {
		t.Fatalf("second unblock: %d", r.status)
	}
	// Unblocked, but the counts stay: the next start, still unverified,
	// blocks it again.
	h.mustStatus(start("+447911000007"), http.StatusCreated)
	wantLimited(t, start("+447911000008"), "prefix_blocked", "")
}

// riskHook is a business's risk endpoint: it checks the signature as a
// receiver would, and denies the numbers in deny; while slow, it answers
// after the server's timeout.
type riskHook struct {
	rx   *receiver
	srv  *httptest.Server
	mu   sync.Mutex
	seen []map[string]any
	slow bool
}

func newRiskHook(t *testing.T, deny string) *riskHook {
	k := &riskHook{rx: newReceiver(t, testSecret)}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := k.rx.check(hook{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Signature: r.Header.Get("webhook-signature"), Raw: body}); err != nil {
			t.Errorf("risk hook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(body, &env)
		k.mu.Lock()
		k.seen = append(k.seen, env.Data)
		slow := k.slow
		k.mu.Unlock()
		if slow {
			time.Sleep(5 * time.Second) // beyond the server's 2 s timeout
		}
		if env.Data["phone"] == deny {
			fmt.Fprint(w, `{"decision":"deny","reason":"velocity"}`)
			return
		}
		fmt.Fprint(w, `{"decision":"allow"}`)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

// The risk hook is asked (signed) before a start and obeyed; when it is too
// slow the app's fail-open or fail-closed choice decides.
func TestRiskHook(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.RiskTimeout = 2 * time.Second })
	k := newRiskHook(t, "+14155550401")
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"risk_hook": map[string]any{"url": k.srv.URL}}), http.StatusOK)
	start := func(phone string) response {
		return h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": phone, "channel": "missed_call", "client_ip": "203.0.113.9", "metadata": map[string]string{"user": "u1"}})
	}
	r := start("+14155550401")
	if r.status != http.StatusForbidden || r.json(t)["code"] != "risk_denied" || !strings.Contains(r.json(t)["detail"].(string), "velocity") {
		t.Fatalf("denied start: %d %s", r.status, r.body)
	}
	h.mustStatus(start("+14155550402"), http.StatusCreated)
	k.mu.Lock()
	got := k.seen[len(k.seen)-1]
	k.mu.Unlock()
	if got["phone"] != "+14155550402" || got["country"] != "US" || got["channel"] != "missed_call" || got["client_ip"] != "203.0.113.9" || fmt.Sprint(got["metadata"]) != "map[user:u1]" {
		t.Fatalf("the hook was told %v", got)
	}
	k.mu.Lock()
	k.slow = true
	k.mu.Unlock()
	h.mustStatus(start("+14155550403"), http.StatusCreated) // fail-open by default
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"risk_hook": map[string]any{"url": k.srv.URL, "fail_closed": true}}), http.StatusOK)
	if r := start("+14155550404"); r.status != http.StatusForbidden || r.json(t)["code"] != "risk_denied" {
		t.Fatalf("fail-closed start with a slow hook: %d %s", r.status, r.body)
	}
	m := h.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.body), `ringgate_risk_hook_total{outcome="error"} 2`) || !strings.Contains(string(m.body), `ringgate_risk_hook_total{outcome="denied"} 1`) {
		t.Fatalf("metrics:\n%s", grepLines(string(m.body), "risk"))
	}
}

// POST …/next is a resend: not sooner than the interval after the last
// text or call, and not more than max_resends times.
func TestResendLimits(t *testing.T) {
	t.Parallel()
	workflow := []map[string]any{{"channel": "sms_otp"}, {"channel": "voice_otp"}, {"channel": "answer_call"}}
	// An hour's interval: the resend is refused, and told to wait for the
	// rest of it (however slow this machine is).
	slow := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = time.Hour })
	v := slow.startChannel(map[string]any{"phone": "+447911123501", "workflow": workflow})
	r := slow.do("POST", "/v1/verifications/"+v["id"].(string)+"/next", slow.key, nil)
	wantLimited(t, r, "rate_limited", "resend_interval")
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 3000 || ra > 3600 {
		t.Fatalf("Retry-After %d, want the rest of the hour", ra)
	}
	// A one-second interval and one resend: after the wait it goes, and the
	// second is refused for the cap.
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval, c.Abuse.MaxResends = time.Second, 1 })
	id := h.startChannel(map[string]any{"phone": "+447911123502", "workflow": workflow})["id"].(string)
	time.Sleep(1100 * time.Millisecond)
	n := h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
	if n["channel"] != "voice_otp" {
		t.Fatalf("after the interval: %v", n)
	}
	time.Sleep(1100 * time.Millisecond)
	wantLimited(t, h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), "rate_limited", "max_resends")
}

// Codes: parallel wrong checks on PostgreSQL count exactly MaxAttempts (the
// SQLite run is TestParallelWrongChecks), and a used code is burned.
func TestParallelWrongChecksPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Database.URL = dbURL })
	const to = "+447911123601"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp"})
	id := v["id"].(string)
	bad := wrong(h.textCode(to, 1))
	statuses := h.parallelChecks(id, bad, 50)
	got := h.get(id)
	if statuses[http.StatusOK] != 5 || statuses[http.StatusConflict] != 45 || got["attempts"] != float64(5) || got["status"] != "failed" {
		t.Fatalf("after 50 parallel wrong checks: statuses %v, verification %v", statuses, got)
	}
}

func TestCodeIsBurnedOnSuccess(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+447911123602"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp"})
	id := v["id"].(string)
	code := h.textCode(to, 1)
	ok := h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true || ok["status"] != "verified" {
		t.Fatalf("first check: %v", ok)
	}
	events := func() int {
		p := h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+id, h.key, nil), http.StatusOK)
		return len(p["data"].([]any))
	}
	before := events()
	r := h.check(id, map[string]any{"code": code})
	if r.status != http.StatusConflict || r.json(t)["code"] != "not_pending" {
		t.Fatalf("the same code again: %d %s", r.status, r.body)
	}
	if after := events(); after != before {
		t.Fatalf("a second check queued webhooks: %d, then %d", before, after)
	}
	if got := h.get(id); got["attempts"] != float64(1) || got["status"] != "verified" {
		t.Fatalf("after a replayed code: %v", got)
	}
}

// Missed calls: a phone is not shown the pool number of its last attempt
// again (a late or replayed call from that attempt cannot verify the new
// one), and callers whose calls match nothing are counted.
func TestDialNumberRotationAndUnmatchedCallers(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const user = "+14155550501"
	prev := ""
	for i := range 4 {
		v := h.start(user, h.url+"/dev/webhooks", nil)
		dial := v["dial_number"].(string)
		if dial == prev {
			t.Fatalf("attempt %d shows %s again", i+1, dial)
		}
		prev = dial
		h.mustStatus(h.do("POST", "/v1/verifications/"+v["id"].(string)+"/cancel", h.key, nil), http.StatusOK)
	}
	// A spoofing run: one caller ID ringing pool numbers nobody waits on.
	for range 3 {
		if res := h.call("+447911123666", "+12025550100"); res["verification_id"] != nil {
			t.Fatalf("an unmatched call verified: %v", res)
		}
	}
	stats, err := h.srv.Operator().UnmatchedCallers(t.Context(), time.Now().Add(-time.Hour), 10)
	if err != nil || len(stats) != 1 || stats[0].From != "+447911123666" || stats[0].Calls != 3 {
		t.Fatalf("unmatched callers: %+v %v", stats, err)
	}
	m := h.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.body), `ringgate_inbound_calls_total{outcome="no_match"} 3`) {
		t.Fatalf("metrics:\n%s", grepLines(string(m.body), "inbound_calls"))
	}
}

// Two nodes on one PostgreSQL schema share the counters: a number's limit
// holds whichever node each start reaches, and parallel starts across both
// nodes never exceed an app limit.
func TestRateLimitsAcrossNodesPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	// Every node of one deployment has the same server secret: it also
	// seals the apps' webhook secrets in the shared database.
	pg := func(c *config.Config) { c.Database.URL, c.Secret = dbURL, strings.Repeat("ab", 32) }
	a := startServer(t, t.TempDir(), pg)
	b := startServer(t, t.TempDir(), pg)
	const victim = "+14155550601"
	for i := range 5 {
		n := []*harness{a, b}[i%2]
		if r := n.startAndCancel(victim); r.status != http.StatusCreated {
			t.Fatalf("start %d on node %d: %d %s", i+1, i%2, r.status, r.body)
		}
	}
	wantLimited(t, a.startAndCancel(victim), "rate_limited", "phone_per_3600s")
	wantLimited(t, b.startAndCancel(victim), "rate_limited", "phone_per_3600s")

	a.mustStatus(a.do("PATCH", "/v1/app", a.key, map[string]any{
		"rate_limits": []map[string]any{{"scope": "app", "max": 10, "window_s": 3600}},
	}), http.StatusOK)
	// The app has made 5 starts this hour; 20 more at once leave room for 5.
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			n := []*harness{a, b}[i%2]
			r := n.do("POST", "/v1/verifications", n.key, map[string]any{"phone": fmt.Sprintf("+141555507%02d", i), "channel": "missed_call"})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusCreated] != 5 || statuses[http.StatusTooManyRequests] != 15 {
		t.Fatalf("20 parallel starts on two nodes with room for 5: %v", statuses)
	}
}
