package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/carrier/twilio"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

const (
	twSID   = "AC0123456789abcdef0123456789abcdef"
	twToken = "e2e-twilio-auth-token"
	txKey   = "KEYe2e-telnyx"
	txConn  = "1293384261075731499"
)

// freeAddr reserves a loopback port for the server, so that its public
// URL (which the carriers call back) is known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeProvider is a local provider API: it records each request's form
// or JSON body by path, checks the credentials as the provider does, and
// answers with status (201/200 and the provider's documented body) or,
// when failWith is set, that status with the provider's error body.
type fakeProvider struct {
	t        *testing.T
	srv      *httptest.Server
	auth     func(*http.Request) bool
	ok       func(path string, body map[string]string) (int, string)
	failWith int
	failBody string
	mu       sync.Mutex
	got      []map[string]string // body fields, with "_path"
}

func newFakeProvider(t *testing.T, auth func(*http.Request) bool, ok func(string, map[string]string) (int, string)) *fakeProvider {
	f := &fakeProvider{t: t, auth: auth, ok: ok}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fields := map[string]string{"_path": r.URL.Path}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]any
			json.Unmarshal(b, &m)
			for k, v := range m {
				if s, ok := v.(string); ok {
					fields[k] = s
				}
			}
		} else {
			form, _ := url.ParseQuery(string(b))
			for k := range form {
				fields[k] = form.Get(k)
			}
		}
		f.mu.Lock()
		f.got = append(f.got, fields)
		fail, failBody := f.failWith, f.failBody
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !f.auth(r) {
			w.WriteHeader(401)
			io.WriteString(w, `{"message": "unauthorized"}`)
			return
		}
		if fail != 0 {
			w.WriteHeader(fail)
			io.WriteString(w, failBody)
			return
		}
		status, body := f.ok(r.URL.Path, fields)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProvider) requests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.got...)
}

func newFakeTwilio(t *testing.T) *fakeProvider {
	return newFakeProvider(t, func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == twSID && p == twToken && strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/"+twSID+"/")
	}, func(path string, f map[string]string) (int, string) {
		if strings.HasSuffix(path, "/Messages.json") {
			return 201, `{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "` + f["To"] + `"}`
		}
		return 201, `{"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued"}`
	})
}

func twilioCarrier(name, apiBase, public string) config.Carrier {
	return config.Carrier{Name: name, Type: "twilio", HTTP: config.HTTPCarrier{
		AccountID: twSID, AuthToken: twToken, APIBase: apiBase, PublicURL: public, From: []string{"+15005550006"},
	}}
}

// twilioServer starts a dev server whose carrier "twilio" is fake, on a
// known address (its webhook URLs are signed with it), routing channels to
// it; it returns the server and its public URL.
func twilioServer(t *testing.T, fake *fakeProvider, channels ...string) (*harness, string) {
	t.Helper()
	addr := freeAddr(t)
	public := "http://" + addr
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, public
		c.Carriers = append(c.Carriers, twilioCarrier("twilio", fake.srv.URL, ""))
		var routes []config.Route
		for _, ch := range channels {
			routes = append(routes, config.Route{Channel: ch, Carriers: []string{"twilio"}})
		}
		c.Routes = append(routes, c.Routes...)
	})
	return h, public
}

