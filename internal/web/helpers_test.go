package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/testutil"
)

const testKey = "rg_live_web0123456789abcdefghijklmn"

// devServer is a real ringgate dev server on 127.0.0.1:0.
type devServer struct {
	url, key, admin string
}

func startDev(t *testing.T, mut ...func(*config.Config)) *devServer {
	t.Helper()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Expiry.Interval = 100 * time.Millisecond
	cfg.Log.Level = "warn"
	for _, m := range mut {
		m(&cfg)
	}
	env := func(k string) (string, bool) {
		if k == server.EnvDevAPIKey {
			return testKey, true
		}
		return "", false
	}
	srv, err := server.New(context.Background(), cfg, server.Options{Env: env, Logger: server.NewLogger(cfg.Log, testLog{t})})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &devServer{url: srv.URL(), key: testKey, admin: srv.AdminToken()}
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (d *devServer) do(t *testing.T, method, path, key string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (d *devServer) post(t *testing.T, path, key string, body any, want int) map[string]any {
	t.Helper()
	code, b := d.do(t, "POST", path, key, body)
	if code != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, code, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// start begins a verification as the business's backend does.
func (d *devServer) start(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	return d.post(t, "/v1/verifications", d.key, body, http.StatusCreated)
}

// textCode waits for the simulated phone's first text and returns its code.
func (d *devServer) textCode(t *testing.T, number string) string {
	t.Helper()
	var code string
	if !testutil.Eventually(10*time.Second, func() bool {
		_, b := d.do(t, "GET", "/sim/phones/"+number, "", nil)
		var p struct {
			Messages []struct{ Text string } `json:"messages"`
		}
		_ = json.Unmarshal(b, &p)
		if len(p.Messages) > 0 {
			code = codeRE.FindString(p.Messages[0].Text)
		}
		return code != ""
	}) {
		t.Fatalf("no text reached %s", number)
	}
	return code
}
