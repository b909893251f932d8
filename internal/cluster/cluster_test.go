package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringgate/ringgate/internal/rgproc"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/testutil"
)

// Timing of the nodes. The lease is short so that the test waits little for
// the deliveries of the node it kills.
const (
	hookTimeout = 5 * time.Second
	hookLease   = 7 * time.Second
	workers     = 2 // per node: 3 nodes hold at most 6 deliveries at once
)

func TestMain(m *testing.M) { rgproc.Main(m) }

// receiver is the customer's webhook endpoint. While stalled it holds every
// request open until released; it records each request's webhook-id and
// whether it was answered or its sender went away first.
type receiver struct {
	mu       sync.Mutex
	inFlight int
	answered map[string]int // webhook-id → requests answered 200
	gone     map[string]int // webhook-id → requests whose sender vanished
	release  chan struct{}
	once     sync.Once
	changed  chan struct{}
}

// Release answers every held request and every later one at once.
func (rc *receiver) Release() { rc.once.Do(func() { close(rc.release) }) }

func newReceiver() *receiver {
	return &receiver{answered: map[string]int{}, gone: map[string]int{}, release: make(chan struct{}), changed: make(chan struct{}, 1)}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("webhook-id")
	_, _ = io.Copy(io.Discard, r.Body)
	rc.update(func() { rc.inFlight++ })
	defer rc.update(func() { rc.inFlight-- })
	select {
	case <-rc.release:
	case <-r.Context().Done():
		rc.update(func() { rc.gone[id]++ })
		return
	}
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	rc.update(func() { rc.answered[id]++ })
}

func (rc *receiver) update(fn func()) {
	rc.mu.Lock()
	fn()
	rc.mu.Unlock()
	select {
	case rc.changed <- struct{}{}:
	default:
	}
}

// waitFor polls cond (under the lock) until it holds, for at most d.
func (rc *receiver) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		rc.mu.Lock()
		ok := cond()
		rc.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-rc.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			rc.mu.Lock()
			defer rc.mu.Unlock()
			t.Fatalf("%s: not within %v (in flight %d, answered %v, gone %v)", what, d, rc.inFlight, rc.answered, rc.gone)
		}
	}
}

func api(t *testing.T, method, url, key string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, url, err, b)
	}
	return out
}

// sseTypes reads an SSE stream until it ends or ctx is done, sending each
// event's type to out.
func sseTypes(ctx context.Context, url, key string, out chan<- string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("events: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if typ, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			out <- typ
		}
	}
	return sc.Err()
}

var fieldRE = regexp.MustCompile(`(?m)^(app|api key)\s+(\S+)$`)

