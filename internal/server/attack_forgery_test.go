package server_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/testutil"
)

// Forgery attacks (issue 13, items 1, 5 and 6), each played end to end
// against a real dev server over its HTTP API and the simulator's inbound
// calls, as someone who does not hold the phone would.

// pending returns the victim's pending verification, if any, through the
// list API (what the app's backend sees).
func (h *harness) pendingFor(phone string) map[string]any {
	h.t.Helper()
	l := h.mustStatus(h.do("GET", "/v1/verifications?status=pending&phone="+url.QueryEscape(phone), h.key, nil), http.StatusOK)
	data := l["data"].([]any)
	if len(data) == 0 {
		return nil
	}
	return data[0].(map[string]any)
}

// 13.1: a spoofer who knows the pool (any user of the app learns it by
// starting verifications) calls every pool number with the victim's caller
// ID. The first call to a wrong pool number must end the verification, so
// the spoofer gets one blind guess (1 in N) per verification, not N. The
// calls go to the wrong numbers first: the order an unlucky spoofer tries
// them in, and the one that shows whether a wrong call is forgiven.
func TestAttackBlindSpooferCallsEveryPoolNumber(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const victim = "+447911123901"
	v := h.start(victim, rx.URL(), nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	order := slices.DeleteFunc(slices.Clone(server.DemoPool), func(n string) bool { return n == dial })
	order = append(order, dial)
	for i, n := range order {
		if res := h.call(victim, n); res["verification_id"] == id {
			t.Fatalf("the blind spoofer verified %s with call %d of %d (to %s): %v", id, i+1, len(order), n, res)
		}
	}
	got := h.get(id)
	if got["status"] != "failed" || got["reason"] != "wrong_number" || got["result_code"] != "001" {
		t.Fatalf("after a call to a wrong pool number: status %v reason %v result %v, want failed wrong_number 001", got["status"], got["reason"], got["result_code"])
	}
	waitFor(t, 5*time.Second, "verification.failed webhook", func() bool {
		return slices.Contains(hookTypes(rx, id), "verification.failed")
	})
}

// 13.1: an app may allow a small number of wrong-number calls (a user who
// misdialled), but they count, and the cap ends the verification.
func TestAttackBlindSpooferWithinAppCap(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"max_wrong_number_calls": 2}), http.StatusOK)
	const victim = "+447911123902"
	v := h.start(victim, h.url+"/dev/webhooks", nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	order := slices.DeleteFunc(slices.Clone(server.DemoPool), func(n string) bool { return n == dial })
	order = append(order, dial)
	for i, n := range order {
		if res := h.call(victim, n); res["verification_id"] == id {
			t.Fatalf("the spoofer verified with call %d of %d", i+1, len(order))
		}
	}
	if got := h.get(id); got["status"] != "failed" || got["reason"] != "wrong_number" {
		t.Fatalf("after the spoofer's calls: %v %v", got["status"], got["reason"])
	}
	r := h.do("PATCH", "/v1/app", h.key, map[string]any{"max_wrong_number_calls": 99})
	if r.status != http.StatusBadRequest || r.json(t)["field"] != "max_wrong_number_calls" {
		t.Fatalf("a cap of 99: %d %s", r.status, r.body)
	}
}

