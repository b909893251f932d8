package plivo

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/ivr"
)

const (
	authID    = "MAXXXXXXXXXXXXXXXXXX"
	authToken = "my_auth_token_0123456789abcdef"
)

// fakePlivo answers like Plivo's Call and Message APIs and checks every
// request as the API reference documents it.
type fakePlivo struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	calls     []map[string]any
	hangups   []string
	cancels   []string // request_uuids of DELETE …/Request/{uuid}/
	messages  []map[string]any
	status    int    // scripted error status for the next requests; 0: success
	errorBody string // and its body
}

func newFakePlivo(t *testing.T) *fakePlivo {
	f := &fakePlivo{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePlivo) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake plivo: "+format, args...)
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, `{"api_id":"test","error":"the test fake refused the request"}`)
}

func (f *fakePlivo) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != authID || p != authToken {
		f.fail(w, "basic auth %q", r.Header.Get("Authorization"))
		return
	}
	prefix := "/v1/Account/" + authID
	body, _ := io.ReadAll(r.Body)
	decode := func() (map[string]any, bool) {
		if r.Header.Get("Content-Type") != "application/json" {
			f.fail(w, "content type %q", r.Header.Get("Content-Type"))
			return nil, false
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			f.fail(w, "body %s", body)
			return nil, false
		}
		return m, true
	}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		io.WriteString(w, f.errorBody)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == prefix+"/Call/":
		m, ok := decode()
		if !ok {
			return
		}
		f.calls = append(f.calls, m)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"api_id":"97ceeb52-58b6-11e1-86da-77300b68f8bb","message":"call fired","request_uuid":"9834029e-58b6-11e1-8ea7-1231380bc196"}`)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, prefix+"/Request/") && strings.HasSuffix(r.URL.Path, "/"):
		f.cancels = append(f.cancels, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"/Request/"), "/"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, prefix+"/Call/") && strings.HasSuffix(r.URL.Path, "/"):
		f.hangups = append(f.hangups, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"/Call/"), "/"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == prefix+"/Message/":
		m, ok := decode()
		if !ok {
			return
		}
		f.messages = append(f.messages, m)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"api_id":"db342550-7f1d-11e1-8ea7-1231380bc196","message":"message(s) queued","message_uuid":["db3ce55a-7f1d-11e1-8ea7-1231380bc196"]}`)
	default:
		f.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
	}
}

// testConfig is the account the tests use: its API at apiBase, called
// back at public, reporting to rec.
func testConfig(rec *carriertest.Recorder, apiBase, public string) Config {
	return Config{
		Name: "pl", AuthID: authID, AuthToken: authToken, APIBase: apiBase, PublicURL: public,
		From: []string{"+14155550100"}, Country: "US", Secret: []byte("0123456789abcdef0123456789abcdef"),
		Inbound: rec, Events: rec,
	}
}

type bundle struct {
	fake *fakePlivo
	hook *httptest.Server
	c    *Carrier
	rec  *carriertest.Recorder
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{fake: newFakePlivo(t), rec: &carriertest.Recorder{}}
	b.c, b.hook = carriertest.Serve(t, func(public string) (*Carrier, error) {
		return New(testConfig(b.rec, b.fake.srv.URL, public))
	})
	return b
}

var nonceN sync.Mutex
var nonceI int

// plivoPost posts a form callback signed as Plivo signs them (V3; "v2"
// for the V2 scheme, "" for none; token the key).
func plivoPost(t *testing.T, target string, params url.Values, scheme, token string) (*http.Response, []byte) {
	t.Helper()
	return carriertest.Send(t, signedPost(target, params, scheme, token))
}