// TestThreeNodes runs three ringgate processes on one schema: a
// verification started on A and completed by a call on B is streamed live
// on C; concurrent duplicate calls verify once; and when B is killed while
// it holds webhook deliveries, every webhook still arrives, once, after the
// lease.
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ringgate processes")
	}
	t.Parallel()
	dbURL := pgtest.Schema(t)
	rgproc.Binary(t) // build first: the nodes start in seconds, the build takes longer

	rc := newReceiver()
	hooks := httptest.NewServer(rc)
	defer hooks.Close()
	defer rc.Release() // let handlers still held return before Close waits on them

	var secret [32]byte
	_, _ = rand.Read(secret[:])
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"RINGGATE_SECRET=" + hex.EncodeToString(secret[:]),
		"RINGGATE_DATABASE_URL=" + dbURL,
		"RINGGATE_WEBHOOKS_ALLOW_NETWORKS=127.0.0.0/8",
	}
	out := rgproc.Run(t, env, 60*time.Second, "apps", "create", "--name", "cluster test", "--callback-url", hooks.URL+"/hook")
	fields := map[string]string{}
	for _, m := range fieldRE.FindAllStringSubmatch(out, -1) {
		fields[m[1]] = m[2]
	}
	appID, key := fields["app"], fields["api key"]
	if appID == "" || key == "" {
		t.Fatalf("apps create printed no app id or key:\n%s", out)
	}
	const pool = "+12025550100"
	rgproc.Run(t, env, 60*time.Second, "numbers", "add", "--app", appID, "--country", "*", pool)

	cfgFile := filepath.Join(t.TempDir(), "ringgate.yaml")
	cfg := fmt.Sprintf(`simulator:
  enabled: true
webhooks:
  timeout: %s
  lease: %s
  workers: %d
  retry_base: 200ms
  retry_max: 1s
expiry:
  interval: 500ms
log:
  level: info
`, hookTimeout, hookLease, workers)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := rgproc.Serve(t, "node A", cfgFile, env)
	b := rgproc.Serve(t, "node B", cfgFile, env)
	c := rgproc.Serve(t, "node C", cfgFile, env)
	// Two webhooks per verifying call, so that the first three
	// verifications fill the three nodes' workers (step 3).
	api(t, http.MethodPatch, a.URL+"/v1/app", key, map[string]any{"matched_call_events": "both"})

	// 1. Live across nodes: start on A, stream on C, call on B.
	const verifications = 6
	type started struct{ id, phone, dial string }
	var vs []started
	for i := range verifications {
		phone := fmt.Sprintf("+44207946%04d", 100+i)
		v := api(t, http.MethodPost, a.URL+"/v1/verifications", key, map[string]any{"phone": phone, "channel": "missed_call"})
		vs = append(vs, started{id: v["id"].(string), phone: v["phone"].(string), dial: v["dial_number"].(string)})
	}
	sctx, scancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer scancel()
	types := make(chan string, 16)
	sseDone := make(chan error, 1)
	go func() { sseDone <- sseTypes(sctx, c.URL+"/v1/verifications/"+vs[0].id+"/events", key, types) }()
	select {
	case typ := <-types:
		if typ != "verification.created" {
			t.Fatalf("first event on C: %q", typ)
		}
	case err := <-sseDone:
		t.Fatalf("stream on C ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("stream on C: no first event in 10s")
	}
	called := time.Now()
	res := api(t, http.MethodPost, b.URL+"/sim/calls", key, map[string]any{"from": vs[0].phone, "to": vs[0].dial})
	if res["verification_id"] != vs[0].id {
		t.Fatalf("call on B matched %v, want %s", res["verification_id"], vs[0].id)
	}
	// The stream's own reread runs every 15 s; within 5 s means a notice
	// crossed from B to C.
	var got []string
	for len(got) < 2 {
		select {
		case typ := <-types:
			got = append(got, typ)
		case <-time.After(5*time.Second - time.Since(called)):
			t.Fatalf("stream on C: %v within 5s of the call on B, want call.received and verification.verified", got)
		}
	}
	if got[0] != "call.received" || got[1] != "verification.verified" {
		t.Errorf("stream on C after the call: %v", got)
	}
	t.Logf("C streamed the verification %v after the call on B", time.Since(called).Round(time.Millisecond))

	// 2. The other five: one called on A, one on C, and the other three
	// twice, on B and on C at once. Of a pair, one verifies; the other
	// finds nothing pending.
	api(t, http.MethodPost, a.URL+"/sim/calls", key, map[string]any{"from": vs[1].phone, "to": vs[1].dial})
	api(t, http.MethodPost, c.URL+"/sim/calls", key, map[string]any{"from": vs[2].phone, "to": vs[2].dial})
	var wg sync.WaitGroup
	for _, v := range vs[3:] {
		for _, n := range []*rgproc.Proc{b, c} {
			wg.Go(func() {
				api(t, http.MethodPost, n.URL+"/sim/calls", key, map[string]any{"from": v.phone, "to": v.dial})
			})
		}
	}
	wg.Wait()

	// 3. Webhooks: 2 per verification (call.received, verification.verified).
	// A node sends the webhooks of the calls it verified itself (they are
	// handed to its dispatcher, leased to it); the receiver holds them all,
	// so each node fills its 2 workers: B with the first verification's, A
	// with the second's, C with the third's. B's queued ones, if it
	// verified any of the pairs, are lost with it and claimed after their
	// lease like those it was sending.
	const wantHooks = 2 * verifications
	rc.waitFor(t, 15*time.Second, "every node holding deliveries", func() bool { return rc.inFlight == 3*workers })

	b.Kill(t)
	killed := time.Now()
	rc.waitFor(t, 5*time.Second, "B's requests dropped", func() bool {
		n := 0
		for _, k := range rc.gone {
			n += k
		}
		return n == workers
	})
	rc.mu.Lock()
	heldByB := make([]string, 0, workers)
	for id := range rc.gone {
		heldByB = append(heldByB, id)
	}
	rc.mu.Unlock()
	rc.Release()

	rc.waitFor(t, hookLease+20*time.Second, "every webhook answered", func() bool { return len(rc.answered) == wantHooks })
	t.Logf("all %d webhooks answered %v after B was killed (lease %v)", wantHooks, time.Since(killed).Round(time.Millisecond), hookLease)

	rc.mu.Lock()
	for id, n := range rc.answered {
		if n != 1 {
			t.Errorf("webhook %s answered %d times, want once", id, n)
		}
	}
	for id, n := range rc.gone {
		if n != 1 {
			t.Errorf("webhook %s dropped %d times, want once (only by B)", id, n)
		}
	}
	rc.mu.Unlock()

	// 4. The database: each verification verified once, its three events
	// in order, each delivery delivered once.
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, v := range vs {
		var status string
		if err := conn.QueryRow(t.Context(), `SELECT status FROM verifications WHERE id = $1`, v.id).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != "verified" {
			t.Errorf("%s: status %s", v.id, status)
		}
		rows, err := conn.Query(t.Context(), `SELECT type FROM events WHERE verification_id = $1 ORDER BY id`, v.id)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"verification.created", "call.received", "verification.verified"}; !slicesEqual(evs, want) {
			t.Errorf("%s: events %v, want %v", v.id, evs, want)
		}
	}
	var delivered, total, attempts int
	settled := testutil.Eventually(10*time.Second, func() bool {
		err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FILTER (WHERE status = 'delivered'), COUNT(*), COALESCE(SUM(attempts), 0)
			FROM webhook_deliveries`).Scan(&delivered, &total, &attempts)
		if err != nil {
			t.Fatal(err)
		}
		if total != wantHooks {
			t.Fatalf("%d deliveries in the outbox, want %d", total, wantHooks)
		}
		return delivered == total
	})
	if !settled {
		t.Fatalf("%d of %d deliveries settled as delivered after 10s", delivered, total)
	}
	// B's attempts were never settled: one attempt each.
	if attempts != wantHooks {
		t.Errorf("%d attempts recorded, want %d", attempts, wantHooks)
	}
	for _, id := range heldByB {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM webhook_deliveries WHERE id = $1 AND status = 'delivered'`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("delivery %s held by B: delivered rows %d, %v", id, n, err)
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
