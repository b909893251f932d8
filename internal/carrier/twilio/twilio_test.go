package twilio

import (
	"context"
	"encoding/xml"
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
	sid   = "AC00000000000000000000000000000001"
	token = "tok-secret-0001"
)

// The example in Twilio's "Webhooks security" guide
// (https://www.twilio.com/docs/usage/security#validating-requests): auth
// token 12345, URL https://mycompany.com/myapp.php?foo=1&bar=2, five POST
// parameters, signature 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
func TestSignaturePublishedVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	const u, want = "https://mycompany.com/myapp.php?foo=1&bar=2", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := Signature("12345", u, params); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	if !ValidSignature("12345", want, u, params) {
		t.Fatal("the published signature does not validate")
	}
	params.Set("Digits", "1235")
	if ValidSignature("12345", want, u, params) {
		t.Fatal("a changed parameter still validates")
	}
	params.Set("Digits", "1234")
	for _, bad := range []struct{ tok, sig, u string }{
		{"12346", want, u}, {"12345", want, u + "&x=1"}, {"12345", "", u}, {"12345", want[:len(want)-1], u},
	} {
		if ValidSignature(bad.tok, bad.sig, bad.u, params) {
			t.Errorf("validates with %+v", bad)
		}
	}
}

// newEvents is the domain side of a carrier under test.
func newEvents() *carriertest.Recorder {
	ev := &carriertest.Recorder{}
	ev.Answer(carrier.Disposition{Action: carrier.Reject, SIPStatus: 603, VerificationID: "v1"})
	return ev
}

// fakeTwilio is a local Twilio REST API: it checks each request as
// Twilio's API reference documents it (path with the account SID, basic
// auth, form fields) and answers as Twilio does, errors included.
type fakeTwilio struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	forms  map[string][]url.Values // by path
	answer func(path string, form url.Values) (int, string)
}

