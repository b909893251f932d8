package server_test

// Attacks on what the HTTP server lets a client hold (connections, slow
// bodies, live streams), on what it exposes besides the API (metrics,
// pprof), on its data files and on its logs. Each plays the attacker
// through a real listener or the real configuration path.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/testutil"
	"github.com/ringgate/ringgate/internal/verify"
)

// startServerWith is startServer with server options (an instrumented
// store).
func startServerWith(t *testing.T, dir string, opt server.Options, mut ...func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", dir
	cfg.Log.Level = "warn"
	for _, m := range mut {
		m(&cfg)
	}
	opt.Env = func(k string) (string, bool) {
		switch k {
		case server.EnvDevAPIKey:
			return testKey, true
		case server.EnvDevWebhookSecret:
			return testSecret, true
		}
		return "", false
	}
	opt.Logger = server.NewLogger(cfg.Log, testWriter{t})
	srv, err := server.New(t.Context(), cfg, opt)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &harness{t: t, srv: srv, url: srv.URL(), key: testKey, client: &http.Client{Timeout: 10 * time.Second}}
}

// rawRequest opens a TCP connection to the harness and writes head (a
// request line and headers, without the blank line) and then body.
func rawRequest(t *testing.T, h *harness, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", h.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"\r\nHost: ringgate\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	return c
}

// readUntilClosed reads c until the server closes it or limit passes; it
// returns what was read and whether the server closed the connection.
func readUntilClosed(c net.Conn, limit time.Duration) ([]byte, bool) {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(c)
	var ne net.Error
	if err != nil && errors_As(err, &ne) && ne.Timeout() {
		return b, false
	}
	return b, true
}

func errors_As(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

// 14.5: clients that send headers and then trickle (or stall) their body
// hold a connection and a goroutine each for as long as they like. With a
// body deadline every such connection is closed soon after it; a request
// with a valid key gets 408, one with an invalid key its 401 at once.
func TestAttackSlowBodyConnectionsHeld(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Limits.BodyTimeout = deadline })

	type result struct {
		head   string
		closed bool
	}
	run := func(n int, key string) []result {
		out := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			c := rawRequest(t, h, "POST /v1/verifications HTTP/1.1\r\nAuthorization: Bearer "+key+
				"\r\nContent-Type: application/json\r\nContent-Length: 1000", `{"phone":`)
			wg.Go(func() {
				b, closed := readUntilClosed(c, deadline+5*time.Second)
				line, _, _ := strings.Cut(string(b), "\r\n")
				out[i] = result{line, closed}
			})
		}
		wg.Wait()
		return out
	}

	// 200 slow bodies with a key that does not exist.
	held := 0
	for _, r := range run(200, "rg_live_notakey000000000000000000000") {
		if !r.closed {
			held++
		} else if !strings.HasPrefix(r.head, "HTTP/1.1 401") {
			t.Errorf("invalid key, slow body: got %q, want 401", r.head)
		}
	}
	if held > 0 {
		t.Fatalf("%d of 200 slow-body connections with an invalid key were still open %v after the body deadline", held, 5*time.Second)
	}
	// 20 slow bodies with the valid key: 408 once the deadline passes.
	for _, r := range run(20, h.key) {
		if !r.closed {
			t.Fatalf("a slow body with a valid key was still open %v after the body deadline", 5*time.Second)
		}
		if !strings.HasPrefix(r.head, "HTTP/1.1 408") {
			t.Fatalf("valid key, slow body: got %q, want 408", r.head)
		}
	}
	// The server still serves.
	h.mustStatus(h.do("GET", "/healthz", "", nil), http.StatusOK)
}

