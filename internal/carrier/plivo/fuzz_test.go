package plivo

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// FuzzWebhook sends arbitrary callbacks (path, query, content type, body,
// signature headers) through the handler: every one gets an HTTP answer,
// never a panic, and none without a valid signature reaches the domain.
func FuzzWebhook(f *testing.F) {
	f.Add("/answer", "", "application/x-www-form-urlencoded", []byte("From=1&To=2&CallUUID=x"), "sig", "n")
	f.Add("/digits", "id=j&s=abc&v=def", "application/x-www-form-urlencoded", []byte("Digits=1"), "", "")
	f.Add("/sms-status/j", "", "text/plain", []byte("%%%"), "a,b,c", "")
	f.Add("/hangup", "%zz", "", []byte{}, "", "n")
	rec := &carriertest.Recorder{}
	c, err := New(Config{Name: "pl", AuthID: authID, AuthToken: authToken, PublicURL: "https://ringgate.example",
		Secret: []byte("0123456789abcdef0123456789abcdef"), Inbound: rec, Events: rec})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, ctype string, body []byte, sig, nonce string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("X-Plivo-Signature-V3", sig)
		r.Header.Set("X-Plivo-Signature-V3-Nonce", nonce)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code == http.StatusOK || w.Code == http.StatusNoContent {
			t.Fatalf("accepted an unsigned or forged callback: %d", w.Code)
		}
	})
	if len(rec.Events()) != 0 || len(rec.Inbound()) != 0 {
		f.Fatalf("forged callbacks reached the domain: %v %v", rec.Events(), rec.Inbound())
	}
}

// FuzzSignatureV3: any URL and parameters give a signature or "", never
// a panic.
func FuzzSignatureV3(f *testing.F) {
	f.Add("https://answer.url?a=1&b=2", "POST", "k", "v")
	f.Add("://bad", "GET", "", "")
	f.Add("https://x/p?a==b&&=", "GET", "a", "c")
	f.Fuzz(func(t *testing.T, u, method, k, v string) {
		_ = signatureV3("tok", u, method, "n", url.Values{k: {v}})
		_ = signatureV2("tok", u, "n")
	})
}

var _ carrier.EventHandler = (*carriertest.Recorder)(nil)
