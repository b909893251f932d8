package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/httpapi/openapitest"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/testutil"
)

const (
	testKey    = "rg_live_e2e0123456789abcdefghijklmn"
	testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // 24 bytes
)

// harness is one running ringgate in dev mode, driven as a customer would:
// over HTTP only.
type harness struct {
	t      *testing.T
	srv    *server.Server
	url    string
	key    string
	client *http.Client
}

// startServer runs ringgate dev on 127.0.0.1:0 with data in dir.
func startServer(t *testing.T, dir string, mut ...func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", dir
	cfg.Expiry.Interval = 100 * time.Millisecond
	cfg.Webhooks.RetryBase, cfg.Webhooks.RetryMax = 100*time.Millisecond, 400*time.Millisecond
	cfg.Log.Level = "warn"
	for _, m := range mut {
		m(&cfg)
	}
	env := func(k string) (string, bool) {
		switch k {
		case server.EnvDevAPIKey:
			return testKey, true
		case server.EnvDevWebhookSecret:
			return testSecret, true
		}
		return "", false
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, server.Options{Env: env, Logger: server.NewLogger(cfg.Log, testWriter{t})})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	h := &harness{t: t, srv: srv, url: srv.URL(), key: testKey, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() { _ = srv.Close() })
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

func (h *harness) do(method, path, key string, body any, hdr ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Every answer a test sees must be one the OpenAPI document describes;
	// only unknown paths and methods have no operation to check against.
	if !bytes.Contains(b, []byte(`"no_such_route"`)) && resp.StatusCode != http.StatusMethodNotAllowed {
		openapitest.ValidateResponse(h.t, req, resp, b)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) mustStatus(r response, want int) map[string]any {
	h.t.Helper()
	if r.status != want {
		h.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(h.t)
}

// start begins a missed-call verification and returns its JSON.
// parallelChecks sends n checks of code to verification id at once and
// counts the answers by status.
func (h *harness) parallelChecks(id, code string, n int) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := h.check(id, map[string]any{"code": code})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

func (h *harness) start(phone, callback string, extra map[string]any) map[string]any {
	h.t.Helper()
	body := map[string]any{"phone": phone, "channel": "missed_call", "callback_url": callback}
	for k, v := range extra {
		body[k] = v
	}
	return h.mustStatus(h.do("POST", "/v1/verifications", h.key, body), http.StatusCreated)
}

// call delivers a simulated inbound call.
func (h *harness) call(from, to string) map[string]any {
	h.t.Helper()
	return h.mustStatus(h.do("POST", "/sim/calls", "", map[string]string{"from": from, "to": to}), http.StatusOK)
}

// waitFor polls until a condition holds (testutil.WaitFor, short for the
// many e2e waits of this package).
var waitFor = testutil.WaitFor

// hook is one webhook as a customer's endpoint received it.
type hook struct {
	ID, Timestamp, Signature string
	Type                     string
	Data                     map[string]any
	Raw                      []byte
}

// receiver is a customer's webhook endpoint. It verifies every signature by
// hand, from the Standard Webhooks spec, independent of ringgate's code.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	hooks  []hook
	bad    []string
	fail   bool // answer 503 while true
}

func newReceiver(t *testing.T, secret string) *receiver {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, secret: raw}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hooks" }

func (r *receiver) setFailing(f bool) {
	r.mu.Lock()
	r.fail = f
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	h := hook{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"), Signature: req.Header.Get("webhook-signature"), Raw: body}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := r.check(h); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		r.bad = append(r.bad, "body: "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.Type, h.Data = env.Type, env.Data
	r.hooks = append(r.hooks, h)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) check(h hook) error {
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil || h.ID == "" {
		return fmt.Errorf("missing webhook-id or webhook-timestamp")
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s too far from now", h.Timestamp)
	}
	m := hmac.New(sha256.New, r.secret)
	fmt.Fprintf(m, "%s.%s.%s", h.ID, h.Timestamp, h.Raw)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Fields(h.Signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("signature %q does not match", h.Signature)
}

// of returns the hooks received for one verification, in arrival order.
func (r *receiver) of(id string) []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hook
	for _, h := range r.hooks {
		if h.Data["id"] == id {
			out = append(out, h)
		}
	}
	if len(r.bad) > 0 {
		r.t.Errorf("receiver refused webhooks: %v", r.bad)
	}
	return out
}

func types(hs []hook) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Type)
	}
	return out
}

// sse is a Server-Sent Events reader.
type sse struct {
	resp   *http.Response
	events chan sseEvent
}

type sseEvent struct {
	ID, Event string
	Data      map[string]any
}

func (h *harness) stream(path, key string, lastID string) (*sse, int) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	s := &sse{resp: resp, events: make(chan sseEvent, 64)}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.ID != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				var env struct {
					Data map[string]any `json:"data"`
				}
				_ = json.Unmarshal([]byte(line[6:]), &env)
				ev.Data = env.Data
			}
		}
	}()
	return s, http.StatusOK
}

// sentBy is the carrier the last sms.sent event names as the outbound's.
func sentBy(events []sseEvent) any {
	var carrier any
	for _, e := range events {
		if e.Event == "sms.sent" {
			out, _ := e.Data["outbound"].(map[string]any)
			carrier = out["carrier"]
		}
	}
	return carrier
}

// collect reads events until the stream ends or d passes.
func (s *sse) collect(t *testing.T, d time.Duration) []sseEvent {
	t.Helper()
	var out []sseEvent
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("stream did not end within %v; got %v", d, out)
		}
	}
}
