package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/testutil"
)

// Issue 19 over the HTTP API of a running dev server: the app lifecycle,
// webhook secret rotation with an overlap, erasure and retention.

// verifyNow starts a missed call for phone with callback and makes the
// call, so that it ends verified; it returns the verification id.
func (h *harness) verifyNow(phone, callback string) string {
	h.t.Helper()
	v := h.start(phone, callback, nil)
	if res := h.call(phone, v["dial_number"].(string)); res["verification_id"] != v["id"] {
		h.t.Fatalf("call did not verify: %v", res)
	}
	return v["id"].(string)
}

// hooksFrom is how many webhooks r accepted (its own hand-written
// signature check) and refused.
func (r *receiver) counts() (ok, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hooks), len(r.bad)
}

// During a rotation's overlap every webhook is signed with both secrets,
// so a receiver still on the old one and one already on the new one both
// accept it; after an overlap of 0 only the new secret signs.
func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	onOld := newReceiver(t, testSecret)

	rot := h.mustStatus(h.do("POST", "/v1/app/webhook-secret", h.key, map[string]any{"overlap_seconds": 3600}), http.StatusOK)
	second, _ := rot["webhook_secret"].(string)
	if !strings.HasPrefix(second, "whsec_") || second == testSecret || rot["previous_secret_valid_until"] == nil {
		t.Fatalf("rotation answer: %v", rot)
	}
	onNew := newReceiver(t, second)
	h.verifyNow("+442079460031", onOld.URL())
	h.verifyNow("+442079460032", onNew.URL())
	waitFor(t, 10*time.Second, "webhooks on both receivers", func() bool {
		a, _ := onOld.counts()
		b, _ := onNew.counts()
		return a >= 1 && b >= 1
	})
	if _, bad := onOld.counts(); bad != 0 {
		t.Errorf("a receiver on the old secret refused %d webhooks during the overlap", bad)
	}
	if _, bad := onNew.counts(); bad != 0 {
		t.Errorf("a receiver on the new secret refused %d webhooks", bad)
	}
	onOld.mu.Lock()
	if sig := onOld.hooks[0].Signature; len(strings.Fields(sig)) != 2 {
		t.Errorf("webhook-signature during the overlap = %q, want two signatures", sig)
	}
	onOld.mu.Unlock()

	// A rotation without overlap: the first two secrets stop signing.
	third := h.mustStatus(h.do("POST", "/v1/app/webhook-secret", h.key, map[string]any{"overlap_seconds": 0}), http.StatusOK)["webhook_secret"].(string)
	stale, fresh := newReceiver(t, second), newReceiver(t, third)
	stale.setFailing(false)
	h.verifyNow("+442079460033", stale.URL())
	h.verifyNow("+442079460034", fresh.URL())
	waitFor(t, 10*time.Second, "the fresh receiver's webhooks, the stale one's refusals", func() bool {
		ok, _ := fresh.counts()
		_, bad := stale.counts()
		return ok >= 1 && bad >= 1
	})
	if ok, _ := stale.counts(); ok != 0 {
		t.Errorf("a receiver on a secret rotated out without overlap accepted %d webhooks", ok)
	}
	// The rotation is audited, and a bad overlap is a problem.
	if a := h.mustStatus(h.do("GET", "/v1/audit?action=app.webhook_secret_rotated", h.key, nil), http.StatusOK); len(a["data"].([]any)) != 2 {
		t.Errorf("audit entries: %v", a)
	}
	h.mustStatus(h.do("POST", "/v1/app/webhook-secret", h.key, map[string]any{"overlap_seconds": -1}), http.StatusBadRequest)
}

// PATCH /v1/app changes the name and removes the default callback; the app
// then polls: a start without callback_url is refused only for missed_call.
func TestAppUpdateAndPolling(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	app := h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"name": "Renamed", "default_callback_url": ""}), http.StatusOK)
	if app["name"] != "Renamed" || app["default_callback_url"] != "" {
		t.Fatalf("PATCH /v1/app: %v", app)
	}
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"name": ""}), http.StatusBadRequest)
	// Settings and a bad callback in one request: refused whole, nothing
	// of it saved.
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"sms_sender": "Partial", "default_callback_url": "http://169.254.169.254/latest",
	}), http.StatusBadRequest)
	if got := h.mustStatus(h.do("GET", "/v1/app", h.key, nil), http.StatusOK); got["settings"].(map[string]any)["sms_sender"] == "Partial" {
		t.Fatalf("a refused PATCH /v1/app saved its settings: %v", got["settings"])
	}
	p := h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+442079460041", "channel": "missed_call"}), http.StatusBadRequest)
	if p["code"] != "callback_required" {
		t.Fatalf("missed_call without a callback: %v", p)
	}
	v := h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+442079460042", "channel": "sms_otp"}), http.StatusCreated)
	got := h.mustStatus(h.do("GET", "/v1/verifications/"+v["id"].(string), h.key, nil), http.StatusOK)
	if got["status"] != "pending" {
		t.Fatalf("a polled sms_otp verification: %v", got)
	}
}

