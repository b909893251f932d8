package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/verify"
)

// listenOn starts an HTTP server on a given loopback address.
func listenOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// SSRF through the API in serve mode: callback URLs into private, loopback,
// link-local and metadata addresses, or names that resolve there, are
// refused on input with problem JSON; a redirect from an allowed receiver
// to a private address is not followed. Loopback is open only in dev mode.
func TestSSRFServeMode(t *testing.T) {
	t.Parallel()
	// The one network this server may send to: 127.0.0.3 (a stand-in for
	// an operator's allow_networks entry; loopback is otherwise refused).
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Mode = config.ModeServe
		c.Secret = strings.Repeat("cd", 32)
		c.Webhooks.AllowNetworks = []string{"127.0.0.3/32"}
	})
	const key = "rg_live_ssrfssrfssrfssrfssrfssrf000"
	if _, err := h.srv.Operator().CreateApp(t.Context(), newApp("app_ssrf", key)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.Operator().AddNumber(t.Context(), "app_ssrf", "+12025550100", verify.AnyCountry); err != nil {
		t.Fatal(err)
	}

	// A private target that must never be reached.
	var stolen atomic.Int32
	private := listenOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
	}))
	_, privPort, _ := net.SplitHostPort(private.Listener.Addr().String())

	refused := []string{
		"http://10.0.0.1/hook",
		"http://10.255.255.254:8443/hook",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://[fd00:ec2::254]/latest/",
		"http://[::1]:" + privPort + "/hook",
		"http://[::ffff:127.0.0.2]:" + privPort + "/hook",
		"http://127.0.0.2:" + privPort + "/hook",
		"http://127.0.0.1:" + privPort + "/hook",
		"http://localhost:" + privPort + "/hook",
		"http://0x7f.1/hook",
		"http://100.64.0.1/hook",
		"http://0.0.0.0:" + privPort + "/",
	}
	// A DNS name (not "localhost") that resolves to a refused address: the
	// machine's own host name resolves to loopback in /etc/hosts here.
	if name, err := os.Hostname(); err == nil {
		if addrs, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", name); err == nil && len(addrs) > 0 && !netip.MustParsePrefix("127.0.0.3/32").Contains(addrs[0]) && (addrs[0].IsLoopback() || addrs[0].IsPrivate()) {
			refused = append(refused, "http://"+name+":"+privPort+"/hook")
		} else {
			t.Logf("host name %q does not resolve to a private address here (%v %v); the resolving case is covered in internal/webhook", name, addrs, err)
		}
	}
	for i, u := range refused {
		r := h.do("POST", "/v1/verifications", key, map[string]any{"phone": fmt.Sprintf("+1415555%04d", 2600+i), "channel": "missed_call", "callback_url": u})
		if r.status != http.StatusBadRequest {
			t.Errorf("callback %s: status %d, want 400: %s", u, r.status, r.body)
			continue
		}
		p := r.json(t)
		if problemCode(t, r) != "invalid_request" || p["field"] != "callback_url" {
			t.Errorf("callback %s: problem %v, want invalid_request on callback_url", u, p)
		}
	}
	if ds := dataOf(h.mustStatus(h.do("GET", "/v1/verifications", key, nil), http.StatusOK)); len(ds) != 0 {
		t.Fatalf("refused callbacks created verifications: %v", ds)
	}

	// An allowed receiver that redirects to the private target, and to the
	// metadata service: the redirect is not followed, the attempt counts as
	// failed (307) and is retried, the private target sees nothing.
	var hits atomic.Int32
	redirector := listenOn(t, "127.0.0.3:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		to := "http://127.0.0.2:" + privPort + "/steal"
		if n%2 == 0 {
			to = "http://169.254.169.254/latest/meta-data/"
		}
		http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	}))
	v := h.mustStatus(h.do("POST", "/v1/verifications", key, map[string]any{"phone": "+14155552699", "channel": "missed_call", "callback_url": redirector.URL + "/hook"}), http.StatusCreated)
	id := v["id"].(string)
	h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", key, nil), http.StatusOK)
	waitFor(t, 10*time.Second, "two redirected attempts", func() bool {
		ds := dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+id, key, nil), http.StatusOK))
		return len(ds) == 1 && ds[0]["attempts"].(float64) >= 2 && ds[0]["last_status_code"] == float64(http.StatusTemporaryRedirect) && ds[0]["status"] == "pending"
	})
	if hits.Load() < 2 {
		t.Fatalf("the allowed receiver saw %d attempts", hits.Load())
	}
	time.Sleep(200 * time.Millisecond) // a followed redirect would land by now
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the private target was reached %d times through a redirect", n)
	}
}

// In dev mode loopback callbacks are allowed (the developer's own
// receiver); link-local and private networks are still refused.
func TestSSRFDevModeAllowsOnlyLoopback(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	h.start("+14155552681", rx.URL(), nil)
	h.start("+14155552682", strings.Replace(rx.URL(), "127.0.0.1", "localhost", 1), nil)
	for _, u := range []string{"http://169.254.169.254/", "http://10.0.0.1/", "http://192.168.1.1/"} {
		r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+14155552683", "channel": "missed_call", "callback_url": u})
		h.wantProblem(r, http.StatusBadRequest, "invalid_request")
	}
}
