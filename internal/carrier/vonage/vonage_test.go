package vonage

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/ivr"
)

const (
	testAppID  = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
	testKey    = "abcd1234"
	testSecret = "abcdef0123456789"
	testSigSec = "sig-secret-0123456789"
)

var (
	keyOnce sync.Once
	testRSA *rsa.PrivateKey
)

func rsaKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testRSA = k
	})
	return testRSA
}

// kinds summarises the events rec recorded: kind, cause, digits.
func kinds(rec *carriertest.Recorder) []string {
	var out []string
	for _, e := range rec.Events() {
		s := string(e.Kind)
		if e.Cause != "" {
			s += ":" + e.Cause
		}
		if e.Digits != "" {
			s += ":" + e.Digits
		}
		out = append(out, s)
	}
	return out
}

// fakeVonage answers like Vonage's Voice and SMS APIs and checks every
// request field by field as the API reference documents it.
type fakeVonage struct {
	t   *testing.T
	pub *rsa.PublicKey
	srv *httptest.Server

	mu           sync.Mutex
	calls        []map[string]any
	hangups      []string
	hangupStatus int // answer hang-ups with this status (0: 204)
	sms          []url.Values
	// scripted answers: status and body; zero for the documented success
	callStatus int
	callBody   string
	smsStatus  int
	smsBody    string
}

func newFakeVonage(t *testing.T) *fakeVonage {
	f := &fakeVonage{t: t, pub: &rsaKey(t).PublicKey}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// checkAppJWT verifies a Voice API bearer token: RS256 by the
// application's key, with application_id, iat, exp and jti.
func (f *fakeVonage) checkAppJWT(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errors.New("no bearer token")
	}
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		return errors.New("not a JWT")
	}
	head, _ := b64.DecodeString(p[0])
	var h map[string]string
	if json.Unmarshal(head, &h) != nil || h["alg"] != "RS256" || h["typ"] != "JWT" {
		return errors.New("header " + string(head))
	}
	sig, _ := b64.DecodeString(p[2])
	sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	raw, _ := b64.DecodeString(p[1])
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	now := float64(time.Now().Unix())
	switch {
	case c["application_id"] != testAppID:
		return errors.New("application_id " + string(raw))
	case iat < now-60 || iat > now+60:
		return errors.New("iat not now")
	case exp <= iat || exp > iat+24*3600:
		return errors.New("exp")
	case c["jti"] == "" || c["jti"] == nil:
		return errors.New("no jti")
	}
	return nil
}

func (f *fakeVonage) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake vonage: "+format, args...)
	http.Error(w, "test fake refused the request", http.StatusBadRequest)
}

func (f *fakeVonage) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/calls":
		if err := f.checkAppJWT(r); err != nil {
			f.fail(w, "create call auth: %v", err)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			f.fail(w, "create call content type %q", r.Header.Get("Content-Type"))
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			f.fail(w, "create call body: %v", err)
			return
		}
		f.calls = append(f.calls, m)
		w.Header().Set("Content-Type", "application/json")
		if f.callStatus != 0 {
			w.WriteHeader(f.callStatus)
			io.WriteString(w, f.callBody)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356","status":"started","direction":"outbound","conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}`)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/calls/"):
		if err := f.checkAppJWT(r); err != nil {
			f.fail(w, "modify call auth: %v", err)
			return
		}
		var m map[string]string
		if json.Unmarshal(body, &m) != nil || m["action"] != "hangup" || len(m) != 1 {
			f.fail(w, "modify call body %s", body)
			return
		}
		f.hangups = append(f.hangups, strings.TrimPrefix(r.URL.Path, "/v1/calls/"))
		if f.hangupStatus != 0 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(f.hangupStatus)
			io.WriteString(w, `{"type":"https://developer.nexmo.com/api-errors#not-found","title":"Not Found","detail":"Call not found","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/sms/json":
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			f.fail(w, "sms content type %q", r.Header.Get("Content-Type"))
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			f.fail(w, "sms form: %v", err)
			return
		}
		f.sms = append(f.sms, form)
		w.Header().Set("Content-Type", "application/json")
		if f.smsStatus != 0 {
			w.WriteHeader(f.smsStatus)
		}
		if f.smsBody != "" {
			io.WriteString(w, f.smsBody)
			return
		}
		io.WriteString(w, `{"message-count":"1","messages":[{"to":"`+form.Get("to")+`","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14159265","message-price":"0.03330000","network":"12345","client-ref":"`+form.Get("client-ref")+`"}]}`)
	default:
		f.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
	}
}

