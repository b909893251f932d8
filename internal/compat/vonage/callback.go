package vonage

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/verify"
)

// StatusCallback is the summary Vonage sends to an application's status
// URL when a request ends.
type StatusCallback struct {
	RequestID   string          `json:"request_id"`
	TriggeredAt string          `json:"triggered_at"`
	Type        string          `json:"type"` // summary
	Status      string          `json:"status"`
	Workflow    []WorkflowEvent `json:"workflow"`
	ClientRef   string          `json:"client_ref,omitempty"`
}

// WorkflowEvent is one step of the summary.
type WorkflowEvent struct {
	Channel     string `json:"channel"`
	InitiatedAt string `json:"initiated_at"`
	Status      string `json:"status"`
}

// vonageChannel is Vonage's name for a ringgate channel.
func vonageChannel(c verify.Channel) string {
	for name, ch := range channels {
		if ch == c && name != string(c) {
			return name
		}
	}
	return string(c)
}

// summaryStatus is Vonage's final status of a request.
func summaryStatus(v verify.Verification) string {
	switch {
	case v.Status == verify.StatusVerified:
		return "completed"
	case v.Status == verify.StatusExpired:
		return "expired"
	case v.Status == verify.StatusCanceled:
		return "user_rejected"
	}
	return "failed"
}

// Summary builds the status callback of an ended verification.
func Summary(requestID string, v verify.Verification, now time.Time) StatusCallback {
	sc := StatusCallback{
		RequestID: requestID, TriggeredAt: now.UTC().Format("2006-01-02T15:04:05.000Z"), Type: "summary",
		Status: summaryStatus(v), ClientRef: v.Metadata["client_ref"],
	}
	for i, st := range v.Workflow {
		status := "unused"
		switch {
		case i < v.Step:
			status = "failed"
		case i == v.Step:
			status = sc.Status
		}
		sc.Workflow = append(sc.Workflow, WorkflowEvent{Channel: vonageChannel(st.Channel), InitiatedAt: v.CreatedAt.UTC().Format(time.RFC3339), Status: status})
	}
	return sc
}

// SignCallback is the Authorization bearer token Vonage puts on signed
// webhooks: a JWT (HS256 under the signature secret) with iat, jti, iss
// "Vonage", and payload_hash, the SHA-256 of the body in hex.
func SignCallback(body []byte, secret, apiKey, applicationID string, now time.Time) string {
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	sum := sha256.Sum256(body)
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	c, _ := json.Marshal(map[string]any{
		"iat": now.Unix(), "jti": hex.EncodeToString(jti[:]), "iss": "Vonage",
		"payload_hash": hex.EncodeToString(sum[:]), "api_key": apiKey, "application_id": applicationID,
	})
	signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Renderer is the compat.Renderer of Vonage status callbacks: the summary
// as JSON, signed with the app's signature secret as it is now.
func Renderer(st compat.Store, now func() time.Time) compat.Renderer {
	return func(ctx context.Context, c compat.Callback, v verify.Verification) (*http.Request, error) {
		rec, err := st.CompatCredentials(ctx, c.AppID)
		if err != nil {
			return nil, fmt.Errorf("credentials of %s: %w", c.AppID, err)
		}
		body, err := json.Marshal(Summary(c.Ref, v, now()))
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.CallbackURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+SignCallback(body, rec.VonageSignatureSecret, rec.VonageAPIKey, rec.VonageAppID, now()))
		return req, nil
	}
}
