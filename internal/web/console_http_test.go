package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

// In serve mode without an admin token the console is off and says how to
// turn it on; there is no demo page. The widget is served either way.
func TestConsoleOffInServeMode(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults(config.ModeServe)
	cfg.HTTP = "127.0.0.1:0"
	cfg.Secret = strings.Repeat("ab", 32)
	cfg.Database.URL = "sqlite:" + filepath.Join(t.TempDir(), "rg.db")
	cfg.Log.Level = "warn"
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: server.NewLogger(cfg.Log, testLog{t})})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	d := &devServer{url: srv.URL()}
	for _, path := range []string{"/console", "/console/api/overview"} {
		code, body := d.do(t, "GET", path, "", nil)
		if code != http.StatusNotFound || !strings.Contains(string(body), "set console.admin_token") {
			t.Errorf("GET %s with the console off: %d %s", path, code, body)
		}
	}
	if code, body := d.do(t, "GET", "/", "", nil); code != http.StatusNotFound || !strings.Contains(string(body), "no_such_route") {
		t.Errorf("GET / in serve mode: %d %s", code, body)
	}
	if code, _ := d.do(t, "GET", "/widget.js", "", nil); code != http.StatusOK {
		t.Errorf("GET /widget.js: %d", code)
	}
}

// The console's API wants the admin token, and compares it whole.
func TestConsoleAPIAuth(t *testing.T) {
	t.Parallel()
	d := startDev(t)
	for _, tok := range []string{"", "wrong", d.admin[:len(d.admin)-1], d.admin + "x", d.key} {
		if code, body := d.do(t, "GET", "/console/api/overview", tok, nil); code != http.StatusUnauthorized || !strings.Contains(string(body), "admin token") {
			t.Errorf("token %q: %d %s", tok, code, body)
		}
	}
	code, body := d.do(t, "GET", "/console/api/overview", d.admin, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"app_demo"`) || !strings.Contains(string(body), `"sms_otp":0.05`) {
		t.Fatalf("overview: %d %s", code, body)
	}
	for _, q := range []string{"stats?window=abc", "stats?bucket=-1h", "stats?window=24h&bucket=1s", "verifications?channel=fax", "verifications?country=GBR", "verifications?limit=0"} {
		if code, body := d.do(t, "GET", "/console/api/"+q, d.admin, nil); code != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_request"`) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	// Pool management: add, refuse a duplicate, remove.
	d.post(t, "/console/api/apps/app_demo/numbers", d.admin, map[string]any{"number": "+442079460999", "country": "gb"}, http.StatusCreated)
	d.post(t, "/console/api/apps/app_demo/numbers", d.admin, map[string]any{"number": "+442079460999"}, http.StatusConflict)
	if code, body := d.do(t, "DELETE", "/console/api/apps/app_demo/numbers/%2B442079460999", d.admin, nil); code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", code, body)
	}
	if _, body := d.do(t, "GET", "/console/api/apps/app_demo/numbers", d.admin, nil); strings.Contains(string(body), "+442079460999") {
		t.Fatalf("removed number still listed: %s", body)
	}
}

// Calls that matched no verification show up per caller, most first, so a
// spoofing run is visible in the console.
func TestConsoleUnmatchedCallers(t *testing.T) {
	t.Parallel()
	d := startDev(t)
	for range 3 {
		d.post(t, "/sim/calls", "", map[string]any{"from": "+447911123701", "to": "+12025550100"}, http.StatusOK)
	}
	d.post(t, "/sim/calls", "", map[string]any{"from": "+447911123702", "to": "+12025550101"}, http.StatusOK)
	code, body := d.do(t, "GET", "/console/api/unmatched-callers?window=1h", d.admin, nil)
	if code != http.StatusOK {
		t.Fatalf("unmatched callers: %d %s", code, body)
	}
	var got struct {
		Data []struct {
			From  string `json:"from"`
			Calls int    `json:"calls"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 2 || got.Data[0].From != "+447911123701" || got.Data[0].Calls != 3 || got.Data[1].Calls != 1 {
		t.Fatalf("unmatched callers: %s", body)
	}
	if code, _ := d.do(t, "GET", "/console/api/unmatched-callers", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without the admin token: %d", code)
	}
	if code, _ := d.do(t, "GET", "/console/api/unmatched-callers?window=-1h", d.admin, nil); code != http.StatusBadRequest {
		t.Errorf("a negative window: %d", code)
	}
}

// The console's JSON writes times as the API does (issue 20): UTC, always
// with milliseconds, in every answer that carries one.
func TestConsoleTimestampsCarryMilliseconds(t *testing.T) {
	t.Parallel()
	d := startDev(t)
	d.post(t, "/sim/calls", "", map[string]any{"from": "+447911123705", "to": "+12025550100"}, http.StatusOK)
	v := d.post(t, "/v1/verifications", d.key, map[string]any{"phone": "+447911123706", "channel": "sms_otp"}, http.StatusCreated)
	d.post(t, "/console/api/apps/app_demo/numbers", d.admin, map[string]any{"number": "+442079460998", "country": "gb"}, http.StatusCreated)
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	anyTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d`)
	for _, path := range []string{
		"/console/api/stats?window=1h",
		"/console/api/apps/app_demo/numbers",
		"/console/api/verifications/" + v["id"].(string),
		"/console/api/unmatched-callers?window=1h",
	} {
		code, body := d.do(t, "GET", path, d.admin, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		seen := 0
		var walk func(at string, x any)
		walk = func(at string, x any) {
			switch x := x.(type) {
			case map[string]any:
				for k, y := range x {
					walk(at+"."+k, y)
				}
			case []any:
				for _, y := range x {
					walk(at+"[]", y)
				}
			case string:
				if anyTime.MatchString(x) {
					seen++
					if !stamp.MatchString(x) {
						t.Errorf("%s %s = %q: want UTC with milliseconds", path, at, x)
					}
				}
			}
		}
		walk("", doc)
		if seen == 0 {
			t.Errorf("%s carried no timestamp to check: %s", path, body)
		}
	}
}