// 13.1: calls from one caller ID across the pool are rate-limited in the
// store: the spoofer who keeps starting verifications for the victim (an
// app that turned its per-number limits off) and calling is refused before
// answer once over the limit, and the refused call verifies nothing even
// when it reaches the right number.
func TestAttackSpooferCallFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"rate_limits": []map[string]any{{"scope": "phone", "max": 0, "window_s": 3600}, {"scope": "phone", "max": 0, "window_s": 86400}},
	}), http.StatusOK)
	const victim = "+447911123903"
	const limit = 10 // abuse.calls_per_caller.s default (config.DefaultAbuse)
	for i := range limit + 1 {
		v := h.pendingFor(victim)
		if v == nil {
			v = h.start(victim, h.url+"/dev/webhooks", nil)
		}
		dial := v["dial_number"].(string)
		to := dial
		if i < limit { // a wrong guess
			to = server.DemoPool[0]
			if to == dial {
				to = server.DemoPool[1]
			}
		}
		res := h.call(victim, to)
		if res["verification_id"] != nil {
			t.Fatalf("call %d (limit %d per caller) verified %v", i+1, limit, res["verification_id"])
		}
		if res["disposition"] != "rejected" {
			t.Fatalf("call %d was not rejected before answer: %v", i+1, res)
		}
	}
	m := h.do("GET", "/metrics", "", nil)
	if want := `ringgate_inbound_calls_total{outcome="rate_limited"} 1`; !strings.Contains(string(m.body), want) {
		t.Fatalf("metrics lack %s:\n%s", want, grepLines(string(m.body), "inbound_calls"))
	}
}

// 13.1: rotation never shows a phone the number its previous attempt
// showed, even once every number of a small pool is in the cool-down.
func TestAttackRotationReshowsPreviousNumber(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	for _, n := range server.DemoPool[2:] {
		if err := h.srv.Operator().RemoveNumber(t.Context(), server.DemoAppID, n); err != nil {
			t.Fatal(err)
		}
	}
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"rate_limits": []map[string]any{{"scope": "phone", "max": 0, "window_s": 3600}, {"scope": "phone", "max": 0, "window_s": 86400}},
	}), http.StatusOK)
	const user = "+447911123904"
	prev, again := "", 0
	for range 20 {
		v := h.start(user, h.url+"/dev/webhooks", nil)
		if d := v["dial_number"].(string); d == prev {
			again++
		} else {
			prev = d
		}
		h.mustStatus(h.do("POST", "/v1/verifications/"+v["id"].(string)+"/cancel", h.key, nil), http.StatusOK)
	}
	if again > 0 {
		t.Fatalf("a pool of 2 showed the previous attempt's number again %d times in 20", again)
	}
}

// 13.5: a flash-call guesser. The caller ID's random digits are the
// secret; at default settings a {"code"} check must carry enough of them
// that guessing within the attempts allowed passes with probability at
// most 1 in 100,000. The code of the old default (the last 4 digits of the
// caller ID) must not verify.
func TestAttackFlashCallGuessing(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	// A range of 8 random digits, as an app with a real block would have.
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"flash_caller_ids": []map[string]any{{"country": "*", "pattern": "+44207XXXXXXX"}},
	}), http.StatusOK)
	const victim = "+447911123905"
	v := h.startChannel(map[string]any{"phone": victim, "channel": "flash_call", "callback_url": h.url + "/dev/webhooks"})
	id := v["id"].(string)
	p := h.waitPhone(victim, "the flash call", func(p phoneView) bool { return len(p.Calls) == 1 })
	cli := p.Calls[0].From
	// Someone who knows only the last 4 digits (a 1 in 10,000 guess) must
	// not pass.
	r := h.check(id, map[string]any{"code": cli[len(cli)-4:]})
	if r.status == http.StatusOK && r.json(t)["valid"] == true {
		t.Fatalf("a check with only the last 4 digits of the caller ID verified %s", id)
	}
	n, ok := v["code_length"].(float64)
	if !ok {
		t.Fatalf("start answer has no code_length: %v", v)
	}
	// The guesser: wrong codes of the right length until refused (bounded).
	guess := func(i int) string { return fmt.Sprintf("%0*d", int(n), i) }
	attempts := 0
	for i := range 20 {
		g := guess(i)
		if g == cli[len(cli)-int(n):] {
			continue
		}
		r := h.check(id, map[string]any{"code": g})
		if r.status != http.StatusOK {
			break
		}
		attempts++
		if r.json(t)["valid"] == true {
			t.Fatalf("guess %s verified", g)
		}
	}
	if pr := float64(attempts) / math.Pow(10, n); pr > 1e-5 {
		t.Fatalf("a guesser gets %d attempts at a %v-digit code: %.2g per verification, above 1 in 100,000", attempts, n, pr)
	}
	if got := h.get(id); got["status"] == "verified" {
		t.Fatalf("the guesser verified %s", id)
	}
}

