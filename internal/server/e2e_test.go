package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A missed call from the phone to its dial number verifies it: the sim
// reports the match, the status turns verified with 000, the live stream
// shows every step and ends, and the webhooks arrive signed, in order.
func TestMissedCallVerified(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)

	v := h.start("+44 20 7946 0018", rx.URL(), map[string]any{"metadata": map[string]string{"external_user_id": "45450007002"}})
	id, dial := v["id"].(string), v["dial_number"].(string)
	if v["status"] != "pending" || v["phone"] != "+442079460018" || v["country"] != "GB" || v["result_code"] != nil || v["reason"] != nil {
		t.Fatalf("start answer: %v", v)
	}
	if !strings.HasPrefix(dial, "+1202555010") || !strings.HasPrefix(v["client_token"].(string), "ct_") {
		t.Fatalf("dial_number %q or client_token %v not as expected", dial, v["client_token"])
	}

	stream, code := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	if code != http.StatusOK {
		t.Fatalf("events stream: %d", code)
	}
	res := h.call("+442079460018", dial)
	if res["verification_id"] != id || res["disposition"] != "rejected" || res["sip_status"] != float64(603) {
		t.Fatalf("sim call answer: %v", res)
	}

	got := h.mustStatus(h.do("GET", "/v1/verifications/"+id, h.key, nil), http.StatusOK)
	if got["status"] != "verified" || got["result_code"] != "000" || got["completed_at"] == nil {
		t.Fatalf("after the call: %v", got)
	}
	evs := stream.collect(t, 5*time.Second)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Event)
	}
	// One event and one webhook per verifying call (the default
	// matched_call_events): verification.verified, carrying the call.
	if want := []string{"verification.created", "verification.verified"}; !slices.Equal(kinds, want) {
		t.Fatalf("stream events %v, want %v", kinds, want)
	}
	if evs[1].Data["status"] != "verified" {
		t.Fatalf("last stream event %v", evs[1].Data)
	}

	waitFor(t, 5*time.Second, "the webhook", func() bool { return len(rx.of(id)) >= 1 })
	hooks := rx.of(id)
	if want := []string{"verification.verified"}; !slices.Equal(types(hooks), want) {
		t.Fatalf("webhooks %v, want %v", types(hooks), want)
	}
	last := hooks[0].Data
	if last["result_code"] != "000" || last["metadata"].(map[string]any)["external_user_id"] != "45450007002" {
		t.Fatalf("verified webhook data: %v", last)
	}
	if call := last["call"].(map[string]any); call["from"] != "+442079460018" || call["to"] != dial || call["matched"] != true {
		t.Fatalf("verified webhook call: %v", call)
	}
	if _, leaked := last["client_token"]; leaked {
		t.Fatal("webhook carries the client token")
	}

	// A second call changes nothing and matches nothing.
	if res := h.call("+442079460018", dial); res["verification_id"] != nil {
		t.Fatalf("second call matched %v", res["verification_id"])
	}
	// Reconnecting after the end gets 204: EventSource stops retrying.
	if _, code := h.stream("/v1/verifications/"+id+"/events", h.key, evs[1].ID); code != http.StatusNoContent {
		t.Fatalf("reconnect after the end: %d, want 204", code)
	}
}

