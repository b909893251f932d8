package server_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/twilio"
	"github.com/ringgate/ringgate/internal/config"
)

// Adversarial tests of the HTTP carriers' webhooks: every request here is
// correctly signed (a captured webhook, replayed or moved), and none may
// verify a verification it is not about.

// telnyxServer starts a dev server whose carrier "telnyx" is a local fake
// (each call gets its own call_sid), routing channels to it.
func telnyxServer(t *testing.T, channels ...string) (*harness, *fakeProvider, ed25519.PrivateKey) {
	t.Helper()
	var n atomic.Int64
	fake := newFakeProvider(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+txKey },
		func(path string, f map[string]string) (int, string) {
			return 200, fmt.Sprintf(`{"from": %q, "to": %q, "status": "queued", "call_sid": "v3:telnyx-call-%d"}`, f["From"], f["To"], n.Add(1))
		})
	priv := ed25519.NewKeyFromSeed([]byte("ringgate e2e telnyx key seed 32b"))
	addr := freeAddr(t)
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, "http://"+addr
		c.Carriers = append(c.Carriers, config.Carrier{Name: "telnyx", Type: "telnyx", HTTP: config.HTTPCarrier{
			APIKey: txKey, PublicKey: base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), ConnectionID: txConn,
			APIBase: fake.srv.URL, From: []string{"+13120001234"},
		}})
		var routes []config.Route
		for _, ch := range channels {
			routes = append(routes, config.Route{Channel: ch, Carriers: []string{"telnyx"}})
		}
		c.Routes = append(routes, c.Routes...)
	})
	return h, fake, priv
}

// postTelnyx posts a form webhook signed as Telnyx signs it (Ed25519 over
// timestamp|body, which does not cover the URL).
func postTelnyx(t *testing.T, priv ed25519.PrivateKey, rawURL, body, ts string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("telnyx-timestamp", ts)
	req.Header.Set("telnyx-signature-ed25519", base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(ts+"|"+body))))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// callFor waits for the call the fake provider was asked to place to to.
func callFor(t *testing.T, fake *fakeProvider, to string) map[string]string {
	t.Helper()
	var call map[string]string
	waitFor(t, 10*time.Second, "a call to "+to, func() bool {
		for _, r := range fake.requests() {
			if r["To"] == to && r["StatusCallback"] != "" {
				call = r
				return true
			}
		}
		return false
	})
	return call
}

// placed waits until verification id shows call.placed: its job has
// settled with the carrier's id for the call.
func (h *harness) placed(id string) {
	h.t.Helper()
	s, code := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	if code != http.StatusOK {
		h.t.Fatalf("events of %s: %d", id, code)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				h.t.Fatalf("%s: stream ended before call.placed", id)
			}
			if ev.Event == "call.placed" {
				return
			}
		case <-timeout:
			h.t.Fatalf("%s: no call.placed", id)
		}
	}
}

// The attacker answers an answer_call verification of their own phone
// (call A), captures Telnyx's signed "in-progress" status callback, and
// posts it, unchanged, to the status URL of the victim's call B (?id= is
// not covered by Telnyx's signature). The victim's verification must not
// become verified: the body names call A's CallSid, not B's. Call A's own
// callback still verifies A (the check is not one that refuses all).
func TestAttackTelnyxCallStatusMovedToAnotherCall(t *testing.T) {
	t.Parallel()
	h, fake, priv := telnyxServer(t, "answer_call")
	const attacker, victim = "+447911123601", "+447911123602"
	a := h.startChannel(map[string]any{"phone": attacker, "channel": "answer_call"})["id"].(string)
	callA := callFor(t, fake, attacker) // the fake's first call: v3:telnyx-call-1
	h.placed(a)
	b := h.startChannel(map[string]any{"phone": victim, "channel": "answer_call"})["id"].(string)
	callB := callFor(t, fake, victim)
	h.placed(b)

	captured := url.Values{"AccountSid": {"acct"}, "CallSid": {"v3:telnyx-call-1"}, "CallStatus": {"in-progress"}, "From": {"+13120001234"}, "To": {attacker}}.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if code := postTelnyx(t, priv, callB["StatusCallback"], captured, ts); code >= 500 {
		t.Fatalf("moved callback: %d", code)
	}
	if got := h.get(b); got["status"] == "verified" {
		t.Fatalf("call A's signed status callback, posted to call B's URL, verified the victim: %v", got["status"])
	}
	if code := postTelnyx(t, priv, callA["StatusCallback"], captured, ts); code != http.StatusOK {
		t.Fatalf("call A's own callback: %d", code)
	}
	h.waitStatus(a, "verified")
	if got := h.get(b); got["status"] == "verified" {
		t.Fatalf("victim verified: %v", got["status"])
	}
}

