package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTopLevelMux: the one mux sends each path to its side — the web
// side, the carriers' webhooks, the simulator, the API — and a subtree's
// root without its slash is problem 404 like any unknown path, never the
// mux's redirect.
func TestTopLevelMux(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		has          string
	}{
		{"GET", "/widget.js", 200, "customElements"},
		{"GET", "/", 200, "<html"},
		{"GET", "/healthz", 200, ""},
		{"GET", "/sim/phones/+14155552671", 200, "+14155552671"},
		{"POST", "/carriers/nope/voice", 404, "no_such_route"},
		{"POST", "/carriers", 404, "no_such_route"},
		{"GET", "/sim", 404, "no_such_route"},
		{"GET", "/v2/verifications", 404, "no_such_route"},
	} {
		req, _ := http.NewRequest(tc.method, h.url+tc.path, nil)
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
			t.Errorf("%s %s: %d %.200s, want %d with %q", tc.method, tc.path, res.StatusCode, b, tc.status, tc.has)
		}
	}
}
