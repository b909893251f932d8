package ringgate

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// StartOption adjusts one Start.
type StartOption func(*startOpts)

type startOpts struct{ key string }

// IdempotencyKey sets the start's Idempotency-Key (default: a fresh random
// one per Start, the same on each of its retries). Pass your own to make a
// start safe to repeat across processes, e.g. your sign-up attempt's id.
func IdempotencyKey(key string) StartOption { return func(o *startOpts) { o.key = key } }

// Start starts a verification (POST /v1/verifications). Retries after a
// 429 or 5xx carry the same Idempotency-Key, so at most one verification
// is started.
func (c *Client) Start(ctx context.Context, req StartRequest, opts ...StartOption) (*Verification, error) {
	o := startOpts{}
	for _, f := range opts {
		f(&o)
	}
	if o.key == "" {
		o.key = c.newIdemKey()
	}
	var v Verification
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: "/v1/verifications", body: req,
		header: http.Header{"Idempotency-Key": {o.key}}, safe: true,
		wantCode: []int{http.StatusCreated, http.StatusOK},
	}, &v)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// Get reads one verification.
func (c *Client) Get(ctx context.Context, id string) (*Verification, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var v Verification
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/verifications/" + p, safe: true}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ListPage reads one page of verifications, newest first.
func (c *Client) ListPage(ctx context.Context, p ListVerificationsParams) (*VerificationList, error) {
	q := url.Values{}
	set(q, "phone", p.Phone)
	set(q, "status", string(p.Status))
	set(q, "cursor", p.Cursor)
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var l VerificationList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/verifications", query: q, safe: true}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// List iterates over every verification matching p, page by page,
// following next_cursor. An error ends the iteration after it is yielded.
func (c *Client) List(ctx context.Context, p ListVerificationsParams) iter.Seq2[Verification, error] {
	return paginate(func(cursor string) ([]Verification, string, error) {
		p.Cursor = cursor
		l, err := c.ListPage(ctx, p)
		if err != nil {
			return nil, "", err
		}
		return l.Data, l.NextCursor, nil
	}, p.Cursor)
}

func paginate[T any](page func(cursor string) ([]T, string, error), cursor string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			items, next, err := page(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				var zero T
				yield(zero, errors.New("ringgate: the server returned the same cursor twice"))
				return
			}
			cursor = next
		}
	}
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Check checks the code the user typed, or a flash call's caller ID
// (POST …/check). Each check counts, so a failed one is not retried.
func (c *Client) Check(ctx context.Context, id string, req CheckRequest) (*CheckResult, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var r CheckResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/verifications/" + p + "/check", body: req}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Next moves a workflow on to its next channel now.
func (c *Client) Next(ctx context.Context, id string) (*Verification, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var v Verification
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/verifications/" + p + "/next"}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Cancel ends a pending verification (409 not_pending otherwise). It is
// retried after a 5xx: a repeat of a cancel that took effect answers
// not_pending.
func (c *Client) Cancel(ctx context.Context, id string) (*Verification, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, err
	}
	var v Verification
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/verifications/" + p + "/cancel", safe: true}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Page is the view of one verification through its client token: what a
// browser (or an app on the phone) may do. Get one with Client.Page; the
// client's API key is never sent on these routes.
type Page struct {
	c     *Client
	id    string
	token string
}

// Page returns the client-token view of verification id.
func (c *Client) Page(id, token string) *Page { return &Page{c: c, id: id, token: token} }

// Status reads the page-safe status (GET …/status?token=).
func (p *Page) Status(ctx context.Context) (*PublicStatus, error) {
	id, err := pathID(p.id)
	if err != nil {
		return nil, err
	}
	var s PublicStatus
	if _, err := p.c.do(ctx, request{method: http.MethodGet, path: "/v1/verifications/" + id + "/status", token: p.token, safe: true}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Check checks a code or caller ID with the client token.
func (p *Page) Check(ctx context.Context, req CheckRequest) (*PublicCheckResult, error) {
	id, err := pathID(p.id)
	if err != nil {
		return nil, err
	}
	var r PublicCheckResult
	if _, err := p.c.do(ctx, request{method: http.MethodPost, path: "/v1/verifications/" + id + "/check", body: req, token: p.token}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Next moves the workflow on with the client token.
func (p *Page) Next(ctx context.Context) (*PublicStatus, error) {
	id, err := pathID(p.id)
	if err != nil {
		return nil, err
	}
	var s PublicStatus
	if _, err := p.c.do(ctx, request{method: http.MethodPost, path: "/v1/verifications/" + id + "/next", token: p.token}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Events follows the verification's live stream with the client token.
func (p *Page) Events(ctx context.Context, opts ...StreamOption) *Stream {
	return p.c.stream(ctx, p.id, p.token, opts)
}