// 14.5: Expect: 100-continue with a declared body larger than the limit is
// answered 413 (problem JSON) before the client sends the body, instead of
// 100 Continue, megabytes read, and a reset connection.
func TestAttackExpectContinueOversizedBody(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	c := rawRequest(t, h, "POST /v1/verifications HTTP/1.1\r\nAuthorization: Bearer "+h.key+
		"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 10000000", "")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("100-continue with a 10 MB body: first answer %d %s, want 413", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || !bytes.Contains(body, []byte(`"code":"body_too_large"`)) {
		t.Fatalf("413 is not problem JSON: %s %s", ct, body)
	}
}

// 14.5: connections beyond limits.max_connections are not accepted until
// one closes, so a flood cannot take a file descriptor and a goroutine per
// connection without bound.
func TestAttackConnectionFlood(t *testing.T) {
	t.Parallel()
	const limit = 20
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Limits.MaxConnections, c.Limits.SSE.MaxStreams = limit, limit/2 })
	get := "GET /healthz HTTP/1.1"
	var holders []net.Conn
	for range limit {
		c := rawRequest(t, h, get, "")
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("holder: %v", err)
		}
		resp.Body.Close()
		holders = append(holders, c) // kept alive, idle
	}
	extra := rawRequest(t, h, get, "")
	br := bufio.NewReader(extra)
	_ = extra.SetReadDeadline(time.Now().Add(time.Second))
	if resp, err := http.ReadResponse(br, nil); err == nil {
		resp.Body.Close()
		t.Fatalf("connection %d of a limit of %d was served (%d)", limit+1, limit, resp.StatusCode)
	}
	// One holder leaves: the waiting connection is served.
	holders[0].Close()
	_ = extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("waiting connection after a slot freed: %v", err)
	}
	resp.Body.Close()
}

// openStream opens GET path and returns the response, or the refusal's
// status and body.
func openStream(t *testing.T, h *harness, path, key string) (*http.Response, int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.url+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, resp.StatusCode, string(b)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, http.StatusOK, ""
}

// 14.8: live streams are capped per token, per client address and per
// process; beyond a cap the answer is 429 with problem JSON, and nothing
// is held.
func TestAttackSSEFlood(t *testing.T) {
	t.Parallel()
	t.Run("per token and per IP", func(t *testing.T) {
		h := startServer(t, t.TempDir(), func(c *config.Config) {
			c.Limits.SSE.MaxPerToken, c.Limits.SSE.MaxPerIP, c.Limits.SSE.MaxStreams = 4, 6, 100
		})
		v := h.start("+14155550610", h.url+"/dev/webhooks", nil)
		id, tok := v["id"].(string), v["client_token"].(string)
		byKey := "/v1/verifications/" + id + "/events"
		for i := range 4 {
			if _, st, body := openStream(t, h, byKey, h.key); st != http.StatusOK {
				t.Fatalf("stream %d on the key: %d %s", i+1, st, body)
			}
		}
		_, st, body := openStream(t, h, byKey, h.key)
		if st != http.StatusTooManyRequests || !strings.Contains(body, `"status":429`) {
			t.Fatalf("stream 5 on one key (cap 4): %d %s, want 429 problem JSON", st, body)
		}
		byTok := byKey + "?token=" + tok
		for i := range 2 {
			if _, st, body := openStream(t, h, byTok, ""); st != http.StatusOK {
				t.Fatalf("stream %d on the client token: %d %s", i+1, st, body)
			}
		}
		_, st, body = openStream(t, h, byTok, "")
		if st != http.StatusTooManyRequests || !strings.Contains(body, `"status":429`) {
			t.Fatalf("stream 7 from one address (cap 6): %d %s, want 429 problem JSON", st, body)
		}
	})
	t.Run("per process", func(t *testing.T) {
		h := startServer(t, t.TempDir(), func(c *config.Config) {
			c.Limits.SSE.MaxPerToken, c.Limits.SSE.MaxPerIP, c.Limits.SSE.MaxStreams = 100, 100, 5
		})
		v := h.start("+14155550611", h.url+"/dev/webhooks", nil)
		path := "/v1/verifications/" + v["id"].(string) + "/events"
		for i := range 5 {
			if _, st, body := openStream(t, h, path, h.key); st != http.StatusOK {
				t.Fatalf("stream %d: %d %s", i+1, st, body)
			}
		}
		refused := 0
		for range 50 {
			if _, st, _ := openStream(t, h, path, h.key); st == http.StatusTooManyRequests {
				refused++
			}
		}
		if refused != 50 {
			t.Fatalf("%d of 50 streams beyond a process cap of 5 were refused, want all", refused)
		}
	})
}

