package httpcarrier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
)

// MaxResponse bounds how much of a provider's response body is read.
const MaxResponse = 1 << 20

// NewClient returns an http.Client suited to provider APIs: a 15 s
// overall timeout (a command that takes longer fails over), bounded dial
// and TLS handshakes, no cookie jar.
func NewClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: 15 * time.Second, Transport: t}
}

// ClientOr returns c, or NewClient() when c is nil.
func ClientOr(c *http.Client) *http.Client {
	if c == nil {
		return NewClient()
	}
	return c
}

// Response is a provider's answer: its status, headers and (bounded) body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// NewFormRequest builds a POST of form as application/x-www-form-urlencoded.
func NewFormRequest(ctx context.Context, rawURL string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// NewJSONRequest builds a request whose body is v as JSON (nil: no body).
func NewJSONRequest(ctx context.Context, method, rawURL string, v any) (*http.Request, error) {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// Do sends req and reads the response. A transport failure (connection
// refused, reset, timeout) is a retryable *carrier.Error, so the router
// tries the next carrier; the caller's own cancelled context is a terminal
// one (nobody is waiting for the answer any more). A response of any
// status is returned as is: classify it with Classify.
func Do(client *http.Client, carrierName string, req *http.Request) (Response, error) {
	res, err := client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil && !errors.Is(ctxErr, context.DeadlineExceeded) {
			return Response{}, &carrier.Error{Carrier: carrierName, Code: "canceled", Err: err}
		}
		return Response{}, &carrier.Error{Carrier: carrierName, Retryable: true, Code: "transport", Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxResponse))
	if err != nil {
		return Response{}, &carrier.Error{Carrier: carrierName, Retryable: true, Code: "transport", Err: fmt.Errorf("reading the response: %w", err)}
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// RetryableStatus reports whether a provider's HTTP status means another
// carrier may succeed: 5xx (the provider is failing), 429 (it throttles
// us) and 408 (it timed out). Every other 4xx says the request itself is
// wrong (bad number, bad credentials, no funds) and is terminal.
func RetryableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// Classify builds the *carrier.Error for a provider's failed response:
// retryable by RetryableStatus unless the provider's own code says
// otherwise (force: nil to go by status alone). code is the provider's
// error code ("21211"), msg its message; both end up in logs.
func Classify(carrierName string, status int, code, msg string, force *bool) *carrier.Error {
	retry := RetryableStatus(status)
	if force != nil {
		retry = *force
	}
	if code == "" {
		code = fmt.Sprintf("http_%d", status)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &carrier.Error{Carrier: carrierName, Retryable: retry, Code: code, Err: fmt.Errorf("HTTP %d: %s", status, msg)}
}

// Bool returns a pointer to b, for Classify's force.
func Bool(b bool) *bool { return &b }
