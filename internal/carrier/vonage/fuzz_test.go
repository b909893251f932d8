package vonage

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzCallWebhook feeds arbitrary bodies to the parser of answer, event
// and input webhooks: it must return an error or a value, never panic.
func FuzzCallWebhook(f *testing.F) {
	f.Add([]byte(`{"from":"447700900001","to":"447700900123","uuid":"u","status":"ringing"}`))
	f.Add([]byte(`{"dtmf":{"digits":"1","timed_out":false},"uuid":"u"}`))
	f.Add([]byte(`{"dtmf":"12","timed_out":true}`))
	f.Add([]byte(`{"dtmf":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/event?from=1&to=2", bytes.NewReader(body))
		ci, err := parseCallInfo(r, body)
		if err != nil {
			return
		}
		_, _ = ci.dtmfOf()
	})
}

// FuzzSMSReceipt feeds arbitrary receipts (query, content type, body) to
// the receipt parser and the sig check.
func FuzzSMSReceipt(f *testing.F) {
	f.Add("status=delivered&client-ref=j&sig=6af838ef94998832dbfc29020b564830", "application/x-www-form-urlencoded", []byte("a=1&b=2"))
	f.Add("", "application/json", []byte(`{"status":"failed","client-ref":"j","price":0.03,"x":true}`))
	f.Add("%zz", "text/plain", []byte("%%%"))
	f.Fuzz(func(t *testing.T, query, ctype string, body []byte) {
		r := httptest.NewRequest("POST", "/sms-status", bytes.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		p, err := smsParams(r, body)
		if err != nil {
			return
		}
		_ = verifySMSSig(p, "secret")
	})
}

// FuzzVerifyJWT: any token is refused or accepted without a panic, and
// nothing not signed with the secret is accepted.
func FuzzVerifyJWT(f *testing.F) {
	f.Add("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := verifyJWT(tok, "another secret", time.Unix(1697634680, 0)); err == nil {
			t.Fatalf("accepted %q under a secret it was not signed with", tok)
		}
	})
}