func newFake(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, forms: map[string][]url.Values{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := r.BasicAuth()
	if !ok || user != sid || pass != token {
		w.WriteHeader(401)
		io.WriteString(w, `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`)
		return
	}
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.t.Errorf("%s %s with %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	prefix := "/2010-04-01/Accounts/" + sid
	if !strings.HasPrefix(r.URL.Path, prefix+"/") {
		w.WriteHeader(404)
		io.WriteString(w, `{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`)
		return
	}
	r.ParseForm()
	path := strings.TrimPrefix(r.URL.Path, prefix)
	f.mu.Lock()
	f.forms[path] = append(f.forms[path], r.PostForm)
	f.mu.Unlock()
	status, body := 201, ""
	if f.answer != nil {
		status, body = f.answer(path, r.PostForm)
	}
	if body == "" {
		switch {
		case path == "/Calls.json":
			body = `{"sid": "CA11111111111111111111111111111111", "account_sid": "` + sid + `", "status": "queued", "to": "` + r.PostForm.Get("To") + `", "from": "` + r.PostForm.Get("From") + `", "api_version": "2010-04-01"}`
		case path == "/Messages.json":
			body = `{"sid": "SM22222222222222222222222222222222", "account_sid": "` + sid + `", "status": "queued", "body": "` + r.PostForm.Get("Body") + `", "num_segments": "1"}`
		case strings.HasPrefix(path, "/Calls/"):
			status = 200
			body = `{"sid": "` + strings.TrimSuffix(strings.TrimPrefix(path, "/Calls/"), ".json") + `", "status": "canceled"}`
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeTwilio) form(path string, i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms[path]) <= i {
		f.t.Fatalf("no request %d to %s (have %v)", i, path, f.forms)
	}
	return f.forms[path][i]
}

// testConfig is the account the tests use: its API at apiBase, called
// back at public, reporting to rec.
func testConfig(rec *carriertest.Recorder, apiBase, public string) Config {
	return Config{
		Name: "tw", AccountSID: sid, AuthToken: token, APIBase: apiBase, PublicURL: public,
		From: []string{"+15005550006"}, Country: "US", Secret: []byte("0123456789abcdef0123456789abcdef"),
		Inbound: rec, Events: rec,
	}
}

// rig is a carrier under test, served the way the server mounts it.
type rig struct {
	c    *Carrier
	ev   *carriertest.Recorder
	fake *fakeTwilio
	pub  *httptest.Server
}

func newRig(t *testing.T) *rig {
	r := &rig{ev: newEvents(), fake: newFake(t)}
	r.c, r.pub = carriertest.Serve(t, func(public string) (*Carrier, error) {
		return New(testConfig(r.ev, r.fake.srv.URL, public))
	})
	return r
}

// post sends a webhook as Twilio would, signed unless sig is "-" (none)
// or another explicit value.
func (r *rig) post(t *testing.T, rawURL string, params url.Values, sig string) (int, string) {
	t.Helper()
	if sig == "" {
		sig = Signature(token, rawURL, params)
	}
	req := carriertest.FormPost(rawURL, params)
	if sig != "-" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	return carriertest.Do(t, req)
}

func TestSendSMSAndDeliveryCallback(t *testing.T) {
	r := newRig(t)
	ref, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "job-1", To: "+447700900123", Text: "Your code is 123456"})
	if err != nil || ref != "SM22222222222222222222222222222222" {
		t.Fatalf("SendSMS = %q, %v", ref, err)
	}
	f := r.fake.form("/Messages.json", 0)
	cb := r.pub.URL + "/carriers/tw/sms-status?id=job-1"
	for k, want := range map[string]string{"To": "+447700900123", "From": "+15005550006", "Body": "Your code is 123456", "StatusCallback": cb} {
		if f.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}
	base := url.Values{"MessageSid": {ref}, "AccountSid": {sid}, "From": {"+15005550006"}, "To": {"+447700900123"}, "ApiVersion": {"2010-04-01"}}
	for _, st := range []string{"queued", "sent", "delivered"} {
		p := url.Values{}
		for k, v := range base {
			p[k] = v
		}
		p.Set("MessageStatus", st)
		p.Set("SmsStatus", st)
		if code, body := r.post(t, cb, p, ""); code != 204 {
			t.Fatalf("%s: %d %s", st, code, body)
		}
	}
	if got := carriertest.Kinds(r.ev.Events()); got != "sms_delivered" {
		t.Fatalf("events %q", got)
	}
	if r.ev.Events()[0].ID != "job-1" || r.ev.Events()[0].Carrier != "tw" {
		t.Fatalf("event %+v", r.ev.Events()[0])
	}
	base.Set("MessageStatus", "undelivered")
	base.Set("ErrorCode", "30003")
	r.post(t, cb, base, "")
	if got := carriertest.Kinds(r.ev.Events()); got != "sms_delivered sms_failed:undelivered" {
		t.Fatalf("events %q", got)
	}
}

func TestAPIErrorsClassified(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		status int
		body   string
		retry  bool
		code   string
	}{
		{400, `{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`, false, "21211"},
		{400, `{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}`, false, "21610"},
		{429, `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`, true, "20429"},
		{503, `{"code": 20503, "message": "Service unavailable", "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503}`, true, "20503"},
		{502, `<html>Bad gateway</html>`, true, "http_502"},
	}
	for _, tc := range cases {
		r.fake.answer = func(string, url.Values) (int, string) { return tc.status, tc.body }
		_, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "j", To: "+1555", Text: "x"})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != tc.retry || ce.Code != tc.code || ce.Carrier != "tw" {
			t.Errorf("HTTP %d: %v (%+v)", tc.status, err, ce)
		}
		_, err = r.c.PlaceCall(context.Background(), carrier.Call{ID: "j", To: "+1555", OnAnswer: carrier.HangUp})
		if carrier.Retryable(err) != tc.retry {
			t.Errorf("call, HTTP %d: %v", tc.status, err)
		}
	}
	// Wrong credentials: the fake answers 401 / 20003, terminal.
	r.fake.answer = nil
	r.c.cfg.AuthToken = "wrong"
	_, err := r.c.SendSMS(context.Background(), carrier.SMS{ID: "j", To: "+1555", Text: "x"})
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Retryable || ce.Code != "20003" {
		t.Fatalf("401: %v", err)
	}
}