// 13.6: a second start for the victim's phone (another session, other
// metadata and address) must not be handed the victim's verification or
// its client token; it supersedes it, and the rider can neither read nor
// check the victim's verification.
func TestAttackRiderGetsVictimsToken(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const victim = "+447911123906"
	a := h.start(victim, rx.URL(), map[string]any{"metadata": map[string]string{"user": "victim"}, "client_ip": "203.0.113.10"})
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{
		"phone": victim, "channel": "missed_call", "callback_url": rx.URL(),
		"metadata": map[string]string{"user": "rider"}, "client_ip": "198.51.100.66",
	})
	b := r.json(t)
	if b["id"] == a["id"] || b["client_token"] == a["client_token"] {
		t.Fatalf("the rider's start (%d) got the victim's verification %v and its token", r.status, a["id"])
	}
	if r.status != http.StatusCreated {
		t.Fatalf("the superseding start: %d %s", r.status, r.body)
	}
	aid := a["id"].(string)
	// The rider's token neither reads nor streams the victim's verification.
	h.mustStatus(h.do("GET", "/v1/verifications/"+aid+"/status?token="+b["client_token"].(string), "", nil), http.StatusUnauthorized)
	// The victim's is over: canceled, superseded, and the app is told.
	got := h.get(aid)
	if got["status"] != "canceled" || got["reason"] != "superseded" || got["result_code"] != "001" {
		t.Fatalf("the superseded verification: %v %v %v", got["status"], got["reason"], got["result_code"])
	}
	waitFor(t, 5*time.Second, "verification.canceled webhook", func() bool {
		return slices.Contains(hookTypes(rx, aid), "verification.canceled")
	})
	// Only one verification is pending for the phone: the new one.
	if p := h.pendingFor(victim); p == nil || p["id"] != b["id"] {
		t.Fatalf("pending for the phone: %v, want %v", p, b["id"])
	}
	// A call for the old dial number verifies nothing now.
	if res := h.call(victim, a["dial_number"].(string)); res["verification_id"] == aid {
		t.Fatal("the superseded verification was verified")
	}
}

// 13.6: asking for another channel ("send a text instead") starts on that
// channel, and the text is sent; it does not return the pending flash call.
func TestAttackRestartIgnoresChannel(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = time.Second })
	const user = "+447911123907"
	a := h.startChannel(map[string]any{"phone": user, "channel": "missed_call"})
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": user, "channel": "sms_otp"})
	b := r.json(t)
	if b["id"] == a["id"] || b["channel"] != "sms_otp" {
		t.Fatalf("asked for sms_otp, got %v on %v (%d)", b["id"], b["channel"], r.status)
	}
	code := h.textCode(user, 1)
	ok := h.mustStatus(h.check(b["id"].(string), map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true {
		t.Fatalf("the text's code: %v", ok)
	}
}

// 13.6: start and cancel in a loop is a resend: it cannot send more texts
// than the resend pacing allows. The early start is 429 problem JSON naming
// resend_interval with Retry-After; an Idempotency-Key replay still returns
// the original.
func TestAttackStartCancelLoopSendsTexts(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = time.Hour })
	const victim = "+447911123908"
	body := map[string]any{"phone": victim, "channel": "sms_otp"}
	first := h.mustStatus(h.do("POST", "/v1/verifications", h.key, body, "Idempotency-Key", "k1"), http.StatusCreated)
	h.waitPhone(victim, "the first text", func(p phoneView) bool { return len(p.Messages) == 1 })
	h.mustStatus(h.do("POST", "/v1/verifications/"+first["id"].(string)+"/cancel", h.key, nil), http.StatusOK)
	sent := 1
	for i := range 4 {
		r := h.do("POST", "/v1/verifications", h.key, body)
		switch r.status {
		case http.StatusCreated:
			sent++
			h.waitPhone(victim, "text "+strconv.Itoa(sent), func(p phoneView) bool { return len(p.Messages) >= sent })
			h.mustStatus(h.do("POST", "/v1/verifications/"+r.json(t)["id"].(string)+"/cancel", h.key, nil), http.StatusOK)
		case http.StatusTooManyRequests:
			wantLimited(t, r, "rate_limited", "resend_interval")
		default:
			t.Fatalf("start %d: %d %s", i+2, r.status, r.body)
		}
	}
	if n := len(h.phone(victim).Messages); n > 1 || sent > 1 {
		t.Fatalf("start+cancel sent %d texts (%d starts accepted) within a one-hour resend interval", n, sent)
	}
	again := h.mustStatus(h.do("POST", "/v1/verifications", h.key, body, "Idempotency-Key", "k1"), http.StatusOK)
	if again["id"] != first["id"] {
		t.Fatalf("an Idempotency-Key replay returned %v, want %v", again["id"], first["id"])
	}
}