// postTwilio sends a webhook signed as Twilio signs it (sign false: none).
func postTwilio(t *testing.T, rawURL string, params url.Values, sign bool) (int, string) {
	t.Helper()
	req := carriertest.FormPost(rawURL, params)
	if sign {
		req.Header.Set("X-Twilio-Signature", twilio.Signature(twToken, rawURL, params))
	}
	return carriertest.Do(t, req)
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// An SMS OTP goes out through (a local) Twilio; Twilio's signed delivery
// callback reaches /carriers/twilio/… and the verification shows
// sms.delivered; the code Twilio was asked to send verifies.
func TestTwilioSMSDeliveredThroughSignedCallback(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, public := twilioServer(t, fake, "sms_otp")
	const to = "+447911123501"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp"})
	id := v["id"].(string)
	var msg map[string]string
	waitFor(t, 10*time.Second, "a message to Twilio", func() bool {
		for _, r := range fake.requests() {
			if strings.HasSuffix(r["_path"], "/Messages.json") {
				msg = r
				return true
			}
		}
		return false
	})
	if msg["To"] != to || msg["From"] != "+15005550006" || !strings.HasPrefix(msg["StatusCallback"], public+"/carriers/twilio/sms-status?id=") {
		t.Fatalf("message to Twilio: %v", msg)
	}
	code := sixDigits.FindString(msg["Body"])
	if code == "" {
		t.Fatalf("no code in %q", msg["Body"])
	}
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	p := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "AccountSid": {twSID}, "To": {to}, "MessageStatus": {"delivered"}, "ApiVersion": {"2010-04-01"}}
	if code, body := postTwilio(t, msg["StatusCallback"], p, true); code != http.StatusNoContent {
		t.Fatalf("delivery callback: %d %s", code, body)
	}
	h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	var kinds []string
	for _, e := range stream.collect(t, 10*time.Second) {
		kinds = append(kinds, e.Event)
		if e.Event == "sms.sent" || e.Event == "sms.delivered" {
			if out, _ := e.Data["outbound"].(map[string]any); out["carrier"] != "twilio" {
				t.Errorf("%s by %v", e.Event, out["carrier"])
			}
		}
	}
	if !contains(kinds, "sms.sent") || !contains(kinds, "sms.delivered") || kinds[len(kinds)-1] != "verification.verified" {
		t.Fatalf("events %v", kinds)
	}
}

