package telnyx

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzWebhook feeds arbitrary, correctly signed webhooks (so parsing is
// reached) to every path, as a form and as JSON: never a panic, and a 200
// with a body is always TeXML.
func FuzzWebhook(f *testing.F) {
	f.Add("/voice", "", "From=%2B13125550002&To=%2B13120001234&CallSid=v3:1", false)
	f.Add("/call-status", "id=j&drop=1", "CallStatus=ringing&AccountSid=a&CallSid=b", false)
	f.Add("/sms-status", "id=j", `{"data":{"payload":{"to":[{"status":"delivered"}]}}}`, true)
	f.Add("/sms-status", "id=j", `{"data":{"payload":{"to":[]}}}`, true)
	f.Add("/gather", "id=j&s=AAAA", "Digits=1", false)
	ev := newEvents()
	c, err := New(Config{
		Name: "tx", APIKey: apiKey, PublicKey: pubB64(), ConnectionID: connID, APIBase: "http://127.0.0.1:1",
		PublicURL: "https://rg.example", Secret: make([]byte, 32), Inbound: ev, Events: ev,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, body string, asJSON bool) {
		req, err := http.NewRequest("POST", "https://rg.example/x", strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.Path, req.URL.RawQuery = path, query
		ct := form
		if asJSON {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("telnyx-timestamp", ts)
		req.Header.Set("telnyx-signature-ed25519", sign(ts, []byte(body)))
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code == 200 && rec.Body.Len() > 0 && !strings.Contains(rec.Body.String(), "<Response>") {
			t.Fatalf("200 without TeXML: %s", rec.Body)
		}
	})
}