// countingStore counts the store's event reads.
type countingStore struct {
	server.Store
	reads atomic.Int64
}

func (c *countingStore) Events(ctx context.Context, id string, after int64, limit int) ([]verify.Event, error) {
	c.reads.Add(1)
	return c.Store.Events(ctx, id, after, limit)
}

// 14.8: a stream's heartbeat reads nothing from the database; 2,000 idle
// streams would otherwise be 2,000 queries per heartbeat.
func TestAttackSSEHeartbeatReadsStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "ringgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	h := startServerWith(t, dir, server.Options{Store: cs}, func(c *config.Config) {
		c.Limits.SSE.Heartbeat = 20 * time.Millisecond
	})
	v := h.start("+14155550612", h.url+"/dev/webhooks", nil)
	resp, st2, body := openStream(t, h, "/v1/verifications/"+v["id"].(string)+"/events", h.key)
	if st2 != http.StatusOK {
		t.Fatalf("stream: %d %s", st2, body)
	}
	sc := bufio.NewScanner(resp.Body)
	// Read to the first heartbeat: the stream's opening reads are done.
	beats := 0
	for beats < 1 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), ": keep-alive") {
			beats++
		}
	}
	before := cs.reads.Load()
	for beats < 21 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), ": keep-alive") {
			beats++
		}
	}
	if beats < 21 {
		t.Fatalf("stream ended after %d heartbeats: %v", beats, sc.Err())
	}
	if n := cs.reads.Load() - before; n > 1 {
		t.Fatalf("20 heartbeats read the store's events %d times, want none (a slow safety re-read at most once)", n)
	}
}

// 14.4: a stream opened with a key that is then revoked ends within the
// key re-check interval, whether the key was revoked through this node's
// API or elsewhere (another node, the CLI: only the database knows).
func TestAttackRevokedKeyStreamContinues(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Limits.SSE.KeyRecheck = 500 * time.Millisecond })
	for i, how := range []string{"api", "elsewhere"} {
		t.Run(how, func(t *testing.T) {
			k := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "verify"}), http.StatusCreated)
			key, keyID := k["key"].(string), k["id"].(string)
			v := h.start(fmt.Sprintf("+1415555062%d", i), h.url+"/dev/webhooks", nil)
			s, st := h.stream("/v1/verifications/"+v["id"].(string)+"/events", key, "")
			if st != http.StatusOK {
				t.Fatalf("stream: %d", st)
			}
			<-s.events // verification.started: the stream is live
			if how == "api" {
				h.mustStatus(h.do("DELETE", "/v1/keys/"+keyID, h.key, nil), http.StatusOK)
			} else if _, err := h.srv.Operator().RevokeKey(t.Context(), verify.LiveTenant("app_demo"), keyID); err != nil {
				t.Fatal(err)
			}
			revoked := time.Now()
			s.collect(t, 5*time.Second) // fails unless the stream ends
			t.Logf("stream of a key revoked (%s) ended after %v", how, time.Since(revoked).Round(time.Millisecond))
		})
	}
}

// 14.10: in serve mode /metrics is not on the public API port.
func TestAttackMetricsOnAPIPort(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Mode = config.ModeServe
		c.Secret = strings.Repeat("ef", 32)
	})
	r := h.do("GET", "/metrics", "", nil)
	if r.status != http.StatusNotFound || strings.Contains(string(r.body), "go_goroutines") {
		t.Fatalf("GET /metrics on the API port in serve mode: %d %.200s, want 404", r.status, r.body)
	}
}