// testConfig is the account the tests use: its APIs at apiBase, called
// back at public, reporting to rec.
func testConfig(t testing.TB, rec *carriertest.Recorder, apiBase, public string) Config {
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Name: "vg", APIKey: testKey, APISecret: testSecret, ApplicationID: testAppID,
		PrivateKey:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		SignatureSecret: testSigSec, APIBase: apiBase, PublicURL: public,
		From: []string{"+447700900001"}, Country: "GB", Secret: []byte("0123456789abcdef0123456789abcdef"),
		Inbound: rec, Events: rec,
	}
}

// bundle is what a test needs: the fake provider, ringgate's webhook
// server, the carrier and what reached the domain.
type bundle struct {
	fake *fakeVonage
	hook *httptest.Server
	c    *Carrier
	rec  *carriertest.Recorder
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{fake: newFakeVonage(t), rec: &carriertest.Recorder{}}
	b.c, b.hook = carriertest.Serve(t, func(public string) (*Carrier, error) {
		return New(testConfig(t, b.rec, b.fake.srv.URL, public))
	})
	return b
}

var jtiN atomic.Int64

// vonageHook sends a webhook signed as Vonage signs voice webhooks: a
// JWT (HS256, signature secret) whose payload_hash is the body's SHA-256.
func vonageHook(t *testing.T, method, target string, body []byte, secret string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	claims := map[string]any{"iat": time.Now().Unix(), "jti": "x" + strconv.FormatInt(jtiN.Add(1), 10), "iss": "Vonage", "api_key": testKey, "application_id": testAppID}
	if body != nil {
		rd = bytes.NewReader(body)
		sum := sha256.Sum256(body)
		claims["payload_hash"] = hex.EncodeToString(sum[:])
	}
	req, _ := http.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+signHS256(t, secret, claims))
	}
	return carriertest.Send(t, req)
}

func decodeNCCO(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var n []map[string]any
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatalf("not an NCCO: %s", b)
	}
	return n
}

func callInfoBody(status string) []byte {
	return []byte(`{"from":"447700900001","to":"447700900123","uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356","conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","status":"` + status + `","direction":"outbound","timestamp":"2026-11-29T19:00:00.000Z"}`)
}

