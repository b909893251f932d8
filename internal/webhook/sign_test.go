package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ringgate/ringgate/internal/verify"
)

// TestSignKnownAnswer checks Sign against the fixed vector every Standard
// Webhooks reference library tests with: TestWebhookSign in
// github.com/standard-webhooks/standard-webhooks libraries/go/webhook_test.go
// (v0.0.1), and the same values in the C#, Java, Python and PHP tests. The
// spec document (spec/standard-webhooks.md) shows the scheme and header
// examples but publishes no secret to check a signature with.
func TestSignKnownAnswer(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	got, err := Sign(secret, msgID, time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	// The hand-written check a customer would write agrees.
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, "1614265330")
	h.Set(HeaderSignature, want)
	if err := customerVerify(secret, h, []byte(`{"test": 2432232314}`)); err != nil {
		t.Error(err)
	}
}

// customerVerify checks a webhook the way the Standard Webhooks spec tells
// receivers to, without the library: HMAC-SHA256 keyed with the base64
// after whsec_, over "id.timestamp.body", against each "v1," signature.
func customerVerify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, s, ok := strings.Cut(sig, ",")
		if ok && version == "v1" && hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid v1 signature")
}

func TestNewRequest(t *testing.T) {
	secret := verify.NewWebhookSecret()
	body := []byte(`{"type":"verification.verified","data":{"id":"vf_1"}}`)
	ts := time.Now()
	req, err := NewRequest(context.Background(), "https://example.com/hook?x=1", secret, "msg_123", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.String() != "https://example.com/hook?x=1" {
		t.Errorf("request is %s %s", req.Method, req.URL)
	}
	for name, want := range map[string]string{
		"webhook-id":        "msg_123",
		"webhook-timestamp": strconv.FormatInt(ts.Unix(), 10),
		"Content-Type":      "application/json",
		"User-Agent":        "ringgate-webhooks/1",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if sig := req.Header.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") {
		t.Errorf("webhook-signature = %q, want v1,…", sig)
	}
	got, _ := io.ReadAll(req.Body)
	if string(got) != string(body) {
		t.Errorf("body = %s", got)
	}

	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, req.Header); err != nil {
		t.Errorf("library Verify: %v", err)
	}
	if err := customerVerify(secret, req.Header, body); err != nil {
		t.Errorf("hand-written verify: %v", err)
	}

	tampered := []byte(strings.Replace(string(body), "vf_1", "vf_2", 1))
	if wh.Verify(tampered, req.Header) == nil || customerVerify(secret, req.Header, tampered) == nil {
		t.Error("a changed body still verifies")
	}
	for _, bad := range []string{"ftp://example.com/", "/relative", "", "http://"} {
		if _, err := NewRequest(context.Background(), bad, secret, "msg_1", ts, body); err == nil {
			t.Errorf("NewRequest(%q) built a request", bad)
		}
	}
	other, _ := standardwebhooks.NewWebhook(verify.NewWebhookSecret())
	if other.Verify(body, req.Header) == nil {
		t.Error("another app's secret verifies the signature")
	}
}

func TestSignRefusesUnusableSecrets(t *testing.T) {
	for _, secret := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := Sign(secret, "msg_1", time.Now(), []byte("{}")); err == nil {
			t.Errorf("Sign with secret %q: no error", secret)
		}
	}
}