// 14.10: pprof is loopback-only unless the operator says otherwise.
func TestAttackPprofOnPublicAddress(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults(config.ModeServe)
	cfg.HTTP, cfg.Secret = "127.0.0.1:0", strings.Repeat("ef", 32)
	cfg.Database.URL = "sqlite:" + filepath.Join(t.TempDir(), "ringgate.db")
	cfg.Debug.PprofAddr = "0.0.0.0:0"
	var logs testutil.SyncBuffer
	srv, err := server.New(t.Context(), cfg, server.Options{Logger: server.NewLogger(cfg.Log, &logs)})
	if err == nil {
		err = srv.Start(t.Context())
		defer srv.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "pprof") {
		t.Fatalf("pprof on 0.0.0.0 without debug.pprof_remote: started (err %v), want a config error; log:\n%s", err, logs.String())
	}
}

// 14.11: the SQLite database and its WAL are readable by nobody but the
// owner, a directory ringgate creates for them is 0700, and a webhook
// secret does not appear in the clear in the files' bytes.
func TestAttackDataFilesReadable(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"", "data"} { // an existing directory, then one ringgate creates
		dir := filepath.Join(t.TempDir(), sub)
		db := filepath.Join(dir, "ringgate.db")
		h := startServer(t, t.TempDir(), func(c *config.Config) {
			c.Mode = config.ModeServe
			c.Secret = strings.Repeat("ef", 32)
			c.Database.URL = "sqlite:" + db
		})
		const secret = "whsec_QXR0YWNrZXJXYW50c1RoaXNTZWNyZXQwMTIz" // "AttackerWantsThisSecret0123"
		a := newApp("app_files", "rg_live_files000000000000000000000000")
		a.WebhookSecret = secret
		if _, err := h.srv.Operator().CreateApp(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if sub != "" {
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("data directory %s: %v %v, want 0700", dir, fi.Mode().Perm(), err)
			}
		}
		var all []byte
		for _, name := range []string{db, db + "-wal", db + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s is %v, want 0600", filepath.Base(name), fi.Mode().Perm())
			}
			b, _ := os.ReadFile(name)
			all = append(all, b...)
		}
		if bytes.Contains(all, []byte(secret)) || bytes.Contains(all, []byte("QXR0YWNrZXJXYW50c1RoaXNTZWNyZXQwMTIz")) {
			t.Fatalf("the webhook secret is in the clear in the database files")
		}
	}
}

// 14.12: a database password, in the URL's userinfo or its query, is not
// written to the log.
func TestAttackDatabaseURLPasswordLogged(t *testing.T) {
	t.Parallel()
	base := pgtest.Schema(t) // postgres://postgres@…?sslmode=disable&search_path=…
	url := strings.Replace(base, "postgres@", "postgres:UserinfoPw1x@", 1) + "&password=QueryPw2x"
	var logs testutil.SyncBuffer
	cfg := config.Defaults(config.ModeServe)
	cfg.HTTP, cfg.Secret, cfg.Database.URL = "127.0.0.1:0", strings.Repeat("ef", 32), url
	srv, err := server.New(t.Context(), cfg, server.Options{Logger: server.NewLogger(cfg.Log, &logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "ringgate started") {
		t.Fatalf("no start line in the log:\n%s", out)
	}
	for _, pw := range []string{"UserinfoPw1x", "QueryPw2x"} {
		if strings.Contains(out, pw) {
			t.Fatalf("the log holds the database password %s:\n%s", pw, out)
		}
	}
}

// Serve mode's metrics are on metrics.listen, their own listener.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Mode = config.ModeServe
		c.Secret = strings.Repeat("ef", 32)
		c.Metrics.Listen = "127.0.0.1:0"
	})
	resp, err := http.Get("http://" + h.srv.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("go_goroutines")) {
		t.Fatalf("metrics.listen: %d %.200s", resp.StatusCode, b)
	}
	h.mustStatus(h.do("GET", "/metrics", "", nil), http.StatusNotFound)
}

