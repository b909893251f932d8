package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

// BenchmarkSSEStreamMemory opens 2,000 Server-Sent Events streams over
// loopback against a real server (dev mode, SQLite) and reports what each
// open, idle stream holds: heap plus goroutine stacks (runtime.MemStats
// HeapAlloc + StackInuse after a GC) and goroutines, as deltas over the
// server before the streams. The clients are raw TCP connections in the
// same process that read the response head and then nothing (no client
// goroutine, no client buffer kept), so the figure is the server's cost
// plus one client net.Conn (a few hundred bytes). Bounded: 2,000 streams
// per iteration, run it with -benchtime 1x..3x:
//
//	go test -run '^$' -bench SSEStreamMemory -benchtime 2x ./internal/server/
func BenchmarkSSEStreamMemory(b *testing.B) {
	const n = 2000
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", b.TempDir()
	cfg.Log.Level = "error"
	cfg.Limits.MaxConnections = 4 * n
	cfg.Limits.SSE.MaxStreams, cfg.Limits.SSE.MaxPerIP, cfg.Limits.SSE.MaxPerToken = 2*n, 2*n, 2*n
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
	srv, err := server.New(ctx, cfg, server.Options{Env: env, Logger: server.NewLogger(cfg.Log, io.Discard)})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })

	body, _ := json.Marshal(map[string]any{"phone": "+14155550698", "channel": "missed_call", "callback_url": srv.URL() + "/dev/webhooks"})
	req, _ := http.NewRequest("POST", srv.URL()+"/v1/verifications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var v struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || v.ID == "" {
		b.Fatalf("start: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	get := fmt.Sprintf("GET /v1/verifications/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", v.ID, testKey)

	measure := func() (heap, stack uint64, g int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc, m.StackInuse, runtime.NumGoroutine()
	}
	var perStream, gPerStream float64
	buf := make([]byte, 4096)
	for b.Loop() {
		h0, s0, g0 := measure()
		conns := make([]net.Conn, 0, n)
		for range n {
			c, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := io.WriteString(c, get); err != nil {
				b.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var got []byte
			for !bytes.Contains(got, []byte("retry: 2000")) {
				k, err := c.Read(buf)
				if err != nil {
					b.Fatalf("stream %d: %v after %q", len(conns), err, got)
				}
				got = append(got, buf[:k]...)
			}
			if !strings.HasPrefix(string(got), "HTTP/1.1 200") {
				b.Fatalf("stream %d: %q", len(conns), got)
			}
			_ = c.SetReadDeadline(time.Time{})
		}
		h1, s1, g1 := measure()
		if f := os.Getenv("RINGGATE_HEAPPROFILE"); f != "" {
			out, _ := os.Create(f)
			_ = pprof.Lookup("heap").WriteTo(out, 0)
			out.Close()
			gout, _ := os.Create(f + ".goroutines")
			_ = pprof.Lookup("goroutine").WriteTo(gout, 1)
			gout.Close()
		}
		perStream = (float64(h1) - float64(h0) + float64(s1) - float64(s0)) / n
		gPerStream = float64(g1-g0) / n
		b.Logf("%d streams: heap %+d B, stacks %+d B, goroutines %+d: %.1f KB and %.2f goroutines per stream",
			n, int64(h1)-int64(h0), int64(s1)-int64(s0), g1-g0, perStream/1024, gPerStream)
		for _, c := range conns {
			c.Close()
		}
		runtime.KeepAlive(conns)
		// The next iteration starts from a server whose streams have ended
		// (bounded: 20 s).
		for deadline := time.Now().Add(20 * time.Second); runtime.NumGoroutine() > g0 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.ReportMetric(perStream, "B/stream")
	b.ReportMetric(gPerStream, "goroutines/stream")
}