func TestVoiceOTPWalkthrough(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref, err := b.c.PlaceCall(t.Context(), carrier.Call{
		ID: "job_otp1", Channel: "voice_otp", To: "+447700900123", RingTimeout: 30 * time.Second,
		OnAnswer: carrier.RunDialplan, Dialplan: ivr.Default(), Vars: map[string]string{"code": "2517", "app": "Shop"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ref != "63f61863-4a51-4f6b-86e1-46edebcf9356" {
		t.Errorf("ref %q", ref)
	}
	got := b.fake.calls[0]
	to, _ := json.Marshal(got["to"])
	from, _ := json.Marshal(got["from"])
	if string(to) != `[{"number":"447700900123","type":"phone"}]` || string(from) != `{"number":"447700900001","type":"phone"}` {
		t.Errorf("to %s from %s", to, from)
	}
	if got["answer_method"] != "POST" || got["event_method"] != "POST" || got["machine_detection"] != "hangup" || got["ringing_timer"] != 30.0 {
		t.Errorf("create call body %v", got)
	}
	answerURL := got["answer_url"].([]any)[0].(string)
	eventURL := got["event_url"].([]any)[0].(string)
	if !strings.HasPrefix(answerURL, b.hook.URL+"/carriers/vg/answer?") || !strings.HasPrefix(eventURL, b.hook.URL+"/carriers/vg/event?") {
		t.Fatalf("webhook URLs %q %q", answerURL, eventURL)
	}
	if strings.Contains(answerURL, "2517") || strings.Contains(answerURL, "2+5+1+7") {
		t.Fatal("the code is in the answer URL in the clear")
	}

	res, body := vonageHook(t, "POST", answerURL, callInfoBody("answered"), testSigSec)
	if res.StatusCode != 200 {
		t.Fatalf("answer: %d %s", res.StatusCode, body)
	}
	ncco := decodeNCCO(t, body)
	if len(ncco) != 2 || ncco[0]["action"] != "talk" || ncco[1]["action"] != "input" {
		t.Fatalf("answer NCCO %s", body)
	}
	if text := ncco[0]["text"].(string); !strings.Contains(text, "2 5 1 7") || !strings.Contains(text, "Shop") {
		t.Errorf("talk %q", text)
	}
	dtmf := ncco[1]["dtmf"].(map[string]any)
	if dtmf["maxDigits"] != 1.0 || dtmf["timeOut"] != 4.0 { // 3.5 s, rounded up
		t.Errorf("input %v", ncco[1])
	}
	inputURL := ncco[1]["eventUrl"].([]any)[0].(string)
	if !strings.HasPrefix(inputURL, b.hook.URL+"/carriers/vg/input?") || strings.Contains(inputURL, "2517") {
		t.Fatalf("input URL %q", inputURL)
	}

	// "1" repeats the code.
	res, body = vonageHook(t, "POST", inputURL, []byte(`{"speech":{"results":[]},"dtmf":{"digits":"1","timed_out":false},"from":"447700900123","to":"447700900001","uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356","conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","timestamp":"2026-11-29T19:00:05.000Z"}`), testSigSec)
	ncco = decodeNCCO(t, body)
	if res.StatusCode != 200 || len(ncco) != 2 || !strings.Contains(ncco[0]["text"].(string), "2 5 1 7") {
		t.Fatalf("after 1: %d %s", res.StatusCode, body)
	}
	inputURL = ncco[1]["eventUrl"].([]any)[0].(string)
	// Silence hangs up: an empty NCCO ends the call.
	res, body = vonageHook(t, "POST", inputURL, []byte(`{"dtmf":{"digits":"","timed_out":true},"uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}`), testSigSec)
	if res.StatusCode != 200 || len(decodeNCCO(t, body)) != 0 {
		t.Fatalf("after timeout: %d %s", res.StatusCode, body)
	}

	for _, st := range []string{"started", "ringing", "answered", "completed"} {
		if res, body := vonageHook(t, "POST", eventURL, callInfoBody(st), testSigSec); res.StatusCode != 204 {
			t.Fatalf("event %s: %d %s", st, res.StatusCode, body)
		}
	}
	want := "prompt dtmf:1 prompt ringing answered ended:completed"
	if got := strings.Join(kinds(b.rec), " "); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if len(b.fake.hangups) != 0 {
		t.Errorf("a voice_otp call was hung up by ringgate: %v", b.fake.hangups)
	}
}

func TestFlashCallHangsUpOnRinging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{
		ID: "job_flash", Channel: "flash_call", From: "+447700900555", To: "+447700900123",
		RingTimeout: 9500 * time.Millisecond, DropOnRing: true, OnAnswer: carrier.HangUp,
	}); err != nil {
		t.Fatal(err)
	}
	got := b.fake.calls[0]
	if got["ringing_timer"] != 10.0 || got["length_timer"] != 1.0 || got["machine_detection"] != nil {
		t.Errorf("flash call body %v", got)
	}
	if from, _ := json.Marshal(got["from"]); string(from) != `{"number":"447700900555","type":"phone"}` {
		t.Errorf("caller ID %s (the code is in it)", from)
	}
	eventURL := got["event_url"].([]any)[0].(string)
	vonageHook(t, "POST", eventURL, callInfoBody("ringing"), testSigSec)
	if len(b.fake.hangups) != 1 || b.fake.hangups[0] != "63f61863-4a51-4f6b-86e1-46edebcf9356" {
		t.Fatalf("hangups %v", b.fake.hangups)
	}
	vonageHook(t, "POST", eventURL, callInfoBody("cancelled"), testSigSec)
	if got := strings.Join(kinds(b.rec), " "); got != "ringing ended:dropped" {
		t.Errorf("events %q", got)
	}
	// Answered after all: the NCCO is empty, the call ends at once.
	answerURL := got["answer_url"].([]any)[0].(string)
	if _, body := vonageHook(t, "POST", answerURL, callInfoBody("answered"), testSigSec); len(decodeNCCO(t, body)) != 0 {
		t.Errorf("flash answer NCCO %s", body)
	}
}

func TestAnswerCallAndMachine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_ans", Channel: "answer_call", To: "+447700900123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	got := b.fake.calls[0]
	if got["machine_detection"] != "continue" || got["length_timer"] != float64(15) {
		t.Errorf("answer_call body %v", got)
	}
	// The answer is held in silence until machine detection has judged it.
	if _, body := vonageHook(t, "POST", got["answer_url"].([]any)[0].(string), callInfoBody("answered"), testSigSec); !strings.Contains(string(body), `"action":"talk"`) || !strings.Contains(string(body), "break time") {
		t.Errorf("answer_call NCCO %s", body)
	}
	eventURL := got["event_url"].([]any)[0].(string)
	for _, st := range []string{"answered", "machine", "completed"} {
		vonageHook(t, "POST", eventURL, callInfoBody(st), testSigSec)
	}
	if got := strings.Join(kinds(b.rec), " "); got != "answered answered ended:machine" {
		t.Errorf("events %q", got)
	}
	if by := b.rec.Events()[1].AnsweredBy; by != carrier.AnsweredMachine || len(b.fake.hangups) != 1 {
		t.Errorf("verdict %q, hang-ups %v", by, b.fake.hangups)
	}
	for st, cause := range map[string]string{"busy": "busy", "timeout": "no_answer", "rejected": "rejected", "failed": "failed", "unanswered": "no_answer"} {
		b.rec.Reset()
		vonageHook(t, "POST", eventURL, callInfoBody(st), testSigSec)
		if got := strings.Join(kinds(b.rec), " "); got != "ended:"+cause {
			t.Errorf("%s: events %q, want ended:%s", st, got, cause)
		}
	}
}

func TestVoiceAPIErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status    int
		body      string
		retryable bool
	}{
		{401, `{"type":"https://developer.nexmo.com/api-errors#unauthorized","title":"Unauthorized","detail":"You did not provide correct credentials.","instance":"797a8f199c45014ab7b08bfe9cc1c12c"}`, false},
		{400, `{"type":"https://developer.nexmo.com/api-errors/voice#validation","title":"Bad Request","detail":"The request failed due to validation errors","invalid_parameters":[{"name":"to[0].number","reason":"must match \"\\d{7,15}\""}],"instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`, false},
		{402, `{"type":"https://developer.nexmo.com/api-errors#low-balance","title":"Low balance","detail":"This request could not be performed due to your account balance being low.","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`, false},
		{429, `{"type":"https://developer.nexmo.com/api-errors#throttled","title":"Throttled","detail":"Please wait, then retry your request","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`, true},
		{500, `{"type":"https://developer.nexmo.com/api-errors#internal-error","title":"Internal Error","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`, true},
		{503, ``, true},
	}
	for _, tc := range cases {
		b := setup(t)
		b.fake.callStatus, b.fake.callBody = tc.status, tc.body
		_, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "j", To: "+447700900123", OnAnswer: carrier.HangUp})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != tc.retryable {
			t.Errorf("%d: err %v, want retryable=%v", tc.status, err, tc.retryable)
		}
	}
	// Nobody listening: a transport error, retryable.
	b := setup(t)
	b.fake.srv.Close()
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "j", To: "+447700900123", OnAnswer: carrier.HangUp}); !carrier.Retryable(err) {
		t.Errorf("connection refused: %v, want retryable", err)
	}
}

