package ringgate

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// App reads the app the API key belongs to (GET /v1/app; admin scope).
func (c *Client) App(ctx context.Context) (*App, error) {
	var a App
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/app", safe: true}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateApp changes the app's name, default callback URL and settings in
// one step (PATCH /v1/app).
func (c *Client) UpdateApp(ctx context.Context, patch SettingsPatch) (*App, error) {
	var a App
	if _, err := c.do(ctx, request{method: http.MethodPatch, path: "/v1/app", body: patch, safe: true}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RotateWebhookSecret makes a new webhook secret; the old one keeps signing
// for overlapSeconds (0: stops at once). Not retried: a repeat would rotate
// again.
func (c *Client) RotateWebhookSecret(ctx context.Context, overlapSeconds int) (*WebhookSecret, error) {
	var s WebhookSecret
	body := map[string]int{"overlap_seconds": overlapSeconds}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/app/webhook-secret", body: body}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ErasePhone deletes everything the app holds about one number.
func (c *Client) ErasePhone(ctx context.Context, phone string) (*Erasure, error) {
	p, err := pathID(phone)
	if err != nil {
		return nil, err
	}
	var e Erasure
	if _, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/phones/" + p, safe: true}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Keys lists the app's API keys.
func (c *Client) Keys(ctx context.Context) ([]APIKey, error) {
	var l APIKeyList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/keys", safe: true}, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

// CreateKey creates an API key; its secret is in the answer only.
func (c *Client) CreateKey(ctx context.Context, req NewAPIKeyRequest) (*NewAPIKey, error) {
	var k NewAPIKey
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/keys", body: req, wantCode: []int{http.StatusCreated}}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// RevokeKey revokes an API key.
func (c *Client) RevokeKey(ctx context.Context, id string) (*APIKey, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var k APIKey
	if _, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/keys/" + p, safe: true}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// DeliveriesPage reads one page of the webhook log.
func (c *Client) DeliveriesPage(ctx context.Context, p ListDeliveriesParams) (*DeliveryList, error) {
	q := url.Values{}
	set(q, "status", string(p.Status))
	set(q, "verification_id", p.VerificationID)
	set(q, "cursor", p.Cursor)
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var l DeliveryList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/webhooks/deliveries", query: q, safe: true}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Deliveries iterates over the webhook log, following next_cursor.
func (c *Client) Deliveries(ctx context.Context, p ListDeliveriesParams) iter.Seq2[Delivery, error] {
	return paginate(func(cursor string) ([]Delivery, string, error) {
		p.Cursor = cursor
		l, err := c.DeliveriesPage(ctx, p)
		if err != nil {
			return nil, "", err
		}
		return l.Data, l.NextCursor, nil
	}, p.Cursor)
}

// RetryDelivery queues a webhook delivery again (202).
func (c *Client) RetryDelivery(ctx context.Context, id string) (*Delivery, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var d Delivery
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/webhooks/deliveries/" + p + "/retry", safe: true, wantCode: []int{http.StatusAccepted}}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// AuditPage reads one page of the audit log.
func (c *Client) AuditPage(ctx context.Context, p ListAuditParams) (*AuditList, error) {
	q := url.Values{}
	set(q, "action", p.Action)
	set(q, "cursor", p.Cursor)
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var l AuditList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/audit", query: q, safe: true}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Audit iterates over the audit log, following next_cursor.
func (c *Client) Audit(ctx context.Context, p ListAuditParams) iter.Seq2[AuditEntry, error] {
	return paginate(func(cursor string) ([]AuditEntry, string, error) {
		p.Cursor = cursor
		l, err := c.AuditPage(ctx, p)
		if err != nil {
			return nil, "", err
		}
		return l.Data, l.NextCursor, nil
	}, p.Cursor)
}

// BlockedPrefixes lists the prefixes the SMS-pumping guard blocked.
func (c *Client) BlockedPrefixes(ctx context.Context) ([]PrefixBlock, error) {
	var l PrefixBlockList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/fraud/blocked-prefixes", safe: true}, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

// UnblockPrefix lifts a prefix block (204).
func (c *Client) UnblockPrefix(ctx context.Context, prefix string) error {
	p, err := pathID(prefix)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: "/v1/fraud/blocked-prefixes/" + p + "/unblock", safe: true, wantCode: []int{http.StatusNoContent}}, nil)
	return err
}

// CompatCredentials shows the public halves of the app's credentials for
// the Twilio- and Vonage-compatible APIs (GET /v1/app/compat-credentials;
// a live admin key). A *Error with code not_found means none were made yet.
func (c *Client) CompatCredentials(ctx context.Context) (*CompatCredentials, error) {
	var cc CompatCredentials
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/app/compat-credentials", safe: true}, &cc); err != nil {
		return nil, err
	}
	return &cc, nil
}

// RotateCompatCredentials creates the app's compat credentials or replaces
// them all (the old ones stop at once); the secrets are shown only here.
// Not retried: a repeat would rotate again.
func (c *Client) RotateCompatCredentials(ctx context.Context) (*NewCompatCredentials, error) {
	var cc NewCompatCredentials
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/app/compat-credentials", wantCode: []int{http.StatusCreated}}, &cc); err != nil {
		return nil, err
	}
	return &cc, nil
}

// SetVonagePublicKey installs the PEM RSA public key Vonage-style
// application JWTs are checked with (204).
func (c *Client) SetVonagePublicKey(ctx context.Context, pem string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/v1/app/compat-credentials/vonage-public-key",
		body: VonagePublicKeyRequest{PublicKey: pem}, safe: true, wantCode: []int{http.StatusNoContent}}, nil)
	return err
}

// SetVonageStatusURL sets where Vonage-style status callbacks go; "" stops
// them (204).
func (c *Client) SetVonageStatusURL(ctx context.Context, u string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/v1/app/compat-credentials/vonage-status-url",
		body: VonageStatusURLRequest{URL: u}, safe: true, wantCode: []int{http.StatusNoContent}}, nil)
	return err
}
