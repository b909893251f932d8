package twilio

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzWebhook feeds arbitrary, correctly signed (so that parsing is
// reached) webhooks to every path: the answer is always a status, never a
// panic, and a 200 is always a well-formed TwiML document.
func FuzzWebhook(f *testing.F) {
	f.Add("/voice", "", "From=%2B447700900123&To=%2B15005550006&CallSid=CA1")
	f.Add("/call-status", "id=j&drop=1", "CallStatus=ringing&CallSid=CA1")
	f.Add("/sms-status", "id=j", "MessageStatus=delivered")
	f.Add("/gather", "id=j&s=AAAA", "Digits=1")
	f.Add("/answer", "id=&s=", "AnsweredBy=machine_start")
	f.Add("/voice", "", "%zz=1&;;")
	ev := newEvents()
	c, err := New(Config{
		Name: "tw", AccountSID: sid, AuthToken: token, APIBase: "http://127.0.0.1:1", PublicURL: "https://rg.example",
		Secret: make([]byte, 32), Inbound: ev, Events: ev, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		u := &url.URL{Path: path, RawQuery: query}
		req, err := http.NewRequest("POST", "https://rg.example"+u.RequestURI(), strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		params, _ := url.ParseQuery(body)
		req.Header.Set("X-Twilio-Signature", Signature(token, "https://rg.example/carriers/tw"+req.URL.EscapedPath()+"?"+req.URL.RawQuery, params))
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code == 200 && !strings.Contains(rec.Body.String(), "<Response>") {
			t.Fatalf("200 without TwiML: %s", rec.Body)
		}
	})
}
