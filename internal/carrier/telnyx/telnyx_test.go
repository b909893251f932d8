package telnyx

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/ivr"
)

const (
	apiKey = "KEY0123456789ABCDEF_test"
	connID = "1293384261075731499"
	acct   = "f5586561-8ff0-4291-a51b-c7dfe4139ff9"
)

// Telnyx publishes no signature test vector, so the tests generate an
// Ed25519 key pair (a fixed seed, so failures reproduce) and sign as
// Telnyx documents: base64(Ed25519(timestamp + "|" + raw body)).
var priv = ed25519.NewKeyFromSeed([]byte("ringgate telnyx test seed 32 by!"))

func pubB64() string { return base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)) }

func sign(ts string, body []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, append([]byte(ts+"|"), body...)))
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"data":{"event_type":"message.finalized"}}`)
	ts := "1700000000"
	pub := priv.Public().(ed25519.PublicKey)
	if err := Verify(pub, ts, sign(ts, body), body, now); err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	for name, tc := range map[string]struct {
		ts, sig string
		body    []byte
		now     time.Time
	}{
		"no signature":   {ts, "", body, now},
		"no timestamp":   {"", sign(ts, body), body, now},
		"other body":     {ts, sign(ts, body), []byte(`{}`), now},
		"other ts":       {"1700000001", sign(ts, body), body, now},
		"stale":          {ts, sign(ts, body), body, now.Add(6 * time.Minute)},
		"future":         {ts, sign(ts, body), body, now.Add(-6 * time.Minute)},
		"other key":      {ts, base64.StdEncoding.EncodeToString(ed25519.Sign(other, append([]byte(ts+"|"), body...))), body, now},
		"not base64":     {ts, "%%%", body, now},
		"short":          {ts, base64.StdEncoding.EncodeToString([]byte("abc")), body, now},
		"ts not numeric": {"17e8", sign("17e8", body), body, now},
	} {
		if err := Verify(pub, tc.ts, tc.sig, tc.body, tc.now); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// newEvents is the domain side of a carrier under test.
func newEvents() *carriertest.Recorder {
	ev := &carriertest.Recorder{}
	ev.Answer(carrier.Disposition{Action: carrier.Reject, SIPStatus: 486})
	return ev
}

// fakeTelnyx is a local Telnyx API v2: Bearer auth, JSON bodies with the
// documented (case-sensitive) names, TeXML update-call as a form; it
// answers with Telnyx's documented bodies, errors included.
type fakeTelnyx struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   map[string][]map[string]any // JSON bodies (or forms) by path
	answer func(path string) (int, string)
}

func newFake(t *testing.T) *fakeTelnyx {
	f := &fakeTelnyx{t: t, reqs: map[string][]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelnyx) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+apiKey {
		w.WriteHeader(401)
		io.WriteString(w, `{"errors": [{"code": "10009", "title": "Authentication failed", "detail": "The API key looks malformed. Check that you copied it correctly.", "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10009"}}]}`)
		return
	}
	if r.Method != "POST" {
		f.t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	body, _ := io.ReadAll(r.Body)
	got := map[string]any{}
	switch ct := r.Header.Get("Content-Type"); ct {
	case "application/json":
		if err := json.Unmarshal(body, &got); err != nil {
			f.t.Errorf("%s: bad JSON %s", r.URL.Path, body)
		}
	case "application/x-www-form-urlencoded":
		form, _ := url.ParseQuery(string(body))
		for k := range form {
			got[k] = form.Get(k)
		}
	default:
		f.t.Errorf("%s: content type %q", r.URL.Path, ct)
	}
	f.mu.Lock()
	f.reqs[r.URL.Path] = append(f.reqs[r.URL.Path], got)
	f.mu.Unlock()
	if f.answer != nil {
		if status, b := f.answer(r.URL.Path); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, b)
			return
		}
	}
	switch {
	case r.URL.Path == "/texml/calls/"+connID:
		io.WriteString(w, `{"call_sid": "v3:call-control-id-1", "from": "`+got["From"].(string)+`", "to": "`+got["To"].(string)+`", "status": "queued"}`)
	case r.URL.Path == "/messages":
		io.WriteString(w, `{"data": {"record_type": "message", "direction": "outbound", "id": "40385f64-5717-4562-b3fc-2c963f66afa6", "type": "SMS", "to": [{"phone_number": "`+got["to"].(string)+`", "status": "queued", "carrier": "T-MOBILE USA, INC.", "line_type": "Wireless"}], "text": "x", "parts": 1}}`)
	case r.URL.Path == "/texml/calls/v3:call-control-id-1/update":
		io.WriteString(w, `{"data": {"sid": "v3:call-control-id-1", "status": "accepted"}}`)
	case strings.HasPrefix(r.URL.Path, "/texml/Accounts/"+acct+"/Calls/"):
		io.WriteString(w, `{"account_sid": "`+acct+`", "sid": "v3:call-control-id-1", "status": "completed"}`)
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"errors": [{"code": "10005", "title": "Resource not found", "detail": "The requested resource or URL could not be found."}]}`)
	}
}