func TestSendSMS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "job_sms1", To: "+447700900123", Text: "Your Shop code is 2517"})
	if err != nil || ref != "0A0000000123ABCD1" {
		t.Fatalf("ref %q err %v", ref, err)
	}
	f := b.fake.sms[0]
	want := map[string]string{
		"api_key": testKey, "api_secret": testSecret, "from": "447700900001", "to": "447700900123",
		"text": "Your Shop code is 2517", "type": "text", "client-ref": "job_sms1", "status-report-req": "1",
		"callback": b.hook.URL + "/carriers/vg/sms-status",
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	if len(f) != len(want) {
		t.Errorf("form has %d fields, want %d: %v", len(f), len(want), f)
	}
	if _, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "j2", From: "Shop", To: "+447700900123", Text: "Ваш код 2517"}); err != nil {
		t.Fatal(err)
	}
	if f := b.fake.sms[1]; f.Get("type") != "unicode" || f.Get("from") != "Shop" {
		t.Errorf("unicode text: %v", f)
	}

	// The SMS API answers 200 with a per-message status.
	for body, retry := range map[string]bool{
		`{"message-count":"1","messages":[{"status":"1","error-text":"Throttled"}]}`:                                                    true,
		`{"message-count":"1","messages":[{"status":"5","error-text":"Internal Error"}]}`:                                               true,
		`{"message-count":"1","messages":[{"status":"4","error-text":"Bad Credentials"}]}`:                                              false,
		`{"message-count":"1","messages":[{"status":"9","error-text":"Partner quota exceeded"}]}`:                                       false,
		`{"message-count":"1","messages":[{"to":"447700900123","status":"29","error-text":"Non White-listed Destination - rejected"}]}`: false,
	} {
		b.fake.smsBody = body
		_, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "j3", To: "+447700900123", Text: "x"})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != retry {
			t.Errorf("%s: %v, want retryable=%v", body, err, retry)
		}
	}
	b.fake.smsStatus, b.fake.smsBody = 500, `{}`
	if _, err := b.c.SendSMS(t.Context(), carrier.SMS{ID: "j4", To: "+447700900123", Text: "x"}); !carrier.Retryable(err) {
		t.Errorf("HTTP 500: %v", err)
	}
}

// signedReceipt builds delivery-receipt parameters as Vonage sends them,
// signed with method.
func signedReceipt(status, method string) url.Values {
	p := url.Values{
		"msisdn": {"447700900123"}, "to": {"447700900001"}, "network-code": {"23410"},
		"messageId": {"0A0000000123ABCD1"}, "price": {"0.03330000"}, "status": {status},
		"scts": {"2611291900"}, "err-code": {"0"}, "api-key": {testKey}, "client-ref": {"job_sms1"},
		"message-timestamp": {"2026-11-29 19:00:00"}, "timestamp": {"1795892400"}, "nonce": {"ec11dd3e-1e7f-4db5-9467-82b02cd223b9"},
	}
	p.Set("sig", smsSig(p, testSigSec, method))
	return p
}