// 14.4 across nodes: a key revoked through node A's API ends the stream
// node B serves on it within B's key re-check interval (B hears nothing of
// the revocation but the database's answer).
func TestAttackRevokedKeyStreamOtherNode(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	const recheck = time.Second
	pg := func(c *config.Config) {
		c.Database.URL, c.Secret = dbURL, strings.Repeat("ab", 32)
		c.Limits.SSE.KeyRecheck = recheck
	}
	a := startServer(t, t.TempDir(), pg)
	b := startServer(t, t.TempDir(), pg)
	k := a.mustStatus(a.do("POST", "/v1/keys", a.key, map[string]any{"scope": "verify"}), http.StatusCreated)
	key, keyID := k["key"].(string), k["id"].(string)
	v := a.start("+14155550630", a.url+"/dev/webhooks", nil)
	s, st := b.stream("/v1/verifications/"+v["id"].(string)+"/events", key, "")
	if st != http.StatusOK {
		t.Fatalf("stream on node B: %d", st)
	}
	<-s.events // verification.started
	a.mustStatus(a.do("DELETE", "/v1/keys/"+keyID, a.key, nil), http.StatusOK)
	revoked := time.Now()
	s.collect(t, recheck+4*time.Second)
	t.Logf("node B's stream of a key revoked on node A ended after %v (key_recheck %v)", time.Since(revoked).Round(time.Millisecond), recheck)
}

// A client that is still sending an oversized body when the server has
// refused it gets the 413 problem, not a TCP reset. The server reads and
// discards a bounded amount of the refused body before it closes: closing
// a socket with unread data resets the connection, and the client's next
// write fails instead of its answer arriving. This client sends the second
// half of its body a second after the first, past net/http's half-second
// wait between its FIN and the close (the slow sender is the case under
// test, not an ordering of events).
func TestAttackOversizedBodyStillAnswered(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	big := `{"phone":"+14155552691","channel":"missed_call","metadata":{"k":"` + strings.Repeat("x", 70<<10) + `"}}`
	half := len(big) / 2
	c := rawRequest(t, h, "POST /v1/verifications HTTP/1.1\r\nAuthorization: Bearer "+h.key+
		"\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(big)), big[:half])
	time.Sleep(time.Second)
	if _, err := io.WriteString(c, big[half:]); err != nil {
		t.Fatalf("sending the rest of a %d-byte body: %v", len(big), err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to a %d-byte body: %v", len(big), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the 413's body: %v", err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte(`"code":"body_too_large"`)) {
		t.Fatalf("oversized body: %d %s, want 413 body_too_large", resp.StatusCode, body)
	}
}

// Streams detached while the server closes: Close ends every stream it
// counted and waits for it, and takes over none after it began. Before
// f867d5f a stream detached during Close called WaitGroup.Add beside
// CloseStreams' Wait, which the race detector found once by chance in
// another test; this one runs the two together on purpose, so that -race
// sees a regression, and every stream a client got must end.
func TestStreamsDetachedWhileClosing(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Limits.SSE.MaxPerToken, c.Limits.SSE.MaxPerIP, c.Limits.SSE.MaxStreams = 1000, 1000, 1000
	})
	v := h.start("+14155550612", h.url+"/dev/webhooks", nil)
	req := "GET /v1/verifications/" + v["id"].(string) + "/events HTTP/1.1\r\nAuthorization: Bearer " + h.key
	const openers, each = 8, 40
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		streams []net.Conn // each answered 200
		opened  atomic.Int64
	)
	for range openers {
		wg.Go(func() {
			for range each {
				c, err := net.Dial("tcp", h.srv.Addr())
				if err != nil {
					return // the listener closed
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, req+"\r\nHost: ringgate\r\n\r\n"); err != nil {
					c.Close()
					return
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					c.Close()
					if err != nil {
						return // closing
					}
					continue
				}
				mu.Lock()
				streams = append(streams, c)
				mu.Unlock()
				opened.Add(1)
			}
		})
	}
	testutil.WaitFor(t, 10*time.Second, "streams open", func() bool { return opened.Load() >= openers })
	closed := make(chan error, 1)
	go func() { closed <- h.srv.Close() }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return within 20 s while streams were being detached")
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i, c := range streams {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("stream %d of %d not ended by Close: %v", i+1, len(streams), err)
		}
		c.Close()
	}
	t.Logf("%d streams open when Close began or during it; all ended", len(streams))
}