func TestFlashCallCancelledOnRinging(t *testing.T) {
	r := newRig(t)
	ref, err := r.c.PlaceCall(context.Background(), carrier.Call{
		ID: "job-2", Channel: "flash_call", From: "+441234567890", To: "+447700900123",
		RingTimeout: 12 * time.Second, DropOnRing: true, OnAnswer: carrier.HangUp,
	})
	if err != nil || ref != "CA11111111111111111111111111111111" {
		t.Fatalf("PlaceCall = %q, %v", ref, err)
	}
	f := r.fake.form("/Calls.json", 0)
	cb := r.pub.URL + "/carriers/tw/call-status?drop=1&id=job-2"
	for k, want := range map[string]string{
		"To": "+447700900123", "From": "+441234567890", "Timeout": "12", "StatusCallback": cb,
		"StatusCallbackMethod": "POST", "Twiml": `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Hangup/></Response>",
	} {
		if f.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}
	if got := strings.Join(f["StatusCallbackEvent"], ","); got != "initiated,ringing,answered,completed" {
		t.Errorf("StatusCallbackEvent = %s", got)
	}
	if f.Get("Url") != "" || f.Get("MachineDetection") != "" {
		t.Errorf("flash call with Url/AMD: %v", f)
	}
	st := func(status string) url.Values {
		return url.Values{"CallSid": {ref}, "AccountSid": {sid}, "CallStatus": {status}, "Direction": {"outbound-api"}, "To": {"+447700900123"}}
	}
	r.post(t, cb, st("initiated"), "")
	if code, body := r.post(t, cb, st("ringing"), ""); code != 204 {
		t.Fatalf("ringing: %d %s", code, body)
	}
	cancel := r.fake.form("/Calls/"+ref+".json", 0)
	if cancel.Get("Status") != "canceled" {
		t.Fatalf("cancel form %v", cancel)
	}
	r.post(t, cb, st("canceled"), "")
	if got := carriertest.Kinds(r.ev.Events()); got != "ringing ended:dropped" {
		t.Fatalf("events %q", got)
	}
}

func TestAnswerCallStatuses(t *testing.T) {
	r := newRig(t)
	_, err := r.c.PlaceCall(context.Background(), carrier.Call{ID: "job-3", Channel: "answer_call", To: "+447700900123", OnAnswer: carrier.HangUp})
	if err != nil {
		t.Fatal(err)
	}
	f := r.fake.form("/Calls.json", 0)
	if f.Get("From") != "+15005550006" {
		t.Errorf("default caller ID not used: %v", f.Get("From"))
	}
	cb := f.Get("StatusCallback")
	// The answer is judged by machine detection, and reported at /answered.
	answered := f.Get("Url")
	if f.Get("MachineDetection") != "Enable" || f.Get("Method") != "POST" || f.Get("Twiml") != "" ||
		!strings.HasPrefix(answered, r.pub.URL+"/carriers/tw/answered?id=job-3&s=") || !strings.Contains(cb, "ivr=1") {
		t.Errorf("answer_call form: %v", f)
	}
	for _, p := range []url.Values{
		{"CallSid": {"CA1"}, "CallStatus": {"ringing"}},
		{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}},
	} {
		r.post(t, cb, p, "")
	}
	code, body := r.post(t, answered, url.Values{"CallSid": {"CA1"}, "AnsweredBy": {"human"}}, "")
	if code != 200 || !strings.Contains(body, "<Hangup/>") {
		t.Fatalf("/answered: %d %s", code, body)
	}
	// The token is bound to the call: another call's id is refused.
	other := strings.Replace(answered, "id=job-3", "id=job-4", 1)
	if code, _ := r.post(t, other, url.Values{"CallSid": {"CA1"}, "AnsweredBy": {"human"}}, ""); code != 400 {
		t.Fatalf("/answered with another call's token: %d", code)
	}
	r.post(t, cb, url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "CallDuration": {"1"}}, "")
	if got := carriertest.Kinds(r.ev.Events()); got != "ringing answered:human ended:completed" {
		t.Fatalf("events %q", got)
	}
	for in, want := range map[string]string{"busy": "busy", "no-answer": "no_answer", "failed": "failed"} {
		e, final := callEvent(url.Values{"CallStatus": {in}}, false)
		if !final || e.Cause != want {
			t.Errorf("%s → %+v", in, e)
		}
	}
	if e, _ := callEvent(url.Values{"CallStatus": {"failed"}, "SipResponseCode": {"404"}}, false); e.Cause != carrier.CauseUnreachable {
		t.Errorf("failed/404 → %s", e.Cause)
	}
}

var actionRE = regexp.MustCompile(`action="([^"]+)"`)