// plivoXML is the part of a Plivo XML document the tests read.
type plivoXML struct {
	XMLName   xml.Name `xml:"Response"`
	Speak     []speak  `xml:"Speak"`
	GetDigits *struct {
		Action    string  `xml:"action,attr"`
		Method    string  `xml:"method,attr"`
		Timeout   string  `xml:"timeout,attr"`
		NumDigits string  `xml:"numDigits,attr"`
		Speak     []speak `xml:"Speak"`
	} `xml:"GetDigits"`
	Redirect *struct {
		Method string `xml:"method,attr"`
		URL    string `xml:",chardata"`
	} `xml:"Redirect"`
	Hangup *struct {
		Reason string `xml:"reason,attr"`
	} `xml:"Hangup"`
}

type speak struct {
	Voice    string `xml:"voice,attr"`
	Language string `xml:"language,attr"`
	Text     string `xml:",chardata"`
}

func parseXML(t *testing.T, res *http.Response, b []byte) plivoXML {
	t.Helper()
	var d plivoXML
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("not Plivo XML: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("XML %s: %v", b, err)
	}
	return d
}

func callParams(status string, extra ...string) url.Values {
	p := url.Values{
		"CallUUID": {"6d5a1c2e-2bdb-4d0c-9a6b-4e5f9c2b1e11"}, "RequestUUID": {"9834029e-58b6-11e1-8ea7-1231380bc196"},
		"From": {"14155550100"}, "To": {"14155550123"}, "Direction": {"outbound"}, "CallStatus": {status},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p.Set(extra[i], extra[i+1])
	}
	return p
}

