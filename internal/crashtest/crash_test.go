package crashtest_test

import (
	"bytes"
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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/rgproc"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/testutil"
)

// The burst: bounded in count and time.
const (
	burst      = 80 // verifications started
	workers    = 4  // concurrent API clients
	killAfter  = 40 // SIGKILL once this many starts have been answered
	settleTime = 30 * time.Second
)

func TestMain(m *testing.M) { rgproc.Main(m) }

// receiver is the customer's endpoint. It refuses the first attempt of
// every message (503), so that every webhook needs a retry and many are in
// flight or due when the process is killed; it records every attempt.
type receiver struct {
	mu       sync.Mutex
	attempts map[string]int // webhook-id → requests
	ok       map[string]int // webhook-id → requests answered 2xx
	typ      map[string]string
	vid      map[string]string
	phase    map[string]map[int]bool // webhook-id → process generations (1, 2) that sent it
	gen      atomic.Int32
	bad      []string
}

func newReceiver() *receiver {
	return &receiver{attempts: map[string]int{}, ok: map[string]int{}, typ: map[string]string{}, vid: map[string]string{}, phase: map[string]map[int]bool{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("webhook-id")
	var env struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if id == "" || json.Unmarshal(body, &env) != nil || env.Data.ID == "" {
		rc.bad = append(rc.bad, fmt.Sprintf("id %q body %q", id, body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if t, ok := rc.typ[id]; ok && (t != env.Type || rc.vid[id] != env.Data.ID) {
		rc.bad = append(rc.bad, fmt.Sprintf("webhook-id %s reused for %s %s (was %s %s)", id, env.Type, env.Data.ID, t, rc.vid[id]))
	}
	rc.typ[id], rc.vid[id] = env.Type, env.Data.ID
	rc.attempts[id]++
	if rc.phase[id] == nil {
		rc.phase[id] = map[int]bool{}
	}
	rc.phase[id][int(rc.gen.Load())] = true
	if rc.attempts[id] == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.ok[id]++
	w.WriteHeader(http.StatusNoContent)
}

type client struct {
	t    *testing.T
	base string
	key  string
	http *http.Client
}

func (c client) do(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err // cut off mid-answer: not a 2xx the client saw whole
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, nil
}

func (c client) must(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	code, m, err := c.do(method, path, body)
	if err != nil || code != want {
		c.t.Fatalf("%s %s: %d %v %v, want %d", method, path, code, m, err, want)
	}
	return m
}

// all pages through a list route.
func (c client) all(path string) []map[string]any {
	c.t.Helper()
	var out []map[string]any
	cursor := ""
	for range 100 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		q := path + sep + "limit=100"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		m := c.must("GET", q, nil, http.StatusOK)
		for _, x := range m["data"].([]any) {
			out = append(out, x.(map[string]any))
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	c.t.Fatalf("%s: more than 100 pages", path)
	return nil
}

// TestCrashSQLite kills `ringgate serve` on a SQLite file with SIGKILL in
// the middle of a burst of starts, missed calls and webhook deliveries,
// restarts it, and checks what a crash must not lose or repeat.
func TestCrashSQLite(t *testing.T) {
	crashTest(t, "sqlite:"+filepath.Join(t.TempDir(), "ringgate.db"))
}

// TestCrashPostgres is the same on PostgreSQL (a schema of its own).
func TestCrashPostgres(t *testing.T) {
	crashTest(t, pgtest.Schema(t))
}

func crashTest(t *testing.T, dbURL string) {
	if testing.Short() {
		t.Skip("builds and runs the ringgate binary")
	}
	began := time.Now()
	dir := t.TempDir()
	rc := newReceiver()
	rc.gen.Store(1)
	hooks := httptest.NewServer(rc)
	t.Cleanup(hooks.Close)

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfgFile := filepath.Join(dir, "ringgate.yaml")
	cfg := fmt.Sprintf(`secret: %s
database:
  url: %q
simulator:
  enabled: true
webhooks:
  timeout: 2s
  lease: 3s
  retry_base: 100ms
  retry_max: 400ms
  workers: 4
  allow_networks: [127.0.0.1/32]
expiry:
  interval: 1s
log:
  level: warn
`, hex.EncodeToString(secret), dbURL)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}

	out := rgproc.Run(t, env, 30*time.Second, "apps", "create", "--name", "crash", "--callback-url", hooks.URL+"/hook", "--config", cfgFile)
	appID := regexp.MustCompile(`(?m)^app\s+(\S+)`).FindStringSubmatch(out)
	key := regexp.MustCompile(`(?m)^api key\s+(\S+)`).FindStringSubmatch(out)
	if appID == nil || key == nil {
		t.Fatalf("apps create printed no app or key:\n%s", out)
	}
	rgproc.Run(t, env, 30*time.Second, "numbers", "add", "--app", appID[1], "--country", "*", "--config", cfgFile,
		"+12025550100", "+12025550101", "+12025550102", "+12025550103", "+12025550104")

	p1 := rgproc.Serve(t, "process 1", cfgFile, env)
	c := client{t: t, base: p1.URL, key: key[1], http: &http.Client{Timeout: 5 * time.Second}}

	// The burst. Even-numbered phones also make their missed call.
	type started struct {
		id, phone, dial string
		calls           bool // this phone makes its missed call
	}
	var (
		mu        sync.Mutex
		acked     = map[string]started{} // starts answered 2xx
		callAcked = map[string]bool{}    // verification ids whose call was answered as verifying it
		answered  atomic.Int32
		next      atomic.Int32
		wg        sync.WaitGroup
	)
	killed := make(chan struct{})
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			_ = p1.Cmd.Process.Signal(syscall.SIGKILL)
			<-p1.Done
			close(killed)
		})
	}
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= burst {
					return
				}
				select {
				case <-killed:
					return
				default:
				}
				phone := fmt.Sprintf("+1415555%04d", 3000+i)
				code, m, err := c.do("POST", "/v1/verifications", map[string]any{"phone": phone, "channel": "missed_call"})
				if err != nil || code/100 != 2 {
					continue // cut off by the kill: not acknowledged
				}
				s := started{id: m["id"].(string), phone: phone, dial: m["dial_number"].(string), calls: i%2 == 0}
				mu.Lock()
				acked[s.id] = s
				mu.Unlock()
				if answered.Add(1) == killAfter {
					go kill() // mid-burst: the other workers are still sending
				}
				if s.calls {
					code, m, err := c.do("POST", "/sim/calls", map[string]any{"from": phone, "to": s.dial})
					if err == nil && code == http.StatusOK && m["verification_id"] == s.id {
						mu.Lock()
						callAcked[s.id] = true
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	kill()
	if len(acked) < killAfter {
		t.Fatalf("only %d starts were acknowledged before the kill", len(acked))
	}
	rc.gen.Store(2)
	t.Logf("killed after %d acknowledged starts (%d calls acknowledged), %v in", len(acked), len(callAcked), time.Since(began).Round(time.Millisecond))

	p2 := rgproc.Serve(t, "process 2", cfgFile, env)
	c.base = p2.URL

	// 1. Every acknowledged start survived; every acknowledged call's
	// verification is verified.
	for id, s := range acked {
		v := c.must("GET", "/v1/verifications/"+id, nil, http.StatusOK)
		if v["phone"] != s.phone {
			t.Errorf("verification %s: phone %v, want %s", id, v["phone"], s.phone)
		}
		if callAcked[id] && v["status"] != "verified" {
			t.Errorf("verification %s: its call was acknowledged as verifying it, but it is %v", id, v["status"])
		}
	}

	// 2. Call again, after the restart: the calls that were cut off verify
	// now, and repeated calls verify nothing twice.
	for id, s := range acked {
		if s.calls {
			for range 2 {
				c.must("POST", "/sim/calls", map[string]any{"from": s.phone, "to": s.dial}, http.StatusOK)
			}
			if v := c.must("GET", "/v1/verifications/"+id, nil, http.StatusOK); v["status"] != "verified" {
				t.Errorf("verification %s after its calls: %v", id, v["status"])
			}
		}
	}

	// 3. Every webhook is delivered: nothing pending, within settleTime.
	var pending []map[string]any
	if !testutil.Eventually(settleTime, func() bool {
		pending = c.all("/v1/webhooks/deliveries?status=pending")
		return len(pending) == 0
	}) {
		t.Fatalf("%d deliveries still pending %v after the restart: %v", len(pending), settleTime, pending[0])
	}
	deliveries := c.all("/v1/webhooks/deliveries")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Fatalf("the receiver saw bad webhooks: %v", rc.bad)
	}
	listed := map[string]bool{}
	verifiedHooks := map[string][]string{} // verification id → webhook-ids of verification.verified
	across := 0
	for _, d := range deliveries {
		id := d["id"].(string)
		listed[id] = true
		if d["status"] != "delivered" {
			t.Errorf("delivery %s is %v", id, d["status"])
		}
		if rc.ok[id] == 0 {
			t.Errorf("delivery %s (%v of %v) is marked %v but the receiver never accepted it (attempts %d)", id, d["type"], d["verification_id"], d["status"], rc.attempts[id])
		}
		if d["type"] == "verification.verified" {
			verifiedHooks[d["verification_id"].(string)] = append(verifiedHooks[d["verification_id"].(string)], id)
		}
		if rc.phase[id][1] && rc.phase[id][2] {
			across++
		}
	}
	for id := range rc.attempts {
		if !listed[id] {
			t.Errorf("the receiver got webhook-id %s (%s of %s), which no delivery has", id, rc.typ[id], rc.vid[id])
		}
	}
	// Received verified webhooks, by distinct webhook-id, per verification.
	received := map[string]map[string]bool{}
	for id, typ := range rc.typ {
		if typ == "verification.verified" {
			if received[rc.vid[id]] == nil {
				received[rc.vid[id]] = map[string]bool{}
			}
			received[rc.vid[id]][id] = true
		}
	}

	// 4. Nothing is verified twice.
	vs := c.all("/v1/verifications")
	verified := 0
	for _, v := range vs {
		id := v["id"].(string)
		want := 0
		if v["status"] == "verified" {
			want = 1
			verified++
		}
		if len(verifiedHooks[id]) != want || len(received[id]) != want {
			t.Errorf("verification %s (%v): %d verification.verified deliveries, %d received, want %d", id, v["status"], len(verifiedHooks[id]), len(received[id]), want)
		}
	}
	if across == 0 {
		t.Errorf("no webhook was attempted both before and after the kill: the crash did not cut through deliveries")
	}
	t.Logf("%d verifications (%d acknowledged before the kill), %d verified, %d deliveries, %d of them attempted before and after the kill with one webhook-id; %v in all",
		len(vs), len(acked), verified, len(deliveries), across, time.Since(began).Round(time.Millisecond))
}
