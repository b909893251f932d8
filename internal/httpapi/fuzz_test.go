package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// FuzzBearer feeds arbitrary Authorization headers to the API key parser:
// it never panics, and what it accepts is a trimmed, non-empty key sent
// with the Bearer scheme (any case).
func FuzzBearer(f *testing.F) {
	for _, s := range []string{
		"Bearer rg_live_abcdefghijklmnopqrstuvwx", "bearer rg_test_x", "BEARER  rg_live_y  ", "Basic dXNlcjpwYXNz",
		"Bearer", "Bearer ", "Bearer\trg_live_z", " Bearer rg_live_a", "Token rg_live_a", "", "Bearer \x00", "Bearer rg_live_é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/v1/verifications", nil)
		r.Header["Authorization"] = []string{h}
		key, ok := bearer(r)
		if !ok {
			if key != "" {
				t.Fatalf("%q: refused but returned %q", h, key)
			}
			return
		}
		scheme, _, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || key == "" || key != strings.TrimSpace(key) || !strings.Contains(h, key) {
			t.Fatalf("%q: accepted key %q", h, key)
		}
	})
}

// FuzzDecodeBodies feeds arbitrary bodies to the decoder for every other
// request body (check, app settings, new key): never a panic, every
// failure a described 400, and an accepted body re-encodes.
func FuzzDecodeBodies(f *testing.F) {
	for _, s := range []string{
		`{"code":"123456"}`, `{"cli":"+442079460018"}`, `{"code":123456}`,
		`{"sms_sender":"Acme","sms_templates":{"en":"{code}"}}`, `{"flash_caller_ids":[{"country":"GB","pattern":"+44XXXX"}]}`,
		`{"dialplan_xml":"<dialplan/>"}`, `{"sms_templates":{"en":null}}`,
		`{"scope":"verify"}`, `{"scope":"admin","kind":"test","expires_at":"2030-01-02T03:04:05Z"}`,
		`{"expires_at":"tomorrow"}`, `{"expires_at":"2030-01-02T03:04:05+25:00"}`, `{"scope":1}`,
		`{}`, `[]`, `null`, `{"a":`, "\xff",
	} {
		for which := range 3 {
			f.Add(uint8(which), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		var dst any
		switch which % 3 {
		case 0:
			dst = new(verify.CheckRequest)
		case 1:
			dst = new(verify.SettingsPatch)
		default:
			dst = new(verify.NewKeyRequest)
		}
		err := decodeBody(bytes.NewReader(body), dst)
		if err != nil {
			var de *decodeError
			if !errors.As(err, &de) || de.msg == "" || statusOf[de.code] != 400 {
				t.Fatalf("body %q: error %#v is not a described 400", body, err)
			}
		}
	})
}

// FuzzDevInboxSignature sends arbitrary webhook headers and bodies to the
// dev inbox, the one place ringgate verifies Standard Webhooks signatures:
// it never panics, always answers 204, and marks a message signed only
// when the signature is ringgate's own for exactly that id, time and body.
func FuzzDevInboxSignature(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Now()
	good, _ := webhook.Sign(secret, "msg_1", now, []byte(`{"a":1}`))
	f.Add("msg_1", strconv.FormatInt(now.Unix(), 10), good, []byte(`{"a":1}`))
	f.Add("msg_1", strconv.FormatInt(now.Unix(), 10), good, []byte(`{"a":2}`))
	f.Add("msg_2", strconv.FormatInt(now.Unix(), 10), good, []byte(`{"a":1}`))
	f.Add("msg_1", "notanumber", good, []byte(`{}`))
	f.Add("msg_1", "99999999999999999999", "v1,", []byte(`x`))
	f.Add("", "", "", []byte{})
	f.Add("msg_1", strconv.FormatInt(now.Unix(), 10), "v1,AAAA v2,BBBB v1a,=== "+good, []byte(`{"a":1}`))
	a := New(Config{DevInbox: NewDevInbox(secret)})
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		r := httptest.NewRequest("POST", "/dev/webhooks", bytes.NewReader(body))
		r.Header["Webhook-Id"] = []string{id}
		r.Header["Webhook-Timestamp"] = []string{ts}
		r.Header["Webhook-Signature"] = []string{sig}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if len(body) > MaxBody {
			return
		}
		if w.Code != http.StatusNoContent {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		a.inbox.mu.Lock()
		m := a.inbox.msgs[len(a.inbox.msgs)-1]
		a.inbox.mu.Unlock()
		if !m.SignatureOK {
			return
		}
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("accepted a signature with timestamp %q", ts)
		}
		want, _ := webhook.Sign(secret, id, time.Unix(n, 0), body)
		if !strings.Contains(sig, want) {
			t.Fatalf("accepted signature %q for id %q ts %q body %q; the true one is %q", sig, id, ts, body, want)
		}
	})
}