func TestDeliveryReceipts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := b.hook.URL + "/carriers/vg/sms-status"
	// GET with the query (the default), signed SHA-256 HMAC.
	res, err := http.Get(u + "?" + signedReceipt("delivered", SigSHA256).Encode())
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("GET receipt: %v %v", res.StatusCode, err)
	}
	// POST form, MD5 hash.
	res, _ = http.PostForm(u, signedReceipt("failed", SigMD5Hash))
	if res.StatusCode != 204 {
		t.Fatalf("POST receipt: %d", res.StatusCode)
	}
	// POST JSON, SHA-512; "accepted" is interim.
	p := signedReceipt("accepted", SigSHA512)
	m := map[string]string{}
	for k := range p {
		m[k] = p.Get(k)
	}
	j, _ := json.Marshal(m)
	res, _ = http.Post(u, "application/json", bytes.NewReader(j))
	if res.StatusCode != 204 {
		t.Fatalf("JSON receipt: %d", res.StatusCode)
	}
	// A signed receipt for a text ringgate did not send (no client-ref) is
	// acknowledged, so Vonage stops retrying, and goes nowhere.
	foreign := signedReceipt("delivered", SigSHA256)
	foreign.Del("client-ref")
	foreign.Set("sig", smsSig(foreign, testSigSec, SigSHA256))
	if res, _ := http.Get(u + "?" + foreign.Encode()); res.StatusCode != 204 {
		t.Errorf("foreign receipt: %d", res.StatusCode)
	}
	if got := strings.Join(kinds(b.rec), " "); got != "sms_delivered sms_failed:undelivered" {
		t.Errorf("events %q", got)
	}
	// Tampered and unsigned receipts are refused and counted.
	bad := signedReceipt("delivered", SigSHA256)
	bad.Set("client-ref", "job_other")
	unsigned := signedReceipt("delivered", SigSHA256)
	unsigned.Del("sig")
	for _, q := range []url.Values{bad, unsigned} {
		res, _ := http.Get(u + "?" + q.Encode())
		if res.StatusCode != 403 {
			t.Errorf("bad receipt: %d", res.StatusCode)
		}
	}
	if b.c.Rejected() != 2 || len(kinds(b.rec)) != 2 {
		t.Errorf("rejected %d, events %v", b.c.Rejected(), kinds(b.rec))
	}
}

func TestWebhooksRefuseBadSignatures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_x", To: "+447700900123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	eventURL := b.fake.calls[0]["event_url"].([]any)[0].(string)
	// Unsigned, signed with another secret.
	for _, secret := range []string{"", "not-the-secret"} {
		if res, _ := vonageHook(t, "POST", eventURL, callInfoBody("answered"), secret); res.StatusCode != 403 {
			t.Errorf("secret %q: %d", secret, res.StatusCode)
		}
	}
	// A good token over another body (payload_hash mismatch).
	sum := sha256.Sum256(callInfoBody("ringing"))
	tok := signHS256(t, testSigSec, map[string]any{"iat": time.Now().Unix(), "payload_hash": hex.EncodeToString(sum[:])})
	req, _ := http.NewRequest("POST", eventURL, bytes.NewReader(callInfoBody("answered")))
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := carriertest.Client.Do(req)
	if err != nil || res.StatusCode != 403 {
		t.Errorf("tampered body: %v %v", res.StatusCode, err)
	}
	// Inbound answer without a signature.
	if res, _ := vonageHook(t, "GET", b.hook.URL+"/carriers/vg/answer?from=447700900999&to=447700900001&uuid=u1", nil, ""); res.StatusCode != 403 {
		t.Errorf("unsigned inbound: %d", res.StatusCode)
	}
	if b.c.Rejected() != 4 {
		t.Errorf("Rejected() = %d, want 4", b.c.Rejected())
	}
	if len(kinds(b.rec)) != 0 || len(b.rec.Inbound()) != 0 {
		t.Errorf("refused webhooks reached the domain: %v %v", kinds(b.rec), b.rec.Inbound())
	}
}