// Two nodes on one PostgreSQL schema starting for the same phone at once
// end with exactly one pending verification; each start gets its own.
func TestParallelStartsAcrossNodesPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	// The nodes of one deployment share the server secret (it seals the
	// webhook secrets in the shared database).
	pg := func(c *config.Config) { c.Database.URL, c.Secret = dbURL, strings.Repeat("ab", 32) }
	nodes := []*harness{startServer(t, t.TempDir(), pg), startServer(t, t.TempDir(), pg)}
	nodes[0].mustStatus(nodes[0].do("PATCH", "/v1/app", nodes[0].key, map[string]any{
		"rate_limits": []map[string]any{{"scope": "phone", "max": 0, "window_s": 3600}, {"scope": "phone", "max": 0, "window_s": 86400}},
	}), http.StatusOK)
	const phone = "+447911123909"
	var mu sync.Mutex
	ids := map[string]bool{}
	for round := range 5 {
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				r := n.do("POST", "/v1/verifications", n.key, map[string]any{"phone": phone, "channel": "missed_call"})
				if r.status != http.StatusCreated {
					t.Errorf("round %d: %d %s", round, r.status, r.body)
					return
				}
				mu.Lock()
				ids[r.json(t)["id"].(string)] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		l := nodes[0].mustStatus(nodes[0].do("GET", "/v1/verifications?status=pending&phone="+url.QueryEscape(phone), nodes[0].key, nil), http.StatusOK)
		if n := len(l["data"].([]any)); n != 1 {
			t.Fatalf("round %d: %d pending for the phone, want 1", round, n)
		}
	}
	if len(ids) != 2*5 {
		t.Fatalf("10 starts made %d verifications", len(ids))
	}
}

// A pool smaller than the starts a phone may make within the dial
// cool-down is a warning at start: the demo pool of 5 under a per-phone
// limit of 8 an hour; under the default 5 an hour it is not.
func TestSmallPoolWarnsAtStart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		perHour int
		warn    bool
	}{{8, true}, {5, false}} {
		var logs testutil.SyncBuffer
		cfg := config.Defaults(config.ModeDev)
		cfg.HTTP, cfg.DataDir = "127.0.0.1:0", t.TempDir()
		cfg.Abuse.RateLimits = []config.RateLimit{{Scope: "phone", Max: c.perHour, Window: time.Hour}}
		env := func(k string) (string, bool) { return testKey, k == server.EnvDevAPIKey }
		srv, err := server.New(t.Context(), cfg, server.Options{Env: env, Logger: server.NewLogger(cfg.Log, &logs)})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		_ = srv.Close()
		got := strings.Contains(logs.String(), "missed-call pool too small")
		if got != c.warn {
			t.Errorf("%d starts an hour per phone, pool of %d: warned %v, want %v\n%s", c.perHour, len(server.DemoPool), got, c.warn, logs.String())
		}
	}
}
