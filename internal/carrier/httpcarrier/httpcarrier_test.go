package httpcarrier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSealBindsAndRefusesTampering(t *testing.T) {
	s, err := NewSealer(secret, "twilio:a")
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Seal("call-1", []byte("code=123456"))
	if strings.Contains(tok, "123456") {
		t.Fatalf("token shows the plaintext: %s", tok)
	}
	got, err := s.Open("call-1", tok)
	if err != nil || string(got) != "code=123456" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("call-2", tok); !errors.Is(err, ErrSealed) {
		t.Fatalf("another call's binding opened it: %v", err)
	}
	other, _ := NewSealer(secret, "twilio:b")
	if _, err := other.Open("call-1", tok); !errors.Is(err, ErrSealed) {
		t.Fatalf("another purpose opened it: %v", err)
	}
	b := []byte(tok)
	b[len(b)/2] ^= 1
	if _, err := s.Open("call-1", string(b)); !errors.Is(err, ErrSealed) {
		t.Fatalf("a flipped bit opened: %v", err)
	}
	for _, bad := range []string{"", "!!!", strings.Repeat("A", MaxToken+1), "AAAA"} {
		if _, err := s.Open("call-1", bad); !errors.Is(err, ErrSealed) {
			t.Fatalf("Open(%q) = %v", bad, err)
		}
	}
	if _, err := NewSealer([]byte("short"), "x"); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

const customPlan = `<dialplan name="custom">
  <amd><live><goto>m</goto></live><machine><hangup/></machine></amd>
  <menu name="m" maxDigits="2" timeout="2000">
    <play voice="male1">Code {{code}} for {{app}}.</play>
    <keypress pressed="11"><goto>m</goto></keypress>
    <keypress pressed="9"><play>Bye</play><hangup/></keypress>
  </menu>
</dialplan>`

// A session sealed after each step continues, once opened, exactly as the
// same session kept in memory does — for the built-in plan and a custom one.
func TestIVRRoundTripMatchesInMemorySession(t *testing.T) {
	s, _ := NewSealer(secret, "p")
	custom, err := ivr.Parse([]byte(customPlan))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"code": "4711", "app": "Acme"}
	for _, tc := range []struct {
		plan  *ivr.Dialplan
		steps []string // digits; "" a timeout
	}{
		{ivr.Default(), []string{"1", "5", ""}},
		{custom, []string{"11", "3", "9"}},
	} {
		mem := tc.plan.Start(vars)
		want := mem.Answered("human")
		sess := tc.plan.Start(vars)
		got := sess.Answered("human")
		for i := 0; ; i++ {
			if !equalActs(want, got) {
				t.Fatalf("%s step %d: sealed session did %v, in memory %v", tc.plan.Name, i, got, want)
			}
			if i == len(tc.steps) || mem.Done() {
				break
			}
			tok, err := s.SealIVR("c1", tc.plan, vars, sess)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tok, "4711") {
				t.Fatal("code visible in the token")
			}
			call, err := s.OpenIVR("c1", tok)
			if err != nil {
				t.Fatalf("%s step %d: %v", tc.plan.Name, i, err)
			}
			if _, err := s.OpenIVR("c2", tok); err == nil {
				t.Fatal("opened under another call id")
			}
			sess = call.Session
			if d := tc.steps[i]; d == "" {
				want, got = mem.Timeout(), sess.Timeout()
			} else {
				want, got = mem.Digits(d), sess.Digits(d)
			}
		}
	}
}