func (f *fakeTelnyx) req(path string, i int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs[path]) <= i {
		f.t.Fatalf("no request %d to %s (have %v)", i, path, f.reqs)
	}
	return f.reqs[path][i]
}

// testConfig is the account the tests use: its API at apiBase, called
// back at public, reporting to rec.
func testConfig(rec *carriertest.Recorder, apiBase, public string) Config {
	return Config{
		Name: "tx", APIKey: apiKey, PublicKey: pubB64(), ConnectionID: connID, APIBase: apiBase,
		PublicURL: public, From: []string{"+13120001234"}, Country: "US", Secret: make([]byte, 32),
		Inbound: rec, Events: rec,
	}
}

type rig struct {
	c    *Carrier
	ev   *carriertest.Recorder
	fake *fakeTelnyx
	pub  *httptest.Server
}

func newRig(t *testing.T) *rig {
	r := &rig{ev: newEvents(), fake: newFake(t)}
	r.c, r.pub = carriertest.Serve(t, func(public string) (*Carrier, error) {
		return New(testConfig(r.ev, r.fake.srv.URL, public))
	})
	return r
}

// post sends a signed webhook (sig "-": unsigned).
func (r *rig) post(t *testing.T, rawURL, contentType, body, sig string) (int, string) {
	t.Helper()
	req := signedPost(rawURL, contentType, body, sig)
	if sig == "-" {
		req.Header.Del("telnyx-timestamp")
		req.Header.Del("telnyx-signature-ed25519")
	}
	return carriertest.Do(t, req)
}

const form = "application/x-www-form-urlencoded"

func TestSendSMSAndFinalizedWebhook(t *testing.T) {
	r := newRig(t)
	ref, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "job-1", To: "+13125550002", Text: "Your code is 123456"})
	if err != nil || ref != "40385f64-5717-4562-b3fc-2c963f66afa6" {
		t.Fatalf("SendSMS = %q, %v", ref, err)
	}
	got := r.fake.req("/messages", 0)
	hook := r.pub.URL + "/carriers/tx/sms-status?id=job-1"
	for k, want := range map[string]any{"from": "+13120001234", "to": "+13125550002", "text": "Your code is 123456", "webhook_url": hook, "use_profile_webhooks": false} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["messaging_profile_id"]; ok {
		t.Error("messaging_profile_id sent without one configured")
	}
	event := func(typ, status string) string {
		return `{"data": {"event_type": "` + typ + `", "id": "b301ed3f-1490-491f-995f-6e64e69674d4", "occurred_at": "2024-01-15T10:30:00.000+00:00", "payload": {"id": "` + ref + `", "record_type": "message", "direction": "outbound", "to": [{"phone_number": "+13125550002", "status": "` + status + `"}], "errors": []}, "record_type": "event"}, "meta": {"attempt": 1, "delivered_to": "` + hook + `"}}`
	}
	for _, e := range [][2]string{{"message.sent", "sent"}, {"message.finalized", "delivered"}} {
		if code, b := r.post(t, hook, "application/json", event(e[0], e[1]), ""); code != 200 {
			t.Fatalf("%s: %d %s", e[0], code, b)
		}
	}
	if got := carriertest.Kinds(r.ev.Events()); got != "sms_delivered" {
		t.Fatalf("events %q", got)
	}
	r.post(t, hook, "application/json", event("message.finalized", "delivery_failed"), "")
	if got := carriertest.Kinds(r.ev.Events()); got != "sms_delivered sms_failed:undelivered" {
		t.Fatalf("events %q", got)
	}
	if code, _ := r.post(t, hook, "application/json", `{"data": [`, ""); code != 400 {
		t.Fatalf("malformed JSON: %d", code)
	}
}