func TestVoiceOTPWalkthrough(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref, err := b.c.PlaceCall(t.Context(), carrier.Call{
		ID: "job_otp1", Channel: "voice_otp", To: "+14155550123", RingTimeout: 30 * time.Second,
		OnAnswer: carrier.RunDialplan, Dialplan: ivr.Default(), Vars: map[string]string{"code": "2517", "app": "Shop"},
	})
	if err != nil || ref != "9834029e-58b6-11e1-8ea7-1231380bc196" {
		t.Fatalf("ref %q err %v", ref, err)
	}
	got := b.fake.calls[0]
	want := map[string]any{"from": "14155550100", "to": "14155550123", "answer_method": "POST", "ring_method": "POST",
		"hangup_method": "POST", "ring_timeout": 30.0, "machine_detection": "true"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	answer, ring, hangup := got["answer_url"].(string), got["ring_url"].(string), got["hangup_url"].(string)
	for path, u := range map[string]string{"answer": answer, "ring": ring, "hangup": hangup} {
		if !strings.HasPrefix(u, b.hook.URL+"/carriers/pl/"+path+"?") || strings.Contains(u, "2517") {
			t.Errorf("%s URL %q", path, u)
		}
	}

	res, body := plivoPost(t, answer, callParams("in-progress", "Machine", "false"), "v3", authToken)
	d := parseXML(t, res, body)
	if d.GetDigits == nil || len(d.GetDigits.Speak) != 1 || d.Redirect == nil || d.Hangup != nil {
		t.Fatalf("answer XML %s", body)
	}
	if s := d.GetDigits.Speak[0]; !strings.Contains(s.Text, "2 5 1 7") || !strings.Contains(s.Text, "Shop") || s.Voice != "WOMAN" {
		t.Errorf("speak %+v", s)
	}
	if d.GetDigits.Timeout != "4" || d.GetDigits.NumDigits != "1" || d.GetDigits.Method != "POST" || strings.Contains(d.GetDigits.Action, "2517") {
		t.Errorf("GetDigits %+v", d.GetDigits)
	}
	// "1" repeats.
	res, body = plivoPost(t, d.GetDigits.Action, callParams("in-progress", "Digits", "1"), "v3", authToken)
	d = parseXML(t, res, body)
	if d.GetDigits == nil || !strings.Contains(d.GetDigits.Speak[0].Text, "2 5 1 7") {
		t.Fatalf("after 1: %s", body)
	}
	// Nothing pressed: Plivo follows the Redirect, and the call hangs up.
	res, body = plivoPost(t, strings.TrimSpace(d.Redirect.URL), callParams("in-progress"), "v3", authToken)
	if d = parseXML(t, res, body); d.Hangup == nil || d.GetDigits != nil {
		t.Fatalf("after silence: %s", body)
	}
	plivoPost(t, hangup, callParams("completed", "HangupCause", "NORMAL_CLEARING", "HangupCauseName", "Normal Hangup", "Duration", "21"), "v3", authToken)
	if got, want := carriertest.Kinds(b.rec.Events()), "answered:human prompt dtmf:1 prompt ended:completed"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

// A dialplan of the app's own travels whole in the sealed state.
func TestVoiceOTPCustomPlanAndMachine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	plan, err := ivr.Parse([]byte(`<dialplan name="p"><amd><machine><play>Call us back.</play><hangup/></machine></amd>` +
		`<menu name="m" maxDigits="2" timeout="2000"><play>Code {{code}}, press 42.</play><keypress pressed="42"><hangup/></keypress></menu></dialplan>`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ machine, want string }{{"true", "Call us back."}, {"false", "Code 9 9, press 42."}} {
		b.rec.Reset()
		if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_" + tc.machine, To: "+14155550123", OnAnswer: carrier.RunDialplan, Dialplan: plan, Vars: map[string]string{"code": "99"}}); err != nil {
			t.Fatal(err)
		}
		call := b.fake.calls[len(b.fake.calls)-1]
		res, body := plivoPost(t, call["answer_url"].(string), callParams("in-progress", "Machine", tc.machine), "v3", authToken)
		d := parseXML(t, res, body)
		var text string
		switch {
		case len(d.Speak) > 0:
			text = d.Speak[0].Text
		case d.GetDigits != nil:
			text = d.GetDigits.Speak[0].Text
			if d.GetDigits.NumDigits != "2" || d.GetDigits.Timeout != "2" {
				t.Errorf("GetDigits %+v", d.GetDigits)
			}
			res, body = plivoPost(t, d.GetDigits.Action, callParams("in-progress", "Digits", "42"), "v3", authToken)
			if d := parseXML(t, res, body); d.Hangup == nil {
				t.Errorf("after 42: %s", body)
			}
		}
		if text != tc.want {
			t.Errorf("Machine=%s: said %q, want %q (%s)", tc.machine, text, tc.want, body)
		}
		plivoPost(t, call["hangup_url"].(string), callParams("completed", "HangupCauseName", "Normal Hangup"), "v3", authToken)
	}
	if got := carriertest.Kinds(b.rec.Events()); got != "answered:human prompt dtmf:42 ended:completed" {
		t.Errorf("events of the human call %q", got)
	}
}

func TestFlashCallHangsUpOnRing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_flash", From: "+14155550177", To: "+14155550123",
		RingTimeout: 12 * time.Second, DropOnRing: true, OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	got := b.fake.calls[0]
	if got["from"] != "14155550177" || got["ring_timeout"] != 12.0 || got["time_limit"] != 1.0 || got["machine_detection"] != nil {
		t.Errorf("flash call body %v", got)
	}
	if res, body := plivoPost(t, got["ring_url"].(string), callParams("ringing"), "v3", authToken); res.StatusCode != 204 {
		t.Fatalf("ring: %d %s", res.StatusCode, body)
	}
	if len(b.fake.hangups) != 1 || b.fake.hangups[0] != "6d5a1c2e-2bdb-4d0c-9a6b-4e5f9c2b1e11" {
		t.Fatalf("hangups %v", b.fake.hangups)
	}
	plivoPost(t, got["hangup_url"].(string), callParams("cancel", "HangupCause", "ORIGINATOR_CANCEL", "HangupCauseName", "Cancelled"), "v3", authToken)
	if got := carriertest.Kinds(b.rec.Events()); got != "ringing ended:dropped" {
		t.Errorf("events %q", got)
	}
}

