package server_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
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
	return postTelnyxAs(t, priv, rawURL, "application/x-www-form-urlencoded", body, ts)
}

// postTelnyxAs posts body of contentType signed as Telnyx signs it.
func postTelnyxAs(t *testing.T, priv ed25519.PrivateKey, rawURL, contentType, body, ts string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
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
// (call A), captures Telnyx's signed answer webhook (the one that carries
// the machine-detection verdict, AnsweredBy=human), and posts it,
// unchanged, to the answer URL of the victim's call B (?id= is not covered
// by Telnyx's signature). The status callback is tried too. The victim's verification must not
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

	captured := url.Values{"AccountSid": {"acct"}, "AnsweredBy": {"human"}, "CallSid": {"v3:telnyx-call-1"}, "CallStatus": {"in-progress"}, "From": {"+13120001234"}, "To": {attacker}}.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for _, u := range []string{callB["Url"], callB["StatusCallback"]} {
		if code := postTelnyx(t, priv, u, captured, ts); code >= 500 {
			t.Fatalf("moved callback: %d", code)
		}
	}
	if got := h.get(b); got["status"] == "verified" {
		t.Fatalf("call A's signed answer webhook, posted to call B's URLs, verified the victim: %v", got["status"])
	}
	if code := postTelnyx(t, priv, callA["Url"], captured, ts); code != http.StatusOK {
		t.Fatalf("call A's own answer webhook: %d", code)
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

const plToken = "e2e-plivo-auth-token"

// plivoServer starts a dev server with a Plivo carrier "pl" (webhooks
// only: nothing is routed to it) and returns it with its public URL.
func plivoServer(t *testing.T, mut ...func(*config.Config)) (*harness, string) {
	t.Helper()
	addr := freeAddr(t)
	public := "http://" + addr
	h := startServer(t, t.TempDir(), append([]func(*config.Config){func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, public
		c.Carriers = append(c.Carriers, config.Carrier{Name: "pl", Type: "plivo", HTTP: config.HTTPCarrier{
			AccountID: "MAXXXXXXXXXXXXXXXXXX", AuthToken: plToken, From: []string{"+14155550101"},
		}})
	}}, mut...)...)
	return h, public
}

// plivoV2 is Plivo's signature V2: the URL without its query, then the
// nonce; neither the body nor the query is covered.
func plivoV2(rawURL, nonce string) string {
	u, _ := url.Parse(rawURL)
	m := hmac.New(sha256.New, []byte(plToken))
	m.Write([]byte(u.Scheme + "://" + u.Host + u.Path + nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// plivoV3 is Plivo's signature V3 of a POST to a URL without query: the
// URL, "?", the sorted parameters as name and value run together, ".",
// the nonce.
func plivoV3(rawURL, nonce string, p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + p.Get(k))
	}
	m := hmac.New(sha256.New, []byte(plToken))
	m.Write([]byte(rawURL + "?" + b.String() + "." + nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// postPlivo posts a form with the given signature headers.
func postPlivo(t *testing.T, rawURL string, p url.Values, hdr ...string) (int, string) {
	t.Helper()
	req := carriertest.FormPost(rawURL, p)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return carriertest.Do(t, req)
}

// The attacker captured one V2-signed request Plivo sent to answer_url
// (any call to the account's numbers: V2 signs the URL without its query,
// and a nonce, nothing else). With those two headers they post their own
// body: the victim's number calling the pool number of a verification
// they started for it. It must be refused (403) and the verification
// stay pending.
func TestAttackPlivoV2SignatureCarriesForgedBody(t *testing.T) {
	t.Parallel()
	h, public := plivoServer(t)
	const victim = "+447911123621"
	v := h.start(victim, "", nil)
	answer := public + "/carriers/pl/answer"
	const nonce = "38105938213520413729"
	captured := []string{"X-Plivo-Signature-V2", plivoV2(answer, nonce), "X-Plivo-Signature-V2-Nonce", nonce}
	forged := url.Values{"CallUUID": {"2d3c1c24-7b5e-4f07-9d0a-0e0b6c9a1f11"}, "From": {victim}, "To": {v["dial_number"].(string)},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}}
	code, body := postPlivo(t, answer, forged, captured...)
	if got := h.get(v["id"].(string)); got["status"] != "pending" {
		t.Fatalf("a forged body under a captured V2 signature (answered %d) changed the verification: %v", code, got["status"])
	}
	if code != http.StatusForbidden {
		t.Fatalf("forged body under V2: %d %s, want 403", code, body)
	}
}

// The victim's phone calls a Plivo pool number; the attacker captured the
// V3-signed webhook. Later, with a verification of the victim's number
// shown the same pool number, they replay it with CallUUID's value
// stretched over the next parameter ("CallUUID"="…", "Direction"=
// "inbound" signs like "CallUUID"="…Directioninbound"): a new call id,
// the same signature. The new verification must stay pending.
func TestAttackPlivoReplayMovesCallUUID(t *testing.T) {
	t.Parallel()
	h, public := plivoServer(t, noCooldown)
	const victim = "+447911123622"
	v1 := h.start(victim, "", nil)
	dial := v1["dial_number"].(string)
	answer := public + "/carriers/pl/answer"
	const nonce = "71823049182734091823"
	captured := url.Values{"CallUUID": {"8f1f3c2a-6a0b-4c1e-9f7d-2b5a4c3d2e10"}, "From": {victim}, "To": {dial},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}}
	sig := []string{"X-Plivo-Signature-V3", plivoV3(answer, nonce, captured), "X-Plivo-Signature-V3-Nonce", nonce}
	if code, body := postPlivo(t, answer, captured, sig...); code != http.StatusOK {
		t.Fatalf("the victim's own call: %d %s", code, body)
	}
	h.waitStatus(v1["id"].(string), "verified")

	v2 := h.startOn(victim, dial)
	moved := url.Values{"CallUUID": {"8f1f3c2a-6a0b-4c1e-9f7d-2b5a4c3d2e10Directioninbound"}, "From": {victim}, "To": {dial}, "CallStatus": {"ringing"}}
	if plivoV3(answer, nonce, moved) != sig[1] {
		t.Fatal("test bug: the moved parameters do not sign the same")
	}
	code, _ := postPlivo(t, answer, moved, sig...)
	if got := h.get(v2); got["status"] != "pending" {
		t.Fatalf("the captured webhook with CallUUID stretched (answered %d) verified a new verification: %v", code, got["status"])
	}
	if code < 400 {
		t.Errorf("replayed webhook answered %d, want a refusal", code)
	}
}

const vgSecret = "e2e-vonage-signature-secret"

// vonageServer starts a dev server with a Vonage carrier "vg" (webhooks
// only) and returns it with its public URL.
func vonageServer(t *testing.T, mut ...func(*config.Config)) (*harness, string) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "vonage.key")
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(pk)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	public := "http://" + addr
	h := startServer(t, t.TempDir(), append([]func(*config.Config){func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, public
		c.Carriers = append(c.Carriers, config.Carrier{Name: "vg", Type: "vonage", HTTP: config.HTTPCarrier{
			APIKey: "k", APISecret: "s", ApplicationID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", PrivateKeyFile: keyFile,
			SignatureSecret: vgSecret, From: []string{"+14155550100"},
		}})
	}}, mut...)...)
	return h, public
}