// DELETE /v1/phones/{phone} erases every verification of the number in
// the caller's app, pending ones too, and nothing else; it is audited with
// the number masked, and needs an admin key.
func TestErasePhone(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const who = "+442079460051"
	done := h.verifyNow(who, rx.URL())
	waitFor(t, 10*time.Second, "the webhook of the verified one", func() bool { ok, _ := rx.counts(); return ok >= 1 })
	pending := h.start(who, rx.URL(), map[string]any{"channel": "sms_otp"})["id"].(string)
	other := h.start("+442079460052", rx.URL(), nil)["id"].(string)

	verifyKey := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "verify"}), http.StatusCreated)["key"].(string)
	h.mustStatus(h.do("DELETE", "/v1/phones/"+url.PathEscape(who), verifyKey, nil), http.StatusForbidden)
	h.mustStatus(h.do("DELETE", "/v1/phones/not-a-number", h.key, nil), http.StatusBadRequest)

	res := h.mustStatus(h.do("DELETE", "/v1/phones/"+url.PathEscape(who), h.key, nil), http.StatusOK)
	del := res["deleted"].(map[string]any)
	if del["verifications"] != float64(2) || del["events"].(float64) < 3 || del["deliveries"].(float64) < 2 || del["calls"] != float64(1) {
		t.Fatalf("erase answer: %v", res)
	}
	if strings.Contains(string(h.do("GET", "/v1/audit?action=phone.erased", h.key, nil).body), "460051") {
		t.Error("the audit log names the erased number in full")
	}
	for _, id := range []string{done, pending} {
		h.mustStatus(h.do("GET", "/v1/verifications/"+id, h.key, nil), http.StatusNotFound)
	}
	h.mustStatus(h.do("GET", "/v1/verifications/"+other, h.key, nil), http.StatusOK)
	if list := h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+done, h.key, nil), http.StatusOK); len(list["data"].([]any)) != 0 {
		t.Errorf("deliveries of the erased verification: %v", list)
	}
	a := h.mustStatus(h.do("GET", "/v1/audit?action=phone.erased", h.key, nil), http.StatusOK)["data"].([]any)
	if len(a) != 1 || a[0].(map[string]any)["target"] != "+44 ••••••••51" {
		t.Errorf("audit: %v", a)
	}
	// The number can start again: its pending verification is gone.
	h.start(who, rx.URL(), nil)
}

// The retention loop deletes ended verifications after the period, and
// keeps what is in flight: a pending verification, and an ended one whose
// webhook is not yet delivered, until it is.
func TestRetentionKeepsInFlight(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Retention = config.Retention{After: 500 * time.Millisecond, Interval: 50 * time.Millisecond, Batch: 2}
	})
	good, down := newReceiver(t, testSecret), newReceiver(t, testSecret)
	down.setFailing(true)
	ended := h.verifyNow("+442079460061", good.URL())
	undelivered := h.verifyNow("+442079460062", down.URL())
	pending := h.start("+442079460063", good.URL(), map[string]any{"timeout_s": 600})["id"].(string)

	gone := func(id string) bool {
		return h.do("GET", "/v1/verifications/"+id, h.key, nil).status == http.StatusNotFound
	}
	waitFor(t, 15*time.Second, "the ended verification purged", func() bool { return gone(ended) })
	// Several purges have run since the undelivered one ended.
	time.Sleep(300 * time.Millisecond) //nolint:forbidigo // lets the loop run rounds; the assertion is that nothing happens
	if gone(undelivered) {
		t.Fatal("an ended verification whose webhook is still due was purged")
	}
	if gone(pending) {
		t.Fatal("a pending verification was purged")
	}
	down.setFailing(false)
	waitFor(t, 15*time.Second, "the webhook delivered, then the verification purged", func() bool { return gone(undelivered) })
	if ok, _ := down.counts(); ok < 1 {
		t.Errorf("the receiver got %d webhooks, want its webhook before the purge", ok)
	}
	h.mustStatus(h.do("GET", "/v1/verifications/"+pending, h.key, nil), http.StatusOK)
}

// Dev mode logs every request with its route pattern (not the path, which
// may hold a phone number), status and duration, so a newcomer sees why a
// request was refused; the start line names the listen address.
func TestDevRequestLogs(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	var logs testutil.SyncBuffer
	srv, err := server.New(t.Context(), cfg, server.Options{Logger: server.NewLogger(cfg.Log, &logs), Env: func(k string) (string, bool) {
		if k == server.EnvDevAPIKey {
			return testKey, true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	req, _ := http.NewRequest("DELETE", srv.URL()+"/v1/phones/"+url.PathEscape("+442079460081"), nil)
	req.Header.Set("Authorization", "Bearer rg_live_wrongwrongwrongwrongwrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `msg=request method=DELETE route="DELETE /v1/phones/{phone}" status=401 duration=`
	waitFor(t, 5*time.Second, "the request log line", func() bool { return strings.Contains(logs.String(), want) })
	if strings.Contains(logs.String(), "460081") {
		t.Errorf("the request log holds the phone number:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "listen="+srv.Addr()) {
		t.Errorf("the start line does not name the listen address %s:\n%s", srv.Addr(), logs.String())
	}
}