// A call from the right phone to another pool number does not verify: it
// is a blind guess at the number, and ends the verification (failed,
// wrong_number). A spoofed caller on the right number does not verify.
func TestWrongDialNumber(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	v := h.start("+61491570156", rx.URL(), nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	other := "+12025550100"
	if other == dial {
		other = "+12025550101"
	}
	if res := h.call("+61491570156", other); res["verification_id"] != nil {
		t.Fatalf("wrong number verified: %v", res)
	}
	// A spoofed caller on the right number does not verify either.
	if res := h.call("+61491570157", dial); res["verification_id"] != nil {
		t.Fatalf("another caller verified: %v", res)
	}
	got := h.mustStatus(h.do("GET", "/v1/verifications/"+id, h.key, nil), http.StatusOK)
	if got["status"] != "failed" || got["reason"] != "wrong_number" || got["result_code"] != "001" {
		t.Fatalf("after a wrong call: %v %v %v", got["status"], got["reason"], got["result_code"])
	}
	waitFor(t, 5*time.Second, "call.received and verification.failed webhooks", func() bool { return len(rx.of(id)) == 2 })
	for _, hk := range rx.of(id) {
		if c := hk.Data["call"].(map[string]any); c["matched"] != false || c["to"] != other {
			t.Fatalf("%s webhook call: %v", hk.Type, c)
		}
	}
	// The right call afterwards is too late.
	if res := h.call("+61491570156", dial); res["verification_id"] != nil {
		t.Fatalf("right call after a wrong one: %v", res)
	}
}

// Nobody dials: at expiry the status is expired with 001 and not_dialed, and
// the webhook says so, though the user did nothing (seeds 001 and 003).
func TestExpiry(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	v := h.start("+14155552671", rx.URL(), map[string]any{"timeout_s": 10})
	id := v["id"].(string)
	// Measured from created_at, not from now: the harness checks every
	// answer against the OpenAPI document, which takes seconds on a loaded
	// machine under the race detector before the test sees the answer.
	exp, _ := time.Parse(time.RFC3339Nano, v["expires_at"].(string))
	created, _ := time.Parse(time.RFC3339Nano, v["created_at"].(string))
	if d := exp.Sub(created); d < 9*time.Second || d > 11*time.Second {
		t.Fatalf("expires_at %v is %v after created_at %v, want ~10s", exp, d, created)
	}
	waitFor(t, 15*time.Second, "verification.expired webhook", func() bool { return len(rx.of(id)) == 1 })
	hk := rx.of(id)[0]
	if hk.Type != "verification.expired" || hk.Data["result_code"] != "001" || hk.Data["reason"] != "not_dialed" {
		t.Fatalf("expiry webhook: %s %v", hk.Type, hk.Data)
	}
	if late := time.Since(exp); late > 2*time.Second {
		t.Errorf("expired %v after expires_at", late)
	}
	got := h.mustStatus(h.do("GET", "/v1/verifications/"+id, h.key, nil), http.StatusOK)
	if got["status"] != "expired" || got["result_code"] != "001" {
		t.Fatalf("after expiry: %v", got)
	}
	// A call after expiry verifies nothing, and a new start is a new verification.
	if res := h.call("+14155552671", v["dial_number"].(string)); res["verification_id"] != nil {
		t.Fatalf("late call matched: %v", res)
	}
	if again := h.start("+14155552671", rx.URL(), nil); again["id"] == id {
		t.Fatal("start after expiry returned the expired verification")
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	v := h.start("+14155552672", rx.URL(), nil)
	id := v["id"].(string)
	got := h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusOK)
	if got["status"] != "canceled" || got["result_code"] != "001" || got["reason"] != "canceled" {
		t.Fatalf("cancel: %v", got)
	}
	p := h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusConflict)
	if p["code"] != "not_pending" {
		t.Fatalf("second cancel: %v", p)
	}
	if res := h.call("+14155552672", v["dial_number"].(string)); res["verification_id"] != nil {
		t.Fatalf("call after cancel matched: %v", res)
	}
	waitFor(t, 5*time.Second, "canceled webhook", func() bool { return len(rx.of(id)) == 1 })
	if hk := rx.of(id)[0]; hk.Type != "verification.canceled" {
		t.Fatalf("webhook %s", hk.Type)
	}
}

// The server stops while a verification is pending; after a restart on the
// same data the call still verifies it and the webhook goes out.
func TestRestartWhilePending(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rx := newReceiver(t, testSecret)
	h := startServer(t, dir)
	v := h.start("+14155552673", rx.URL(), nil)
	id, token := v["id"].(string), v["client_token"].(string)
	if err := h.srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	h = startServer(t, dir)
	st := h.mustStatus(h.do("GET", "/v1/verifications/"+id+"/status?token="+token, "", nil), http.StatusOK)
	if st["status"] != "pending" {
		t.Fatalf("after restart: %v", st)
	}
	if res := h.call("+14155552673", v["dial_number"].(string)); res["verification_id"] != id {
		t.Fatalf("call after restart: %v", res)
	}
	waitFor(t, 5*time.Second, "verified webhook", func() bool {
		return slices.Contains(types(rx.of(id)), "verification.verified")
	})
}

// The customer's endpoint is down when the result is ready; it is delivered
// once it is back, with the same webhook-id, and the delivery log shows the
// failed attempts.
func TestWebhookReceiverDownThenBack(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	rx.setFailing(true)
	v := h.start("+14155552674", rx.URL(), nil)
	id := v["id"].(string)
	h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusOK)

	waitFor(t, 5*time.Second, "a failed attempt in the delivery log", func() bool {
		d := h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+id, h.key, nil), http.StatusOK)
		list := d["data"].([]any)
		return len(list) == 1 && list[0].(map[string]any)["attempts"].(float64) >= 2 &&
			list[0].(map[string]any)["last_status_code"] == float64(503)
	})
	if n := len(rx.of(id)); n != 0 {
		t.Fatalf("%d webhooks accepted while failing", n)
	}
	rx.setFailing(false)
	waitFor(t, 5*time.Second, "delivery once the receiver is back", func() bool { return len(rx.of(id)) == 1 })
	// The receiver has the webhook before the dispatcher has its answer and
	// settles the delivery: wait for the log to say so.
	var del map[string]any
	waitFor(t, 5*time.Second, "the delivery settled as delivered", func() bool {
		d := h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+id, h.key, nil), http.StatusOK)
		del = d["data"].([]any)[0].(map[string]any)
		return del["status"] == "delivered"
	})
	if del["id"] != rx.of(id)[0].ID {
		t.Fatalf("delivery %v; received webhook-id %s", del, rx.of(id)[0].ID)
	}
}