// vonageToken is a signed-webhook JWT as Vonage sends it (HS256 with the
// signature secret; payload_hash when the request has a body).
func vonageToken(jti string, body []byte) string {
	b64 := base64.RawURLEncoding
	claims := map[string]any{"iat": time.Now().Unix(), "jti": jti, "iss": "Vonage", "api_key": "k", "application_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
	if len(body) > 0 {
		sum := sha256.Sum256(body)
		claims["payload_hash"] = hex.EncodeToString(sum[:])
	}
	c, _ := json.Marshal(claims)
	signing := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString(c)
	m := hmac.New(sha256.New, []byte(vgSecret))
	m.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(m.Sum(nil))
}

// The attacker captured one signed Vonage webhook token (any webhook of
// the application in the last ten minutes; a GET answer_url has no body,
// so its token has no payload_hash and binds nothing). They call
// answer_url by GET with that token and their own query: the victim's
// number calling the pool number of a verification they started for it.
// It must be refused (403) and the verification stay pending.
func TestAttackVonageGETAnswerWithUnsignedQuery(t *testing.T) {
	t.Parallel()
	h, public := vonageServer(t)
	const victim = "+447911123631"
	v := h.start(victim, "", nil)
	captured := vonageToken("0c7b1c2e-8f00-4b7e-a1d4-5d1b2f3e4a50", nil)
	q := url.Values{"from": {victim}, "to": {v["dial_number"].(string)}, "uuid": {"63f61863-4a51-4f6b-86e1-46edebcf9356"},
		"conversation_uuid": {"CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}}
	req, _ := http.NewRequest("GET", public+"/carriers/vg/answer?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+captured)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := h.get(v["id"].(string)); got["status"] != "pending" {
		t.Fatalf("a GET answer_url with an unsigned query (answered %d) changed the verification: %v", res.StatusCode, got["status"])
	}
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("GET answer_url with an unsigned query: %d, want 403", res.StatusCode)
	}
}

// Vonage and Plivo write caller numbers in E.164 without the '+'
// ("447911123641"). A correctly signed missed call from the right phone,
// in another country than the carrier's, must match its verification.
func TestPluslessE164CallerMatches(t *testing.T) {
	t.Parallel()
	t.Run("vonage", func(t *testing.T) {
		t.Parallel()
		h, public := vonageServer(t)
		const phone = "+447911123641"
		v := h.start(phone, "", nil)
		body, _ := json.Marshal(map[string]string{"from": phone[1:], "to": v["dial_number"].(string)[1:], "uuid": "5b8e2f1a-0c3d-4e5f-8a9b-1c2d3e4f5a61", "conversation_uuid": "CON-1"})
		req, _ := http.NewRequest("POST", public+"/carriers/vg/answer", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+vonageToken("b1d2c3e4-0000-4000-8000-000000000001", body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := h.get(v["id"].(string)); got["status"] != "verified" {
			t.Fatalf("a signed '+'-less call from the right phone (answered %d) left it %v", res.StatusCode, got["status"])
		}
	})
	t.Run("plivo", func(t *testing.T) {
		t.Parallel()
		h, public := plivoServer(t)
		const phone = "+447911123642"
		v := h.start(phone, "", nil)
		answer := public + "/carriers/pl/answer"
		p := url.Values{"CallUUID": {"6c9f3a2b-1d4e-4f60-9bac-2d3e4f5a6b72"}, "From": {phone[1:]}, "To": {v["dial_number"].(string)[1:]}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
		code, body := postPlivo(t, answer, p, "X-Plivo-Signature-V3", plivoV3(answer, "n-plusless", p), "X-Plivo-Signature-V3-Nonce", "n-plusless")
		if got := h.get(v["id"].(string)); got["status"] != "verified" {
			t.Fatalf("a signed '+'-less call from the right phone (answered %d %s) left it %v", code, body, got["status"])
		}
	})
}
