package ringgate

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSleep records the waits instead of sleeping (time goes through an
// injected clock, never a real sleep, in these tests).
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	return ctx.Err()
}

func newTestClient(url string, fs *fakeSleep, opts ...Option) *Client {
	c := New("rg_live_test", append([]Option{WithBaseURL(url)}, opts...)...)
	c.sleep = fs.sleep
	return c
}

// script answers each request with the next of its responses.
type script struct {
	mu   sync.Mutex
	reqs []*http.Request
	keys []string
	resp []func(w http.ResponseWriter)
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, r)
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	s.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	if i >= len(s.resp) {
		i = len(s.resp) - 1
	}
	s.resp[i](w)
}

func problemResp(status int, code string, retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		io.WriteString(w, `{"type":"about:blank","title":"x","status":`+strconv.Itoa(status)+`,"code":"`+code+`","detail":"d","field":"phone"}`)
	}
}

func jsonResp(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const startBody = `{"id":"vf_1","status":"pending","channel":"missed_call","phone":"+442079460018","client_token":"ct_x","expires_at":"2026-01-02T03:04:05Z","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z","completed_at":null,"result_code":null,"reason":null}`

func TestStartRetriesWithOneIdempotencyKey(t *testing.T) {
	s := &script{resp: []func(http.ResponseWriter){
		problemResp(503, "unavailable", ""),
		problemResp(429, "rate_limited", "2"),
		jsonResp(201, startBody),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	fs := &fakeSleep{}
	v, err := newTestClient(srv.URL, fs).Start(context.Background(), StartRequest{Phone: "+442079460018", Channel: MissedCall})
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != "vf_1" || v.ClientToken != "ct_x" || v.CompletedAt != nil {
		t.Fatalf("decoded %+v", v)
	}
	if len(s.keys) != 3 || s.keys[0] == "" || s.keys[0] != s.keys[1] || s.keys[1] != s.keys[2] {
		t.Fatalf("Idempotency-Key across the retries: %q", s.keys)
	}
	if len(fs.waits) != 2 || fs.waits[1] != 2*time.Second {
		t.Fatalf("waits %v: want a backoff, then Retry-After's 2s", fs.waits)
	}
	if got := s.reqs[0].Header.Get("Authorization"); got != "Bearer rg_live_test" {
		t.Fatalf("Authorization %q", got)
	}
	// A second Start gets a key of its own.
	if _, err := newTestClient(srv.URL, fs).Start(context.Background(), StartRequest{Phone: "+442079460018", Channel: MissedCall}); err != nil {
		t.Fatal(err)
	}
	if s.keys[3] == s.keys[0] {
		t.Fatal("two starts shared an Idempotency-Key")
	}
}

func TestRetryBounds(t *testing.T) {
	t.Run("Retry-After beyond the bound is returned at once", func(t *testing.T) {
		s := &script{resp: []func(http.ResponseWriter){problemResp(429, "rate_limited", "3600")}}
		srv := httptest.NewServer(s)
		defer srv.Close()
		fs := &fakeSleep{}
		_, err := newTestClient(srv.URL, fs).Get(context.Background(), "vf_1")
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeRateLimited || pe.RetryAfter != time.Hour || pe.Status != 429 {
			t.Fatalf("err %v (%+v)", err, pe)
		}
		if len(s.reqs) != 1 || len(fs.waits) != 0 {
			t.Fatalf("%d requests, waits %v", len(s.reqs), fs.waits)
		}
	})
	t.Run("a check is not repeated after a 5xx", func(t *testing.T) {
		s := &script{resp: []func(http.ResponseWriter){problemResp(502, "internal", "")}}
		srv := httptest.NewServer(s)
		defer srv.Close()
		_, err := newTestClient(srv.URL, &fakeSleep{}).Check(context.Background(), "vf_1", CheckRequest{Code: "123456"})
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != 502 || len(s.reqs) != 1 {
			t.Fatalf("err %v, %d requests", err, len(s.reqs))
		}
	})
	t.Run("retries stop after the limit", func(t *testing.T) {
		s := &script{resp: []func(http.ResponseWriter){problemResp(500, "internal", "")}}
		srv := httptest.NewServer(s)
		defer srv.Close()
		fs := &fakeSleep{}
		_, err := newTestClient(srv.URL, fs, WithRetries(2, time.Millisecond, 4*time.Millisecond)).Get(context.Background(), "vf_1")
		if err == nil || len(s.reqs) != 3 || len(fs.waits) != 2 {
			t.Fatalf("err %v, %d requests, waits %v", err, len(s.reqs), fs.waits)
		}
		for _, w := range fs.waits {
			if w > 4*time.Millisecond {
				t.Fatalf("backoff %v beyond the maximum", w)
			}
		}
	})
	t.Run("a non-problem error page is still an *Error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			io.WriteString(w, "<h1>nginx</h1>")
		}))
		defer srv.Close()
		_, err := newTestClient(srv.URL, &fakeSleep{}).Get(context.Background(), "vf_1")
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != 404 || pe.Code != "" || !strings.Contains(pe.Detail, "nginx") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("an undecodable 200 is an error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":`)
		}))
		defer srv.Close()
		if _, err := newTestClient(srv.URL, &fakeSleep{}).Get(context.Background(), "vf_1"); err == nil {
			t.Fatal("no error for a truncated body")
		}
	})
	t.Run("an empty id is refused before any request", func(t *testing.T) {
		if _, err := New("k").Get(context.Background(), ""); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if d := retryAfter(now.Add(7*time.Second).Format(http.TimeFormat), now); d != 7*time.Second {
		t.Fatalf("%v", d)
	}
	if d := retryAfter("soon", now); d != 0 {
		t.Fatalf("%v", d)
	}
}