func TestAPIErrorsClassified(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct {
		status int
		body   string
		retry  bool
		code   string
	}{
		{422, `{"errors": [{"code": "10015", "title": "Invalid value for field", "detail": "The 'to' field must be E.164", "source": {"pointer": "/to"}}]}`, false, "10015"},
		{400, `{"errors": [{"code": "40310", "title": "Invalid 'to' address", "detail": "The 'to' address is not a valid phone number."}]}`, false, "40310"},
		{403, `{"errors": [{"code": "10010", "title": "Authorization failed", "detail": "You do not have permission"}]}`, false, "10010"},
		{429, `{"errors": [{"code": "10011", "title": "Too many requests", "detail": "Rate limit exceeded"}]}`, true, "10011"},
		{500, `{"errors": [{"code": "10007", "title": "Unexpected error", "detail": "An unexpected error occured."}]}`, true, "10007"},
		{503, `upstream unavailable`, true, "http_503"},
	} {
		r.fake.answer = func(string) (int, string) { return tc.status, tc.body }
		_, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "j", To: "+1", Text: "x"})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != tc.retry || ce.Code != tc.code {
			t.Errorf("HTTP %d: %v", tc.status, err)
		}
		_, err = r.c.PlaceCall(context.Background(), carrier.Call{ID: "j", To: "+1", OnAnswer: carrier.HangUp})
		if carrier.Retryable(err) != tc.retry {
			t.Errorf("call, HTTP %d: %v", tc.status, err)
		}
	}
	r.fake.answer = nil
	r.c.cfg.APIKey = "wrong"
	_, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "j", To: "+1", Text: "x"})
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Retryable || ce.Code != "10009" {
		t.Fatalf("401: %v", err)
	}
}

func TestFlashCallEndedOnRinging(t *testing.T) {
	r := newRig(t)
	ref, err := r.c.PlaceCall(context.Background(), carrier.Call{
		ID: "job-2", From: "+13129990000", To: "+13125550002", RingTimeout: 8 * time.Second, DropOnRing: true, OnAnswer: carrier.HangUp,
	})
	if err != nil || ref != "v3:call-control-id-1" {
		t.Fatalf("PlaceCall = %q, %v", ref, err)
	}
	got := r.fake.req("/texml/calls/"+connID, 0)
	cb := r.pub.URL + "/carriers/tx/call-status?drop=1&id=job-2"
	for k, want := range map[string]any{
		"To": "+13125550002", "From": "+13129990000", "Timeout": 8.0, "StatusCallback": cb, "StatusCallbackMethod": "POST",
		"StatusCallbackEvent": "initiated ringing answered completed", "Texml": `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Hangup/></Response>",
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["Url"]; ok {
		t.Error("Url sent for a flash call")
	}
	st := func(status string) string {
		return url.Values{"AccountSid": {acct}, "CallSid": {ref}, "CallSidLegacy": {ref}, "CallStatus": {status}, "CallbackSource": {"call-progress-events"},
			"ConnectionId": {connID}, "From": {"+13129990000"}, "To": {"+13125550002"}, "Timestamp": {"2024-01-15T10:30:00Z"}}.Encode()
	}
	if code, b := r.post(t, cb, form, st("ringing"), ""); code != 200 {
		t.Fatalf("ringing: %d %s", code, b)
	}
	upd := r.fake.req("/texml/Accounts/"+acct+"/Calls/"+ref, 0)
	if upd["Status"] != "completed" {
		t.Fatalf("update %v", upd)
	}
	r.post(t, cb, form, st("completed"), "")
	if got := carriertest.Kinds(r.ev.Events()); got != "ringing ended:dropped" {
		t.Fatalf("events %q", got)
	}
}

var actionRE = regexp.MustCompile(`action="([^"]+)"`)

