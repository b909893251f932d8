package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
)

type vector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
	Valid     bool   `json:"valid"`
}

// loadVectors reads the vectors the official Standard Webhooks Go library
// produced (internal/webhook's TestSDKWebhookVectors holds the file to it).
func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhook-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 8 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	return f.Vectors
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestVerifyAgreesWithOfficialLibrary(t *testing.T) {
	valid := 0
	for _, v := range loadVectors(t) {
		at := time.Unix(v.Timestamp, 0)
		err := Verifier{Secret: v.Secret, Now: func() time.Time { return at }}.Verify(headers(v.ID, v.Timestamp, v.Signature), []byte(v.Body))
		if (err == nil) != v.Valid {
			t.Errorf("%s: Verify = %v, the official library says valid=%v", v.Name, err, v.Valid)
		}
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("%s: error %v is not a typed ErrNoMatchingSignature", v.Name, err)
			}
		} else {
			valid++
		}
	}
	if valid < 3 {
		t.Fatalf("only %d valid vectors", valid)
	}
}

func sign(secret, id string, ts int64, body []byte) string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestVerifyRefusals(t *testing.T) {
	now := time.Unix(1767323045, 0)
	body := []byte(`{"type":"verification.expired"}`)
	good := sign(secret, "msg_1", now.Unix(), body)
	cases := []struct {
		name   string
		secret string
		h      http.Header
		want   error
	}{
		{"no id", secret, headers("", now.Unix(), good), ErrMissingHeaders},
		{"no signature", secret, headers("msg_1", now.Unix(), ""), ErrMissingHeaders},
		{"timestamp not a number", secret, func() http.Header { h := headers("msg_1", 0, good); h.Set(HeaderTimestamp, "1e9"); return h }(), ErrInvalidTimestamp},
		{"six minutes old", secret, headers("msg_1", now.Add(-6*time.Minute).Unix(), sign(secret, "msg_1", now.Add(-6*time.Minute).Unix(), body)), ErrTooOld},
		{"six minutes ahead", secret, headers("msg_1", now.Add(6*time.Minute).Unix(), sign(secret, "msg_1", now.Add(6*time.Minute).Unix(), body)), ErrTooNew},
		{"secret not base64", "whsec_%%%", headers("msg_1", now.Unix(), good), ErrInvalidSecret},
		{"empty secret", "", headers("msg_1", now.Unix(), good), ErrInvalidSecret},
	}
	for _, c := range cases {
		err := Verifier{Secret: c.secret, Now: func() time.Time { return now }}.Verify(c.h, body)
		var we *Error
		if !errors.Is(err, c.want) || !errors.As(err, &we) {
			t.Errorf("%s: %v, want a *Error wrapping %v", c.name, err, c.want)
		}
	}
	// Four minutes either side is within the tolerance.
	for _, d := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		ts := now.Add(d).Unix()
		if err := (Verifier{Secret: secret, Now: func() time.Time { return now }}).Verify(headers("msg_1", ts, sign(secret, "msg_1", ts, body)), body); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
}

func TestHandler(t *testing.T) {
	var got []ringgate.Event
	fail := false
	h := Handler(secret, func(ctx context.Context, ev ringgate.Event) error {
		if fail {
			return errors.New("database down")
		}
		got = append(got, ev)
		return nil
	})
	post := func(body string, mutate func(http.Header)) *httptest.ResponseRecorder {
		ts := time.Now().Unix()
		r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		r.Header = headers("msg_h", ts, sign(secret, "msg_h", ts, []byte(body)))
		if mutate != nil {
			mutate(r.Header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	ev := `{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{"id":"vf_1","status":"verified","channel":"missed_call","result_code":"000","reason":null,"completed_at":"2026-01-02T03:04:05Z","call":{"from":"+442079460018","to":"+12025550100","matched":true,"received_at":"2026-01-02T03:04:05Z"}}}`
	if w := post(ev, nil); w.Code != http.StatusNoContent {
		t.Fatalf("good webhook: %d %s", w.Code, w.Body)
	}
	if len(got) != 1 || got[0].Type != ringgate.EventVerified || got[0].Data.ID != "vf_1" || got[0].Data.Call == nil || !got[0].Data.Call.Matched || got[0].Data.CompletedAt == nil {
		t.Fatalf("decoded %+v", got)
	}
	refused := []struct {
		name, body, code string
		mutate           func(http.Header)
	}{
		{"forged signature", ev, "invalid_signature", func(h http.Header) {
			h.Set(HeaderSignature, sign("whsec_"+base64.StdEncoding.EncodeToString([]byte("attacker's key")), "msg_h", time.Now().Unix(), []byte(ev)))
		}},
		{"no headers", ev, "invalid_signature", func(h http.Header) { h.Del(HeaderSignature) }},
		{"signed garbage", `{"type":`, "malformed_event", nil},
		{"signed wrong shape", `{"type":"verification.verified","data":"x"}`, "malformed_event", nil},
		{"signed but no id", `{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{}}`, "malformed_event", nil},
		{"two values", ev + ev, "malformed_event", nil},
	}
	for _, c := range refused {
		w := post(c.body, c.mutate)
		var p struct{ Code string }
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusBadRequest || p.Code != c.code || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want 400 %s", c.name, w.Code, w.Body, c.code)
		}
	}
	if len(got) != 1 {
		t.Fatalf("the handler saw refused webhooks: %d events", len(got))
	}
	fail = true
	if w := post(ev, nil); w.Code != http.StatusInternalServerError {
		t.Errorf("failing fn: %d, want 500 so that ringgate retries", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/hooks", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

// FuzzVerify feeds arbitrary headers and bodies to Verify and Parse: they
// must refuse with a typed error, never panic, and accept only what the
// HMAC signs.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1767323045, 0)
	body := `{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{"id":"vf_1"}}`
	f.Add("msg_1", "1767323045", sign(secret, "msg_1", now.Unix(), []byte(body)), body)
	f.Add("", "x", "v1,", "")
	f.Add("a", "-1", "v1,a v1,b v2,c", "{}")
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		v := Verifier{Secret: secret, Now: func() time.Time { return now }}
		_, err := v.Parse(h, []byte(body))
		if err == nil {
			sec, _ := strconv.ParseInt(ts, 10, 64)
			if !strings.Contains(sig, strings.TrimPrefix(sign(secret, id, sec, []byte(body)), "v1,")) {
				t.Fatalf("accepted a webhook whose signature is not the HMAC: %q", sig)
			}
			return
		}
		var we *Error
		if !errors.As(err, &we) {
			t.Fatalf("untyped error %T %v", err, err)
		}
	})
}