// A missed call to the pool number arrives as Twilio's signed voice
// webhook: it is answered <Reject/> and the verification is verified.
// An unsigned one gets 403 and raises the refused-webhooks counter.
func TestTwilioInboundMissedCallAndUnsignedWebhook(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, public := twilioServer(t, fake)
	v := h.start("+447911123502", "", nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	voice := public + "/carriers/twilio/voice"
	p := url.Values{"CallSid": {"CA9f1e0d2c3b4a59687766554433221100"}, "AccountSid": {twSID}, "From": {"+447911123502"}, "To": {dial}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}

	code, body := postTwilio(t, voice, p, false)
	if code != http.StatusForbidden || !strings.Contains(body, `"status":403`) {
		t.Fatalf("unsigned: %d %s", code, body)
	}
	if got := h.get(id); got["status"] != "pending" {
		t.Fatalf("an unsigned webhook changed the verification: %v", got)
	}
	if m := h.do("GET", "/metrics", "", nil); !strings.Contains(string(m.body), `ringgate_carrier_webhooks_refused_total{carrier="twilio"} 1`) {
		t.Fatalf("metric not raised:\n%s", grepLines(string(m.body), "refused"))
	}

	code, body = postTwilio(t, voice, p, true)
	if code != http.StatusOK || !strings.Contains(body, `<Response><Reject reason="rejected"/></Response>`) {
		t.Fatalf("signed: %d %s", code, body)
	}
	if got := h.get(id); got["status"] != "verified" {
		t.Fatalf("after the call: %v", got)
	}
	// Unknown carriers and paths get problem JSON.
	for _, path := range []string{"/carriers/nope/voice", "/carriers/twilio/nope", "/carriers/twilio"} {
		res, err := http.Post(public+path, "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

// Carrier A (Twilio answering 503) fails retryably; the same
// verification goes out through carrier B (Telnyx), whose signed
// message.finalized webhook reports the delivery.
func TestFailoverTwilioToTelnyx(t *testing.T) {
	t.Parallel()
	tw := newFakeTwilio(t)
	tw.failWith, tw.failBody = 503, `{"code": 20503, "message": "Service unavailable", "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503}`
	tx := newFakeProvider(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+txKey },
		func(path string, f map[string]string) (int, string) {
			return 200, `{"data": {"record_type": "message", "id": "40385f64-5717-4562-b3fc-2c963f66afa6", "to": [{"phone_number": "` + f["to"] + `", "status": "queued"}]}}`
		})
	priv := ed25519.NewKeyFromSeed([]byte("ringgate e2e telnyx key seed 32b"))
	addr := freeAddr(t)
	public := "http://" + addr
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, public
		c.Carriers = append(c.Carriers, twilioCarrier("twilio-a", tw.srv.URL, ""), config.Carrier{Name: "telnyx-b", Type: "telnyx", HTTP: config.HTTPCarrier{
			APIKey: txKey, PublicKey: base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), ConnectionID: txConn,
			APIBase: tx.srv.URL, From: []string{"+13120001234"},
		}})
		c.Routes = append([]config.Route{{Channel: "sms_otp", Carriers: []string{"twilio-a", "telnyx-b"}}}, c.Routes...)
	})
	const to = "+447911123503"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp"})
	id := v["id"].(string)
	var msg map[string]string
	waitFor(t, 10*time.Second, "a message to Telnyx", func() bool {
		if r := tx.requests(); len(r) > 0 {
			msg = r[0]
			return true
		}
		return false
	})
	if n := len(tw.requests()); n != 1 {
		t.Fatalf("Twilio got %d requests, want the one it failed", n)
	}
	if tw.requests()[0]["To"] != to || msg["to"] != to || msg["_path"] != "/messages" {
		t.Fatalf("requests: twilio %v, telnyx %v", tw.requests(), msg)
	}
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	hook := `{"data": {"event_type": "message.finalized", "id": "e1", "payload": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6", "to": [{"phone_number": "` + to + `", "status": "delivered"}]}, "record_type": "event"}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if code := postTelnyxAs(t, priv, msg["webhook_url"], "application/json", hook, ts); code != http.StatusOK {
		t.Fatalf("telnyx webhook: %d", code)
	}
	h.mustStatus(h.check(id, map[string]any{"code": sixDigits.FindString(msg["text"])}), http.StatusOK)
	carriers := map[string]any{}
	for _, e := range stream.collect(t, 10*time.Second) {
		if out, _ := e.Data["outbound"].(map[string]any); out != nil {
			carriers[e.Event] = out["carrier"]
		}
	}
	if carriers["sms.sent"] != "telnyx-b" || carriers["sms.delivered"] != "telnyx-b" {
		t.Fatalf("carriers by event: %v", carriers)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Vonage and Plivo carriers are built from the config and their webhooks
// served under /carriers/{name}/: an unsigned one is refused with 403 and
// counted. A Vonage carrier whose private key cannot be read stops the
// start with a message naming the carrier.
func TestVonageAndPlivoWired(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "vonage.key")
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(pk)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	vonageCarrier := config.Carrier{Name: "vg", Type: "vonage", HTTP: config.HTTPCarrier{
		APIKey: "k", APISecret: "s", ApplicationID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", PrivateKeyFile: keyFile,
		SignatureSecret: "sig-secret", From: []string{"+14155550100"},
	}}
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.PublicURL = "https://rg.example"
		c.Carriers = append(c.Carriers, vonageCarrier,
			config.Carrier{Name: "pl", Type: "plivo", HTTP: config.HTTPCarrier{AccountID: "MAXXXXXXXXXXXXXXXXXX", AuthToken: "t", From: []string{"+14155550101"}}})
	})
	for _, path := range []string{"/carriers/vg/answer", "/carriers/pl/answer"} {
		res, err := http.Post("http://"+h.srv.Addr()+path, "application/x-www-form-urlencoded", strings.NewReader("From=%2B447700900123&To=%2B14155550100"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	metrics, err := http.Get("http://" + h.srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, name := range []string{"vg", "pl"} {
		if !strings.Contains(string(body), `ringgate_carrier_webhooks_refused_total{carrier="`+name+`"} 1`) {
			t.Errorf("no refused webhook counted for %s:\n%s", name, grepLines(string(body), "refused"))
		}
	}

	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir, cfg.PublicURL = "127.0.0.1:0", t.TempDir(), "https://rg.example"
	vonageCarrier.HTTP.PrivateKeyFile = filepath.Join(dir, "missing.key")
	cfg.Carriers = append(cfg.Carriers, vonageCarrier)
	if _, err := server.New(context.Background(), cfg, server.Options{Logger: server.NewLogger(cfg.Log, testWriter{t})}); err == nil || !strings.Contains(err.Error(), "carrier vg") {
		t.Fatalf("New with an unreadable Vonage key = %v, want an error naming carrier vg", err)
	}
}

// voice_otp and flash_call through (a local) Twilio: the answered voice
// call's TwiML speaks the code that verifies; the flash call's caller ID
// verifies, and ringgate cancels the call on Twilio's ringing callback.
func TestTwilioVoiceOTPAndFlashCall(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, public := twilioServer(t, fake, "voice_otp", "flash_call")
	callTo := func(to string) map[string]string {
		var call map[string]string
		waitFor(t, 10*time.Second, "a call to Twilio", func() bool {
			for _, r := range fake.requests() {
				if strings.HasSuffix(r["_path"], "/Calls.json") && r["To"] == to {
					call = r
					return true
				}
			}
			return false
		})
		return call
	}

	const voiceTo = "+447911123504"
	v := h.startChannel(map[string]any{"phone": voiceTo, "channel": "voice_otp"})
	id := v["id"].(string)
	call := callTo(voiceTo)
	if call["MachineDetection"] != "Enable" || !strings.HasPrefix(call["Url"], public+"/carriers/twilio/answer?id=") {
		t.Fatalf("voice call: %v", call)
	}
	code, doc := postTwilio(t, call["Url"], url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}}, true)
	if code != http.StatusOK || !strings.Contains(doc, "<Gather") {
		t.Fatalf("answer: %d %s", code, doc)
	}
	say := regexp.MustCompile(`<Say[^>]*>([^<]*)</Say>`).FindStringSubmatch(doc)
	if say == nil {
		t.Fatalf("no <Say> in %s", doc)
	}
	spoken := spokenCode(t, say[1])
	postTwilio(t, call["StatusCallback"], url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"completed"}, "AnsweredBy": {"human"}}, true)
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	h.mustStatus(h.check(id, map[string]any{"code": spoken}), http.StatusOK)
	var kinds []string
	for _, e := range stream.collect(t, 10*time.Second) {
		kinds = append(kinds, e.Event)
		if e.Event == "call.answered" {
			if out, _ := e.Data["outbound"].(map[string]any); out["answered_by"] != "human" || out["carrier"] != "twilio" {
				t.Errorf("call.answered: %v", out)
			}
		}
	}
	if !contains(kinds, "call.answered") || kinds[len(kinds)-1] != "verification.verified" {
		t.Fatalf("voice events %v", kinds)
	}

	const flashTo = "+447911123505"
	v = h.startChannel(map[string]any{"phone": flashTo, "channel": "flash_call"})
	id = v["id"].(string)
	call = callTo(flashTo)
	cli := call["From"]
	if cli == "" || cli == "+15005550006" || call["Twiml"] == "" || !strings.Contains(call["StatusCallback"], "drop=1") {
		t.Fatalf("flash call: %v", call)
	}
	postTwilio(t, call["StatusCallback"], url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"ringing"}}, true)
	var cancel map[string]string
	for _, r := range fake.requests() {
		if strings.HasSuffix(r["_path"], "/Calls/CA0123456789abcdef0123456789abcdef.json") {
			cancel = r
		}
	}
	if cancel["Status"] != "canceled" {
		t.Fatalf("no cancel on ringing: %v", fake.requests())
	}
	postTwilio(t, call["StatusCallback"], url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"canceled"}}, true)
	if ok := h.mustStatus(h.check(id, map[string]any{"cli": cli}), http.StatusOK); ok["valid"] != true {
		t.Fatalf("cli check: %v", ok)
	}
}

// A carrier that is slow with one command holds only that job's slot: a
// text started while Twilio sits on another reaches Twilio at once.
func TestSlowCarrierHoldsOnlyItsOwnJob(t *testing.T) {
	t.Parallel()
	const slowTo, fastTo = "+447911123601", "+447911123602"
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	fake := newFakeProvider(t, func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == twSID && p == twToken
	}, func(path string, f map[string]string) (int, string) {
		if f["To"] == slowTo {
			select {
			case <-release:
			case <-time.After(20 * time.Second):
			}
		}
		return 201, `{"sid": "SM0123456789abcdef0123456789abc` + f["To"][len(f["To"])-3:] + `", "status": "queued"}`
	})
	h, _ := twilioServer(t, fake, "sms_otp")
	sent := func(to string) bool {
		for _, r := range fake.requests() {
			if r["To"] == to {
				return true
			}
		}
		return false
	}
	h.startChannel(map[string]any{"phone": slowTo, "channel": "sms_otp"})
	waitFor(t, 10*time.Second, "the slow text at Twilio", func() bool { return sent(slowTo) })
	h.startChannel(map[string]any{"phone": fastTo, "channel": "sms_otp"})
	waitFor(t, 5*time.Second, "the second text at Twilio while the first is still held", func() bool { return sent(fastTo) })
	once.Do(func() { close(release) })
}
