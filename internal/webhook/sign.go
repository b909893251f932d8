package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ringgate/ringgate/internal/verify"
)

// UserAgent identifies ringgate's webhook requests to receivers.
const UserAgent = "ringgate-webhooks/1"

// Standard Webhooks header names.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// Sign returns the webhook-signature header value for one message:
// "v1," and the base64 HMAC-SHA256 of "msgID.timestamp.body" keyed with the
// decoded whsec_ secret. Only the timestamp's whole seconds are signed.
//
// secret is an app's stored secret (verify.App.WebhookSecret): during a
// rotation's overlap it holds the old secret(s) too, and the header then
// carries one signature per secret that still signs at ts, space-separated
// as Standard Webhooks allows, the current secret's first.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	secrets := verify.ParseWebhookSecrets(secret, ts)
	if len(secrets) == 0 {
		secrets = []verify.SigningSecret{{}} // refused below, as an empty secret
	}
	sigs := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		wh, err := newSigner(sec.Secret)
		if err != nil {
			return "", err
		}
		sig, err := wh.Sign(msgID, ts, body)
		if err != nil {
			return "", fmt.Errorf("sign webhook: %w", err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

func newSigner(secret string) (*standardwebhooks.Webhook, error) {
	// An empty key would sign with HMAC(""), which anyone can forge; better
	// not to send than to send something that looks authentic.
	if strings.TrimPrefix(secret, "whsec_") == "" {
		return nil, errors.New("the app has no webhook secret")
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, errors.New("the app's webhook secret is not valid base64")
	}
	return wh, nil
}

// NewRequest builds one signed POST of body to url. msgID is the
// delivery's ID, the same on every retry; ts is the time of this attempt.
func NewRequest(ctx context.Context, url, secret, msgID string, ts time.Time, body []byte) (*http.Request, error) {
	sig, err := Sign(secret, msgID, ts, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	if (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return nil, errors.New("the callback URL is not an http or https URL")
	}
	// Header names are case-insensitive: these go out as Webhook-Id etc.
	// over HTTP/1.1 and lowercase over HTTP/2, and match either way.
	req.Header.Set(HeaderID, msgID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	return req, nil
}