// startOn starts missed-call verifications of phone until one is shown
// dial (the pool is drawn at random), cancelling the others; bounded.
func (h *harness) startOn(phone, dial string) string {
	h.t.Helper()
	for range 80 {
		v := h.start(phone, "", nil)
		if v["dial_number"] == dial {
			return v["id"].(string)
		}
		h.mustStatus(h.do("POST", "/v1/verifications/"+v["id"].(string)+"/cancel", h.key, nil), http.StatusOK)
	}
	h.t.Fatalf("80 starts never showed %s", dial)
	return ""
}

// noCooldown lets a test draw any pool number, as often as it likes.
func noCooldown(c *config.Config) {
	c.Abuse.DialCooldown = 0
	c.Abuse.RateLimits = nil
}

// The victim's phone calls a Twilio pool number and verifies; the
// attacker captured Twilio's signed "A call comes in" webhook. Later the
// attacker starts a verification of the victim's number, shown the same
// pool number, and replays the webhook with CallSid moved into another
// parameter name ("CallSi" = "dCA…"): Twilio's signature (name and value
// run together, no separator) still verifies, and without a CallSid the
// call-id dedupe did not recognise the replay. The new verification must
// stay pending.
func TestAttackTwilioInboundReplayMovesCallSid(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	addr := freeAddr(t)
	public := "http://" + addr
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, public
		c.Carriers = append(c.Carriers, twilioCarrier("twilio", fake.srv.URL, ""))
		noCooldown(c)
	})
	const victim = "+447911123611"
	v1 := h.start(victim, "", nil)
	dial := v1["dial_number"].(string)
	voice := public + "/carriers/twilio/voice"
	const sid = "CA6f1e0d2c3b4a59687766554433221100"
	captured := url.Values{"AccountSid": {twSID}, "CallSid": {sid}, "From": {victim}, "To": {dial}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	if code, body := postTwilio(t, voice, captured, true); code != http.StatusOK {
		t.Fatalf("the victim's own call: %d %s", code, body)
	}
	h.waitStatus(v1["id"].(string), "verified")

	v2 := h.startOn(victim, dial)
	// The same webhook, replayed as captured: the call id was seen.
	postTwilio(t, voice, captured, true)
	if got := h.get(v2); got["status"] != "pending" {
		t.Fatalf("a replayed webhook changed the new verification: %v", got["status"])
	}
	// Moved: the same signature, CallSid's name cut short.
	moved := url.Values{}
	for k, vs := range captured {
		moved[k] = vs
	}
	delete(moved, "CallSid")
	moved.Set("CallSi", "d"+sid)
	req, _ := http.NewRequest("POST", voice, strings.NewReader(moved.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSig(voice, captured)) // the captured header, unchanged
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := h.get(v2); got["status"] != "pending" {
		t.Fatalf("the captured webhook with CallSid moved (answered %d) verified a new verification: %v", res.StatusCode, got["status"])
	}
	if res.StatusCode < 400 {
		t.Errorf("moved webhook answered %d, want a refusal", res.StatusCode)
	}
}

func twilioSig(rawURL string, params url.Values) string {
	return twilio.Signature(twToken, rawURL, params)
}