func equalActs(a, b []ivr.Action) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTwiMLRendersGatherAndHangup(t *testing.T) {
	acts := []ivr.Action{
		{Kind: ivr.Say, Text: "Your code is 1 2 3 <&>", Voice: "female1"},
		{Kind: ivr.Gather, MaxDigits: 1, Timeout: 3500 * time.Millisecond},
	}
	got := string(TwiML(acts, "https://rg.example/carriers/t/gather?id=j1&s=a&b"))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Gather input="dtmf" numDigits="1" timeout="4" actionOnEmptyResult="true" method="POST" action="https://rg.example/carriers/t/gather?id=j1&amp;s=a&amp;b">` +
		`<Say voice="woman">Your code is 1 2 3 &lt;&amp;&gt;</Say></Gather></Response>`
	if got != want {
		t.Fatalf("TwiML:\n got %s\nwant %s", got, want)
	}
	got = string(TwiML([]ivr.Action{{Kind: ivr.Say, Text: "Bye"}, {Kind: ivr.HangUp, Reason: ivr.ReasonHangup}}, "x"))
	if !strings.HasSuffix(got, "<Response><Say>Bye</Say><Hangup/></Response>") {
		t.Fatalf("hangup TwiML: %s", got)
	}
	if got := string(TwiMLReject("busy")); !strings.Contains(got, `<Reject reason="busy"/>`) {
		t.Fatal(got)
	}
	if got := string(TwiMLReject("<x>")); !strings.Contains(got, `<Reject reason="rejected"/>`) {
		t.Fatal(got)
	}
}

func TestClassifyAndDo(t *testing.T) {
	for status, retry := range map[int]bool{500: true, 503: true, 429: true, 408: true, 400: false, 401: false, 404: false, 422: false} {
		if e := Classify("x", status, "", "", nil); e.Retryable != retry {
			t.Errorf("status %d: retryable %v", status, e.Retryable)
		}
	}
	if e := Classify("x", 400, "21610", "unsubscribed", Bool(true)); !e.Retryable || e.Code != "21610" {
		t.Errorf("force ignored: %+v", e)
	}
	// A refused connection is retryable.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	req, _ := NewJSONRequest(context.Background(), "POST", "http://"+addr+"/", map[string]string{"a": "b"})
	_, err := Do(NewClient(), "x", req)
	if !carrier.Retryable(err) {
		t.Fatalf("connection refused: %v", err)
	}
	// A slow provider times out, retryably.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srv.Close()
	c := NewClient()
	c.Timeout = 100 * time.Millisecond
	req, _ = NewJSONRequest(context.Background(), "GET", srv.URL, nil)
	if _, err := Do(c, "x", req); !carrier.Retryable(err) {
		t.Fatalf("timeout: %v", err)
	}
	// The caller giving up is not the carrier's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ = NewJSONRequest(ctx, "GET", srv.URL, nil)
	if _, err := Do(c, "x", req); err == nil || carrier.Retryable(err) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestAnsweredBy(t *testing.T) {
	for in, want := range map[string]string{"human": "human", "machine_start": "machine", "machine_end_beep": "machine", "fax": "machine", "unknown": "unknown", "": "unknown"} {
		if got := AnsweredBy(in); got != want {
			t.Errorf("AnsweredBy(%q) = %q", in, got)
		}
	}
}

func TestSealIVRRefusesPlansTooLargeForAURL(t *testing.T) {
	s, _ := NewSealer(secret, "p")
	var b strings.Builder
	b.WriteString(`<dialplan name="big">`)
	for i := range 60 {
		// Random-looking text does not deflate away.
		b.WriteString(`<play name="p` + strconv.Itoa(i) + `">`)
		for j := range 20 {
			h := sha256.Sum256([]byte{byte(i), byte(j)})
			b.WriteString(hex.EncodeToString(h[:8]) + " ")
		}
		b.WriteString(`</play>`)
	}
	b.WriteString(`<hangup/></dialplan>`)
	plan, err := ivr.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SealIVR("id", plan, nil, plan.Start(nil)); err == nil {
		t.Fatal("sealed a plan too large for a URL")
	}
}

func TestWebhookHelpers(t *testing.T) {
	r := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", MaxWebhookBody+1)))
	if _, err := ReadBody(r); err == nil {
		t.Fatal("an oversized body was read")
	}
	r = httptest.NewRequest("POST", "/x?q=1", strings.NewReader("A=1&B=2"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	p, err := FormParams(r, []byte("A=1&B=2"))
	if err != nil || p.Get("A") != "1" || p.Get("q") != "" {
		t.Fatalf("FormParams = %v, %v", p, err)
	}
	r.Header.Set("Content-Type", "application/json")
	if _, err := FormParams(r, []byte(`{}`)); err == nil {
		t.Fatal("JSON taken as a form")
	}
	var f Refusals
	rec := httptest.NewRecorder()
	f.Refuse(rec, r, nil, "c", "no signature")
	if rec.Code != 403 || f.Count() != 1 || rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), `"status":403`) {
		t.Fatalf("Refuse: %d %q %s (count %d)", rec.Code, rec.Header().Get("Content-Type"), rec.Body, f.Count())
	}
	if got := CallbackURL("https://rg.example/base/", "tw a", "/status", url.Values{"id": {"j&1"}}); got != "https://rg.example/base/carriers/tw%20a/status?id=j%261" {
		t.Fatal(got)
	}
}

func TestDigitsAndPlusLessSender(t *testing.T) {
	for in, want := range map[string]string{"+44 7700 900123": "447700900123", "+14155550100": "14155550100", "": ""} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"+14155550100": "14155550100", "14155550100": "14155550100", "Ringgate": "Ringgate", "RG2FA": "RG2FA", "": ""} {
		if got := PlusLessSender(in); got != want {
			t.Errorf("PlusLessSender(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGetOrPost(t *testing.T) {
	for _, m := range []string{"GET", "POST"} {
		w := httptest.NewRecorder()
		if !GetOrPost(w, httptest.NewRequest(m, "/answer", nil)) || w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Errorf("%s: refused or answered (%d %s)", m, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	if GetOrPost(w, httptest.NewRequest("PUT", "/answer", nil)) {
		t.Fatal("PUT accepted")
	}
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, POST" || !strings.Contains(w.Body.String(), "method_not_allowed") {
		t.Fatalf("PUT: %d %v %s, want 405 problem with Allow: GET, POST", w.Code, w.Header(), w.Body)
	}
}

func TestTwiMLSaysTheLanguage(t *testing.T) {
	got := string(TwiML([]ivr.Action{{Kind: ivr.Say, Text: "Bonjour", Voice: "female1", Language: "fr-FR"}, {Kind: ivr.HangUp}}, "x"))
	if !strings.Contains(got, `<Say voice="woman" language="fr-FR">Bonjour</Say>`) {
		t.Fatal(got)
	}
	// The generic voices do not speak Japanese: the provider picks a voice.
	got = string(TwiML([]ivr.Action{{Kind: ivr.Say, Text: "こんにちは", Voice: "female1", Language: "ja-JP"}, {Kind: ivr.HangUp}}, "x"))
	if !strings.Contains(got, `<Say language="ja-JP">こんにちは</Say>`) {
		t.Fatal(got)
	}
}

// A built-in plan in another language travels as a reference and resumes
// in its language.
func TestSealIVRCarriesTheBuiltinLanguage(t *testing.T) {
	s, _ := NewSealer(secret, "p")
	plan := ivr.DefaultFor("de")
	vars := map[string]string{"code": "1234", "app": "Shop"}
	sess := plan.Start(vars)
	sess.Answered("human")
	tok, err := s.SealIVR("c1", plan, vars, sess)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 200 {
		t.Errorf("the German built-in plan sealed whole (%d characters)", len(tok))
	}
	call, err := s.OpenIVR("c1", tok)
	if err != nil || call.Plan != plan {
		t.Fatalf("opened %v, %v", call, err)
	}
	acts := call.Session.Digits("1")
	if len(acts) == 0 || acts[0].Language != "de-DE" || !strings.HasPrefix(acts[0].Text, "Hallo") {
		t.Fatalf("after 1: %+v", acts)
	}
}