func TestInboundMissedCall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The application's answer_url by GET (Vonage's default answer_method)
	// carries from, to and uuid in a query the token does not sign: refused.
	res, body := vonageHook(t, "GET", b.hook.URL+"/carriers/vg/answer?to=447700900001&from=447700900999&uuid=aaaaaaaaaaaa&conversation_uuid=CON-bbbbbbbb&region_url=https%3A%2F%2Fapi-us-3.vonage.com", nil, testSigSec)
	if res.StatusCode != 403 || len(b.rec.Inbound()) != 0 {
		t.Fatalf("GET inbound: %d %s", res.StatusCode, body)
	}
	// POST answer_method, JSON body; Vonage's '+'-less E.164 becomes E.164.
	res, body = vonageHook(t, "POST", b.hook.URL+"/carriers/vg/answer", []byte(`{"to":"447700900001","from":"15417543010","uuid":"cccc","conversation_uuid":"CON-d"}`), testSigSec)
	if res.StatusCode != 200 || len(decodeNCCO(t, body)) != 0 {
		t.Fatalf("POST inbound: %d %s", res.StatusCode, body)
	}
	want := carrier.InboundCall{From: "+15417543010", To: "+447700900001", Country: "GB", Carrier: "vg", CallID: "cccc"}
	got := b.rec.Inbound()[0]
	got.At = time.Time{}
	if got != want {
		t.Errorf("inbound %+v, want %+v", got, want)
	}
	// The domain could not decide: 503, so Vonage retries.
	b.rec.FailNext(errors.New("store down"))
	if res, _ := vonageHook(t, "POST", b.hook.URL+"/carriers/vg/answer", []byte(`{"to":"447700900001","from":"447700900997","uuid":"e"}`), testSigSec); res.StatusCode != 503 {
		t.Errorf("store down: %d", res.StatusCode)
	}
	// Bad input is a problem, not a crash.
	if res, body := vonageHook(t, "POST", b.hook.URL+"/carriers/vg/answer", []byte(`{"to":`), testSigSec); res.StatusCode != 400 || !strings.Contains(string(body), "problem") && !strings.Contains(res.Header.Get("Content-Type"), "problem") {
		t.Errorf("malformed: %d %s", res.StatusCode, body)
	}
}

// A webhook token is accepted once: the same signed request again is
// refused (403) and does not reach the domain.
func TestTokenReplayRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := []byte(`{"to":"447700900001","from":"447700900996","uuid":"dddd"}`)
	sum := sha256.Sum256(body)
	tok := signHS256(t, testSigSec, map[string]any{"iat": time.Now().Unix(), "jti": "once", "api_key": testKey, "application_id": testAppID, "payload_hash": hex.EncodeToString(sum[:])})
	for i, want := range []int{200, 403} {
		req, _ := http.NewRequest("POST", b.hook.URL+"/carriers/vg/answer", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := carriertest.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("send %d: %d, want %d", i, res.StatusCode, want)
		}
	}
	if len(b.rec.Inbound()) != 1 {
		t.Fatalf("inbound calls %d, want 1", len(b.rec.Inbound()))
	}
}

// The NCCO talks in the verification's language, also after a repeat
// (the built-in Chinese plan resumes from its sealed reference).
func TestVoiceOTPTalksTheLocale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.c.PlaceCall(t.Context(), carrier.Call{
		ID: "job_zh", Channel: "voice_otp", To: "+447700900123", RingTimeout: 30 * time.Second,
		OnAnswer: carrier.RunDialplan, Dialplan: ivr.DefaultFor("zh"), Vars: map[string]string{"code": "2517", "app": "Shop", ivr.VarLanguage: "zh-CN"},
	})
	if err != nil {
		t.Fatal(err)
	}
	answerURL := b.fake.calls[0]["answer_url"].([]any)[0].(string)
	_, body := vonageHook(t, "POST", answerURL, callInfoBody("answered"), testSigSec)
	ncco := decodeNCCO(t, body)
	if ncco[0]["language"] != "cmn-CN" || !strings.HasPrefix(ncco[0]["text"].(string), "您好，您的Shop验证码是2 5 1 7") {
		t.Fatalf("answer NCCO %s", body)
	}
	inputURL := ncco[1]["eventUrl"].([]any)[0].(string)
	_, body = vonageHook(t, "POST", inputURL, []byte(`{"dtmf":{"digits":"1","timed_out":false},"uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}`), testSigSec)
	if ncco = decodeNCCO(t, body); ncco[0]["language"] != "cmn-CN" || !strings.HasPrefix(ncco[0]["text"].(string), "您好") {
		t.Fatalf("after 1: %s", body)
	}
}
