// Package ringgate is the Go client of ringgate's REST API: start and
// follow phone-number verifications, and manage the app's settings, keys
// and webhook deliveries. It uses only the standard library.
//
//	c := ringgate.New(os.Getenv("RINGGATE_API_KEY"), ringgate.WithBaseURL("https://verify.example.com"))
//	v, err := c.Start(ctx, ringgate.StartRequest{Phone: "+442079460018", Channel: ringgate.MissedCall})
//
// Errors the API answers are *Error (use errors.As, and switch on Code).
// Requests answered 429, or 5xx when they are safe to repeat (reads,
// deletes, and starts, which carry an Idempotency-Key), are retried with
// backoff, honouring Retry-After up to a bound.
package ringgate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Version is the SDK's version, sent in the User-Agent.
const Version = "0.1.0"

// DefaultBaseURL is where `ringgate dev` listens.
const DefaultBaseURL = "http://127.0.0.1:8080"

// Client calls one ringgate server with one API key. It is safe for
// concurrent use.
type Client struct {
	base        *url.URL
	apiKey      string
	hc          *http.Client
	userAgent   string
	maxRetries  int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	maxWait     time.Duration
	sleep       func(context.Context, time.Duration) error
	newIdemKey  func() string
	sseRetryMax time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the server's URL (default DefaultBaseURL).
func WithBaseURL(u string) Option {
	return func(c *Client) {
		p, err := url.Parse(strings.TrimRight(u, "/"))
		if err == nil {
			c.base = p
		} else {
			c.base = &url.URL{Scheme: "invalid", Opaque: u}
		}
	}
}

// WithHTTPClient sets the http.Client (default: one with a 30 s timeout;
// event streams use it without that timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a retryable request is repeated (default
// 3; 0 disables retries) and the backoff bounds (default 200 ms doubling to
// 5 s, with jitter).
func WithRetries(n int, minBackoff, maxBackoff time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.minBackoff, c.maxBackoff = n, minBackoff, maxBackoff }
}

// WithMaxRetryWait bounds how long a Retry-After is honoured (default 30
// s): a 429 asking for longer is returned at once as an *Error with
// RetryAfter set, for the caller to decide.
func WithMaxRetryWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithUserAgent prefixes the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua + " " + c.userAgent } }

// WithIdempotencyKeys sets the generator of Idempotency-Key values for
// starts (default: 128 random bits, hex).
func WithIdempotencyKeys(gen func() string) Option { return func(c *Client) { c.newIdemKey = gen } }

// New returns a client for the API key. An empty key is allowed for the
// client-token routes only (Page).
func New(apiKey string, opts ...Option) *Client {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		base:        base,
		apiKey:      apiKey,
		hc:          &http.Client{Timeout: 30 * time.Second},
		userAgent:   "ringgate-go/" + Version,
		maxRetries:  3,
		minBackoff:  200 * time.Millisecond,
		maxBackoff:  5 * time.Second,
		maxWait:     30 * time.Second,
		sleep:       sleepCtx,
		newIdemKey:  randomKey,
		sseRetryMax: 30 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+) or panics
	return hex.EncodeToString(b[:])
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// request is one API call.
type request struct {
	method   string
	path     string // escaped
	query    url.Values
	body     any
	header   http.Header
	token    string // a client token (?token=) instead of the API key
	safe     bool   // may be repeated after a 5xx
	wantCode []int  // accepted statuses (default 200)
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	if strings.Contains(path, "%") {
		u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + path
		if un, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = un
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// do sends r, retrying as allowed, and decodes a 2xx JSON body into out
// (nil: the body is discarded). It returns the final response's status.
func (c *Client) do(ctx context.Context, r request, out any) (int, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("ringgate: encode request: %w", err)
		}
	}
	q := r.query
	if r.token != "" {
		q = cloneValues(q)
		q.Set("token", r.token)
	}
	target := c.url(r.path, q)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(body))
		if err != nil {
			return 0, fmt.Errorf("ringgate: %w", err)
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range r.header {
			req.Header[k] = v
		}
		c.authorize(req, r.token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			// A transport error after the request may have been sent: repeat
			// only what is safe to repeat.
			if r.safe && attempt < c.maxRetries && ctx.Err() == nil {
				if serr := c.sleep(ctx, c.backoff(attempt)); serr != nil {
					return 0, err
				}
				continue
			}
			return 0, fmt.Errorf("ringgate: %s %s: %w", r.method, r.path, err)
		}
		status, retry, wait, err := c.finish(resp, r, out)
		if !retry || attempt >= c.maxRetries {
			return status, err
		}
		if wait > c.maxWait {
			return status, err
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return status, err
		}
	}
}

func (c *Client) authorize(req *http.Request, token string) {
	if token == "" && c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	req.Header.Set("User-Agent", c.userAgent)
}

// finish reads one response: the decoded result or the problem, and
// whether (and after how long, 0 for the backoff) to try again.
func (c *Client) finish(resp *http.Response, r request, out any) (status int, retry bool, wait time.Duration, err error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, r.safe, 0, fmt.Errorf("ringgate: read response: %w", err)
	}
	want := r.wantCode
	if len(want) == 0 {
		want = []int{http.StatusOK}
	}
	for _, w := range want {
		if resp.StatusCode != w {
			continue
		}
		if out == nil || resp.StatusCode == http.StatusNoContent {
			return resp.StatusCode, false, 0, nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, false, 0, fmt.Errorf("ringgate: decode %d response of %s %s: %w", resp.StatusCode, r.method, r.path, err)
		}
		return resp.StatusCode, false, 0, nil
	}
	pe := problemOf(resp, b)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, true, pe.RetryAfter, pe
	case resp.StatusCode >= 500 && r.safe:
		return resp.StatusCode, true, pe.RetryAfter, pe
	}
	return resp.StatusCode, false, 0, pe
}

// problemOf decodes a non-2xx response into an *Error.
func problemOf(resp *http.Response, b []byte) *Error {
	pe := &Error{}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		if err := json.Unmarshal(b, pe); err != nil {
			pe = &Error{Detail: "undecodable problem: " + err.Error()}
		}
	}
	pe.Status = resp.StatusCode
	if pe.Title == "" {
		pe.Title = http.StatusText(resp.StatusCode)
	}
	if pe.Code == "" && pe.Detail == "" && len(b) > 0 {
		d := string(b)
		if len(d) > 200 {
			d = d[:200]
		}
		pe.Detail = strings.TrimSpace(d)
	}
	pe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return pe
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.minBackoff << attempt
	if d > c.maxBackoff || d <= 0 {
		d = c.maxBackoff
	}
	if d <= 0 {
		return 0
	}
	// Full jitter over the upper half, so clients spread out.
	return d/2 + mrand.N(d/2+1)
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

var errEmptyID = errors.New("ringgate: empty id")

func pathID(id string) (string, error) {
	if id == "" {
		return "", errEmptyID
	}
	return url.PathEscape(id), nil
}