// Starting again for a phone with a pending verification supersedes it,
// with a new id and token; the same Idempotency-Key returns the first
// answer; reusing a key with another body is refused.
func TestStartIsIdempotent(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	first := h.start("+14155552675", rx.URL(), nil)
	again := h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+1 415 555 2675", "channel": "missed_call", "callback_url": rx.URL()}), http.StatusCreated)
	if again["id"] == first["id"] || again["client_token"] == first["client_token"] {
		t.Fatalf("second start %v shares the pending %v", again["id"], first["id"])
	}
	if old := h.get(first["id"].(string)); old["status"] != "canceled" || old["reason"] != "superseded" {
		t.Fatalf("the superseded one: %v %v", old["status"], old["reason"])
	}

	body := map[string]any{"phone": "+14155552676", "channel": "missed_call", "callback_url": rx.URL()}
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			r := h.do("POST", "/v1/verifications", h.key, body, "Idempotency-Key", "order-77")
			if r.status != http.StatusCreated && r.status != http.StatusOK {
				t.Errorf("parallel start: %d %s", r.status, r.body)
				return
			}
			ids[i] = r.json(t)["id"].(string)
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("parallel starts with one key made several verifications: %v", ids)
		}
	}
	body["phone"] = "+14155552677"
	p := h.mustStatus(h.do("POST", "/v1/verifications", h.key, body, "Idempotency-Key", "order-77"), http.StatusUnprocessableEntity)
	if p["code"] != "idempotency_key_reused" {
		t.Fatalf("reused key: %v", p)
	}
}

// The page's poll and stream with the client token: phone masked, no
// metadata, and the token works for its own verification only.
func TestClientToken(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	a := h.start("+14155552678", rx.URL(), map[string]any{"metadata": map[string]string{"secret": "x"}})
	b := h.start("+14155552679", rx.URL(), nil)
	path := "/v1/verifications/" + a["id"].(string)
	st := h.mustStatus(h.do("GET", path+"/status?token="+a["client_token"].(string), "", nil), http.StatusOK)
	if st["phone"] != "+1 ••••••••78" || st["status"] != "pending" || st["dial_number"] != a["dial_number"] {
		t.Fatalf("status poll: %v", st)
	}
	if left := st["expires_in_s"].(float64); left < 170 || left > 180 {
		t.Fatalf("expires_in_s %v", left)
	}
	for _, tok := range []string{b["client_token"].(string), "ct_forged", ""} {
		p := h.mustStatus(h.do("GET", path+"/status?token="+tok, "", nil), http.StatusUnauthorized)
		if p["code"] != "unauthorized" {
			t.Fatalf("token %q: %v", tok, p)
		}
	}
	s, code := h.stream(path+"/events?token="+a["client_token"].(string), "", "")
	if code != http.StatusOK {
		t.Fatalf("stream with token: %d", code)
	}
	h.call("+14155552678", a["dial_number"].(string))
	evs := s.collect(t, 5*time.Second)
	for _, e := range evs {
		if e.Data["phone"] != "+1 ••••••••78" || len(e.Data["metadata"].(map[string]any)) != 0 {
			t.Fatalf("token stream leaks data: %v", e.Data)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("token stream: %d events, want created and verified", len(evs))
	}
}

// An SSE client that drops and reconnects with Last-Event-ID gets only what
// it missed.
func TestStreamResumes(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	v := h.start("+14155552680", rx.URL(), nil)
	id := v["id"].(string)
	s, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	first := <-s.events
	s.resp.Body.Close()
	h.call("+14155552681", v["dial_number"].(string)) // wrong caller: call.received on nobody
	h.call("+14155552680", v["dial_number"].(string))
	s, _ = h.stream("/v1/verifications/"+id+"/events", h.key, first.ID)
	var kinds []string
	for _, e := range s.collect(t, 5*time.Second) {
		kinds = append(kinds, e.Event)
	}
	if want := []string{"verification.verified"}; !slices.Equal(kinds, want) {
		t.Fatalf("resumed stream %v, want %v", kinds, want)
	}
}

// Lists page with a cursor, newest first, filtered by phone and status.
func TestListPagination(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	var want []string
	for i := range 5 {
		v := h.start(fmt.Sprintf("+1415555270%d", i), rx.URL(), nil)
		want = append([]string{v["id"].(string)}, want...)
	}
	h.mustStatus(h.do("POST", "/v1/verifications/"+want[0]+"/cancel", h.key, nil), http.StatusOK)
	var got []string
	cursor := ""
	for range 5 {
		p := h.mustStatus(h.do("GET", "/v1/verifications?limit=2&cursor="+cursor, h.key, nil), http.StatusOK)
		for _, v := range p["data"].([]any) {
			got = append(got, v.(map[string]any)["id"].(string))
		}
		if p["next_cursor"] == nil {
			break
		}
		cursor = p["next_cursor"].(string)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged ids %v, want %v", got, want)
	}
	p := h.mustStatus(h.do("GET", "/v1/verifications?status=canceled", h.key, nil), http.StatusOK)
	if d := p["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != want[0] {
		t.Fatalf("status filter: %v", d)
	}
	p = h.mustStatus(h.do("GET", "/v1/verifications?phone=%2B14155552702", h.key, nil), http.StatusOK)
	if d := p["data"].([]any); len(d) != 1 || d[0].(map[string]any)["phone"] != "+14155552702" {
		t.Fatalf("phone filter: %v", d)
	}
}