func TestVoiceOTPRunsTheDialplanThroughGathers(t *testing.T) {
	r := newRig(t)
	_, err := r.c.PlaceCall(context.Background(), carrier.Call{
		ID: "job-4", Channel: "voice_otp", To: "+447700900123", OnAnswer: carrier.RunDialplan,
		Dialplan: ivr.Default(), Vars: map[string]string{"code": "4711", "app": "Acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := r.fake.form("/Calls.json", 0)
	if f.Get("MachineDetection") != "Enable" || f.Get("Method") != "POST" || f.Get("Twiml") != "" {
		t.Fatalf("voice call form %v", f)
	}
	answer := f.Get("Url")
	if !strings.HasPrefix(answer, r.pub.URL+"/carriers/tw/answer?id=job-4&s=") || strings.Contains(answer, "4711") {
		t.Fatalf("Url %q", answer)
	}
	code, doc := r.post(t, answer, url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}}, "")
	if code != 200 {
		t.Fatalf("answer: %d %s", code, doc)
	}
	wellFormed(t, doc)
	if !strings.Contains(doc, `<Gather input="dtmf" numDigits="1" timeout="4" actionOnEmptyResult="true" method="POST"`) ||
		!strings.Contains(doc, "<Say voice=\"woman\">Hello, your Acme verification code is 4 7 1 1.") {
		t.Fatalf("answer TwiML %s", doc)
	}
	gather := html(actionRE.FindStringSubmatch(doc)[1])
	// Press 1: the code again.
	_, doc = r.post(t, gather, url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}, "")
	if !strings.Contains(doc, "4 7 1 1") || !strings.Contains(doc, "<Gather") {
		t.Fatalf("repeat TwiML %s", doc)
	}
	// A forged session token is refused without running anything.
	u, _ := url.Parse(gather)
	q := u.Query()
	q.Set("s", q.Get("s")[:20]+"AAAA"+q.Get("s")[24:])
	u.RawQuery = q.Encode()
	if code, _ := r.post(t, u.String(), url.Values{"Digits": {"1"}}, ""); code != 400 {
		t.Fatalf("tampered token: %d", code)
	}
	// Silence: the menu's timeout hangs up.
	gather = html(actionRE.FindStringSubmatch(doc)[1])
	_, doc = r.post(t, gather, url.Values{"CallSid": {"CA1"}, "Digits": {""}}, "")
	if !strings.HasSuffix(doc, "<Response><Hangup/></Response>") {
		t.Fatalf("timeout TwiML %s", doc)
	}
	r.post(t, f.Get("StatusCallback"), url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}}, "")
	r.post(t, f.Get("StatusCallback"), url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "AnsweredBy": {"human"}}, "")
	if got := carriertest.Kinds(r.ev.Events()); got != "answered:human prompt dtmf:1 prompt ended:completed" {
		t.Fatalf("events %q", got)
	}
}

func TestVoiceOTPMachineHangsUpSilently(t *testing.T) {
	r := newRig(t)
	r.c.PlaceCall(context.Background(), carrier.Call{ID: "job-5", To: "+447700900123", OnAnswer: carrier.RunDialplan, Dialplan: ivr.Default(), Vars: map[string]string{"code": "1"}})
	f := r.fake.form("/Calls.json", 0)
	_, doc := r.post(t, f.Get("Url"), url.Values{"CallSid": {"CA1"}, "AnsweredBy": {"machine_start"}}, "")
	if !strings.HasSuffix(doc, "<Response><Hangup/></Response>") {
		t.Fatalf("machine TwiML %s", doc)
	}
	r.post(t, f.Get("StatusCallback"), url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "AnsweredBy": {"machine_start"}}, "")
	if got := carriertest.Kinds(r.ev.Events()); got != "answered:machine ended:machine" {
		t.Fatalf("events %q", got)
	}
}