func TestVoiceOTPThroughTeXML(t *testing.T) {
	r := newRig(t)
	_, err := r.c.PlaceCall(context.Background(), carrier.Call{
		ID: "job-4", To: "+13125550002", OnAnswer: carrier.RunDialplan, Dialplan: ivr.Default(),
		Vars: map[string]string{"code": "9902", "app": "Acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := r.fake.req("/texml/calls/"+connID, 0)
	answer, _ := got["Url"].(string)
	if got["MachineDetection"] != "Enable" || got["Method"] != "POST" || !strings.HasPrefix(answer, r.pub.URL+"/carriers/tx/answer?id=job-4&s=") || strings.Contains(answer, "9902") {
		t.Fatalf("call body %v", got)
	}
	code, doc := r.post(t, answer, form, url.Values{"CallSid": {"v3:x"}, "AnsweredBy": {"human"}}.Encode(), "")
	if code != 200 || !strings.Contains(doc, "code is 9 9 0 2") || !strings.Contains(doc, "<Gather") {
		t.Fatalf("answer: %d %s", code, doc)
	}
	gather := strings.ReplaceAll(actionRE.FindStringSubmatch(doc)[1], "&amp;", "&")
	_, doc = r.post(t, gather, form, url.Values{"CallSid": {"v3:x"}, "Digits": {"7"}}.Encode(), "")
	if !strings.Contains(doc, "9 9 0 2") { // a key that matches nothing replays the menu
		t.Fatalf("after 7: %s", doc)
	}
	gather = strings.ReplaceAll(actionRE.FindStringSubmatch(doc)[1], "&amp;", "&")
	_, doc = r.post(t, gather, form, url.Values{"CallSid": {"v3:x"}}.Encode(), "")
	if !strings.HasSuffix(doc, "<Response><Hangup/></Response>") {
		t.Fatalf("timeout: %s", doc)
	}
	r.post(t, got["StatusCallback"].(string), form, url.Values{"CallSid": {"v3:x"}, "CallStatus": {"completed"}, "AnsweredTime": {"2024-01-15T10:30:15Z"}}.Encode(), "")
	if got := carriertest.Kinds(r.ev.Events()); got != "answered:human prompt dtmf:7 prompt ended:completed" {
		t.Fatalf("events %q", got)
	}
}

func TestInboundRejectedAndUnsignedRefused(t *testing.T) {
	r := newRig(t)
	u := r.pub.URL + "/carriers/tx/voice"
	body := url.Values{"AccountSid": {acct}, "CallSid": {"v3:in"}, "From": {"+13125550002"}, "To": {"+13120001234"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}.Encode()
	code, doc := r.post(t, u, form, body, "")
	if code != 200 || !strings.HasSuffix(doc, `<Response><Reject reason="busy"/></Response>`) {
		t.Fatalf("voice: %d %s", code, doc)
	}
	if len(r.ev.Inbound()) != 1 || r.ev.Inbound()[0].From != "+13125550002" || r.ev.Inbound()[0].CallID != "v3:in" || r.ev.Inbound()[0].Carrier != "tx" {
		t.Fatalf("inbound %+v", r.ev.Inbound())
	}
	for i, sig := range []string{"-", sign("1", []byte(body)), base64.StdEncoding.EncodeToString(make([]byte, 64))} {
		code, b := r.post(t, u, form, body, sig)
		if code != 403 || !strings.Contains(b, `"status":403`) {
			t.Fatalf("sig %d: %d %s", i, code, b)
		}
		if r.c.Rejected() != uint64(i+1) {
			t.Fatalf("Rejected = %d", r.c.Rejected())
		}
	}
	if len(r.ev.Inbound()) != 1 {
		t.Fatal("an unsigned call reached the handler")
	}
	r.ev.Fail(errors.New("down"))
	if code, _ := r.post(t, u, form, body, ""); code != 503 {
		t.Fatalf("handler failure: %d", code)
	}
}

func TestNewValidates(t *testing.T) {
	ev := newEvents()
	good := Config{Name: "tx", APIKey: apiKey, PublicKey: pubB64(), PublicURL: "https://rg.example", Secret: make([]byte, 32), Inbound: ev, Events: ev}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	c, _ := New(good)
	if _, err := c.PlaceCall(context.Background(), carrier.Call{ID: "j", To: "+1"}); err == nil || carrier.Retryable(err) {
		t.Errorf("call without connection_id: %v", err)
	}
	for _, mut := range []func(*Config){
		func(c *Config) { c.APIKey = "" },
		func(c *Config) { c.PublicKey = "abc" },
		func(c *Config) { c.PublicURL = "ftp://x" },
		func(c *Config) { c.Secret = nil },
	} {
		c := good
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