func TestAnswerCallAndCauses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_ans", To: "+14155550123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	call := b.fake.calls[0]
	if call["machine_detection"] != "true" || call["time_limit"] != nil {
		t.Errorf("answer call body %v", call)
	}
	res, body := plivoPost(t, call["answer_url"].(string), callParams("in-progress", "Machine", "false"), "v3", authToken)
	if d := parseXML(t, res, body); d.Hangup == nil || d.Hangup.Reason != "" || d.GetDigits != nil {
		t.Errorf("answer XML %s", body)
	}
	if got := carriertest.Kinds(b.rec.Events()); got != "answered:human" {
		t.Errorf("events %q", got)
	}
	for _, tc := range []struct{ status, name, cause string }{
		{"busy", "Busy Line", "busy"}, {"no-answer", "No Answer", "no_answer"}, {"timeout", "Ring Timeout Reached", "no_answer"},
		{"busy", "Rejected", "rejected"}, {"failed", "Invalid Destination Address", "unreachable"}, {"failed", "Internal Error", "failed"},
		{"completed", "Machine Detected", "machine"},
	} {
		b.rec.Reset()
		plivoPost(t, call["hangup_url"].(string), callParams(tc.status, "HangupCauseName", tc.name), "v3", authToken)
		if got := carriertest.Kinds(b.rec.Events()); got != "ended:"+tc.cause {
			t.Errorf("%s/%s: %q, want ended:%s", tc.status, tc.name, got, tc.cause)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		retry  bool
	}{
		{400, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"invalid to number"}`, false},
		{401, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"Authentication failed"}`, false},
		{402, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"Insufficient credit"}`, false},
		{404, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"not found"}`, false},
		{429, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"too many requests"}`, true},
		{500, `{"api_id":"c4b4b3a4-1f2d-11e8-a9ee-0242ac110002","error":"unexpected error"}`, true},
		{503, `Service Unavailable`, true},
	} {
		b := setup(t)
		b.fake.status, b.fake.errorBody = tc.status, tc.body
		_, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "j", To: "+14155550123", OnAnswer: carrier.HangUp})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != tc.retry {
			t.Errorf("call %d: %v, want retryable=%v", tc.status, err, tc.retry)
		}
		_, err = b.c.SendSMS(t.Context(), carrier.SMS{ID: "j", To: "+14155550123", Text: "x"})
		if !errors.As(err, &ce) || ce.Retryable != tc.retry {
			t.Errorf("sms %d: %v, want retryable=%v", tc.status, err, tc.retry)
		}
	}
	b := setup(t)
	b.fake.srv.Close()
	if _, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "j", To: "+14155550123", Text: "x"}); !carrier.Retryable(err) {
		t.Errorf("connection refused: %v", err)
	}
}

func TestSendSMSAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "job_sms1", To: "+14155550123", Text: "Your Shop code is 2517"})
	if err != nil || ref != "db3ce55a-7f1d-11e1-8ea7-1231380bc196" {
		t.Fatalf("ref %q err %v", ref, err)
	}
	m := b.fake.messages[0]
	statusURL, _ := m["url"].(string)
	if m["src"] != "14155550100" || m["dst"] != "14155550123" || m["text"] != "Your Shop code is 2517" || m["method"] != "POST" ||
		statusURL != b.hook.URL+"/carriers/pl/sms-status/job_sms1" || len(m) != 5 {
		t.Errorf("message body %v", m)
	}
	st := func(s string) url.Values {
		return url.Values{"Status": {s}, "MessageUUID": {"db3ce55a-7f1d-11e1-8ea7-1231380bc196"}, "From": {"14155550100"}, "To": {"14155550123"},
			"ErrorCode": {"0"}, "TotalRate": {"0.0035"}, "TotalAmount": {"0.0035"}, "Units": {"1"}, "MessageTime": {"2026-11-29 19:00:00"}}
	}
	for _, s := range []string{"queued", "sent", "delivered"} {
		if res, body := plivoPost(t, statusURL, st(s), "v2", authToken); res.StatusCode != 204 {
			t.Fatalf("%s: %d %s", s, res.StatusCode, body)
		}
	}
	fail := st("undelivered")
	fail.Set("ErrorCode", "30")
	plivoPost(t, statusURL, fail, "v3", authToken)
	if got := carriertest.Kinds(b.rec.Events()); got != "sms_delivered sms_failed:undelivered" {
		t.Errorf("events %q", got)
	}
	// A V2 signature (it covers the path, where the id is) replayed for
	// another message is refused.
	req, _ := http.NewRequest("POST", b.hook.URL+"/carriers/pl/sms-status/job_other", strings.NewReader(st("delivered").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Plivo-Signature-V2", signatureV2(authToken, statusURL, "n9"))
	req.Header.Set("X-Plivo-Signature-V2-Nonce", "n9")
	if res, err := carriertest.Client.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("replayed to another id: %v %v", res.StatusCode, err)
	}
}

func TestWebhooksRefuseBadSignatures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_x", To: "+14155550123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	hangup := b.fake.calls[0]["hangup_url"].(string)
	for name, send := range map[string]func() (*http.Response, []byte){
		"unsigned": func() (*http.Response, []byte) { return plivoPost(t, hangup, callParams("completed"), "", authToken) },
		"another token": func() (*http.Response, []byte) {
			return plivoPost(t, hangup, callParams("completed"), "v3", "not-the-token")
		},
		"v2 other token": func() (*http.Response, []byte) {
			return plivoPost(t, b.hook.URL+"/carriers/pl/sms-status/job_x", url.Values{"Status": {"delivered"}}, "v2", "nope")
		},
		"inbound unsigned": func() (*http.Response, []byte) {
			return plivoPost(t, b.hook.URL+"/carriers/pl/answer", callParams("ringing", "Direction", "inbound"), "", authToken)
		},
	} {
		if res, body := send(); res.StatusCode != 403 || !strings.Contains(res.Header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s", name, res.StatusCode, body)
		}
	}
	// Signed for other parameters than the ones sent.
	p := callParams("completed")
	req, _ := http.NewRequest("POST", hangup, strings.NewReader(callParams("busy").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Plivo-Signature-V3", signatureV3(authToken, hangup, "POST", "n1", p))
	req.Header.Set("X-Plivo-Signature-V3-Nonce", "n1")
	if res, err := carriertest.Client.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("tampered: %v %v", res.StatusCode, err)
	}
	if b.c.Rejected() != 5 {
		t.Errorf("Rejected() = %d, want 5", b.c.Rejected())
	}
	if carriertest.Kinds(b.rec.Events()) != "" || len(b.rec.Inbound()) != 0 {
		t.Errorf("refused webhooks reached the domain: %q %v", carriertest.Kinds(b.rec.Events()), b.rec.Inbound())
	}
}

func TestInboundMissedCall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const in1 = "0b6a7e3c-1f2d-4c5b-8a9e-7d6c5b4a3f21"
	p := url.Values{"CallUUID": {in1}, "From": {"14155550999"}, "To": {"14155550100"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	res, body := plivoPost(t, b.hook.URL+"/carriers/pl/answer", p, "v3", authToken)
	if d := parseXML(t, res, body); d.Hangup == nil || d.Hangup.Reason != "rejected" || d.GetDigits != nil || len(d.Speak) != 0 {
		t.Fatalf("inbound XML %s", body)
	}
	got := b.rec.Inbound()[0]
	got.At = time.Time{}
	// Plivo writes E.164 without its '+': the handler gets E.164.
	if want := (carrier.InboundCall{From: "+14155550999", To: "+14155550100", Country: "US", Carrier: "pl", CallID: in1}); got != want {
		t.Errorf("inbound %+v", got)
	}
	b.rec.Answer(carrier.Disposition{Action: carrier.Reject, SIPStatus: 486})
	if res, body := plivoPost(t, b.hook.URL+"/carriers/pl/answer", p, "v3", authToken); parseXML(t, res, body).Hangup.Reason != "busy" {
		t.Errorf("486: %s", body)
	}
	b.rec.FailNext(errors.New("store down"))
	if res, _ := plivoPost(t, b.hook.URL+"/carriers/pl/answer", p, "v3", authToken); res.StatusCode != 503 {
		t.Errorf("store down: %d", res.StatusCode)
	}
	// The inbound call's hangup callback is acknowledged and ignored.
	if res, _ := plivoPost(t, b.hook.URL+"/carriers/pl/hangup", url.Values{"CallUUID": {in1}, "CallStatus": {"completed"}}, "v3", authToken); res.StatusCode != 204 {
		t.Errorf("inbound hangup: %d", res.StatusCode)
	}
	if res, _ := plivoPost(t, b.hook.URL+"/carriers/pl/answer", url.Values{"CallUUID": {"x"}}, "v3", authToken); res.StatusCode != 400 {
		t.Errorf("inbound without From/To: %d", res.StatusCode)
	}
	if res, _ := plivoPost(t, b.hook.URL+"/carriers/pl/nope", p, "v3", authToken); res.StatusCode != 404 {
		t.Errorf("unknown route: %d", res.StatusCode)
	}
}

// A signature nonce is used once: the same signed request again is
// refused (403) and does not reach the domain, unless ringgate could not
// handle it the first time (5xx), when Plivo's retry must get through. V2
// is refused where V3 is required.
func TestNonceReplayAndV2Refused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	answer := b.hook.URL + "/carriers/pl/answer"
	p := url.Values{"CallUUID": {"0b6a7e3c-1f2d-4c5b-8a9e-7d6c5b4a3f22"}, "From": {"447700900123"}, "To": {"14155550100"}, "CallStatus": {"ringing"}}
	send := func(hdr ...string) int {
		req, _ := http.NewRequest("POST", answer, strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := carriertest.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	v3 := []string{"X-Plivo-Signature-V3", signatureV3(authToken, answer, "POST", "n-once", p), "X-Plivo-Signature-V3-Nonce", "n-once"}
	b.rec.FailNext(errors.New("store down"))
	if code := send(v3...); code != 503 {
		t.Fatalf("store down: %d", code)
	}
	if code := send(v3...); code != 200 {
		t.Fatalf("Plivo's retry after a 503: %d", code)
	}
	if code := send(v3...); code != 403 {
		t.Fatalf("replay: %d, want 403", code)
	}
	if code := send("X-Plivo-Signature-V2", signatureV2(authToken, answer, "n-v2"), "X-Plivo-Signature-V2-Nonce", "n-v2"); code != 403 {
		t.Fatalf("V2 on answer_url: %d, want 403", code)
	}
	if len(b.rec.Inbound()) != 1 || b.rec.Inbound()[0].From != "+447700900123" {
		t.Fatalf("inbound calls %+v, want the one", b.rec.Inbound())
	}
	if b.c.Rejected() != 2 {
		t.Errorf("Rejected() = %d, want 2", b.c.Rejected())
	}
}

// <Speak language> is the verification's language, also after a repeat.
func TestVoiceOTPSpeaksTheLocale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.c.PlaceCall(t.Context(), carrier.Call{
		ID: "job_fr", Channel: "voice_otp", To: "+14155550123", RingTimeout: 30 * time.Second,
		OnAnswer: carrier.RunDialplan, Dialplan: ivr.DefaultFor("fr"), Vars: map[string]string{"code": "2517", "app": "Shop", ivr.VarLanguage: "fr-FR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, body := plivoPost(t, b.fake.calls[0]["answer_url"].(string), callParams("in-progress", "Machine", "false"), "v3", authToken)
	d := parseXML(t, res, body)
	if s := d.GetDigits.Speak[0]; s.Language != "fr-FR" || !strings.HasPrefix(s.Text, "Bonjour, votre code de vérification Shop est 2 5 1 7") {
		t.Fatalf("speak %+v", s)
	}
	res, body = plivoPost(t, d.GetDigits.Action, callParams("in-progress", "Digits", "1"), "v3", authToken)
	if d = parseXML(t, res, body); d.GetDigits.Speak[0].Language != "fr-FR" || !strings.HasPrefix(d.GetDigits.Speak[0].Text, "Bonjour") {
		t.Fatalf("after 1: %s", body)
	}
}