func TestInboundCallRejected(t *testing.T) {
	r := newRig(t)
	u := r.pub.URL + "/carriers/tw/voice"
	p := url.Values{"CallSid": {callSid9}, "AccountSid": {sid}, "From": {"+447700900123"}, "To": {"+15005550006"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	code, doc := r.post(t, u, p, "")
	if code != 200 || !strings.HasSuffix(doc, `<Response><Reject reason="rejected"/></Response>`) {
		t.Fatalf("voice: %d %s", code, doc)
	}
	wellFormed(t, doc)
	if len(r.ev.Inbound()) != 1 || r.ev.Inbound()[0].From != "+447700900123" || r.ev.Inbound()[0].To != "+15005550006" || r.ev.Inbound()[0].CallID != callSid9 || r.ev.Inbound()[0].Country != "US" || r.ev.Inbound()[0].Carrier != "tw" {
		t.Fatalf("inbound %+v", r.ev.Inbound())
	}
	// The store is down: 503, so Twilio tries the fallback URL.
	r.ev.Fail(errors.New("down"))
	if code, _ := r.post(t, u, p, ""); code != 503 {
		t.Fatalf("handler failure: %d", code)
	}
}

func TestUnsignedWebhooksRefused(t *testing.T) {
	r := newRig(t)
	u := r.pub.URL + "/carriers/tw/voice"
	p := url.Values{"CallSid": {"CA9"}, "From": {"+447700900123"}, "To": {"+15005550006"}}
	for i, sig := range []string{"-", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", Signature("other-token", u, p), Signature(token, u+"?x=1", p)} {
		code, body := r.post(t, u, p, sig)
		if code != 403 || !strings.Contains(body, `"status":403`) {
			t.Fatalf("signature %d: %d %s", i, code, body)
		}
		if got := r.c.Rejected(); got != uint64(i+1) {
			t.Fatalf("Rejected = %d after %d refusals", got, i+1)
		}
	}
	if len(r.ev.Inbound()) != 0 {
		t.Fatal("an unsigned call reached the handler")
	}
	// Unknown paths get problem JSON, not a Twilio answer.
	res, _ := http.Post(r.pub.URL+"/carriers/tw/nope", "application/x-www-form-urlencoded", nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown path: %d %s", res.StatusCode, b)
	}
}

func TestNewValidates(t *testing.T) {
	ev := newEvents()
	good := Config{Name: "tw", AccountSID: sid, AuthToken: token, PublicURL: "https://rg.example", Secret: make([]byte, 32), Inbound: ev, Events: ev}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Config){
		func(c *Config) { c.AccountSID = "XX1" },
		func(c *Config) { c.AuthToken = "" },
		func(c *Config) { c.PublicURL = "" },
		func(c *Config) { c.Secret = nil },
		func(c *Config) { c.Events = nil },
	} {
		c := good
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func wellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, doc)
		}
	}
}

const callSid9 = "CA00000000000000000000000000000009"

// An inbound call must carry a well-formed CallSid (the key of replay
// dedupe) and this account's AccountSid.
func TestInboundCallNeedsCallSidAndAccount(t *testing.T) {
	r := newRig(t)
	u := r.pub.URL + "/carriers/tw/voice"
	base := url.Values{"CallSid": {callSid9}, "AccountSid": {sid}, "From": {"+447700900123"}, "To": {"+15005550006"}, "CallStatus": {"ringing"}}
	for name, tc := range map[string]struct {
		k, v string
		want int
	}{
		"no CallSid":        {"CallSid", "", 400},
		"short CallSid":     {"CallSid", "CA9", 400},
		"CallSid absorbing": {"CallSid", callSid9 + "CallStatusringing", 400},
		"no AccountSid":     {"AccountSid", "", 403},
		"another account":   {"AccountSid", "AC00000000000000000000000000000002", 403},
	} {
		p := url.Values{}
		for k, v := range base {
			p[k] = v
		}
		if tc.v == "" {
			delete(p, tc.k)
		} else {
			p.Set(tc.k, tc.v)
		}
		if code, body := r.post(t, u, p, ""); code != tc.want {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if len(r.ev.Inbound()) != 0 {
		t.Fatalf("refused calls reached the domain: %+v", r.ev.Inbound())
	}
}

// html undoes the attribute escaping of a URL in TwiML.
func html(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

// Twilio may sign https://host/… as https://host:443/… or the reverse.
func TestSignatureWithDefaultPortEitherWay(t *testing.T) {
	ev := newEvents()
	for _, tc := range []struct{ public, signed string }{
		{"https://rg.example", "https://rg.example:443/carriers/tw/voice"},
		{"https://rg.example:443", "https://rg.example/carriers/tw/voice"},
	} {
		c, err := New(Config{Name: "tw", AccountSID: sid, AuthToken: token, PublicURL: tc.public, Secret: make([]byte, 32), Inbound: ev, Events: ev})
		if err != nil {
			t.Fatal(err)
		}
		p := url.Values{"From": {"+447700900123"}, "To": {"+15005550006"}, "CallSid": {callSid9}, "AccountSid": {sid}}
		req := httptest.NewRequest("POST", "/voice", strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", Signature(token, tc.signed, p))
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("public %s, signed %s: %d %s", tc.public, tc.signed, rec.Code, rec.Body)
		}
	}
	if otherPort("https://rg.example:8443/x") != "" {
		t.Error("a non-default port was toggled")
	}
}
