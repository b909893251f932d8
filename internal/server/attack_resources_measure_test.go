package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// rssKB is this process's resident set, in kB.
func rssKB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var n int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &n)
			return n
		}
	}
	return 0
}

// TestMeasureResourceFigures measures, once, the figures SECURITY.md quotes:
// connections still held by 2,000 slow-body clients after the body deadline,
// and fds, goroutines and RSS under 2,000 SSE attempts on one key. It is
// bounded (2,000 loopback connections, under 30 s) and runs only with
// RINGGATE_MEASURE=1. Client and server share the process, so server fds
// are the total less the client's own.
func TestMeasureResourceFigures(t *testing.T) {
	if os.Getenv("RINGGATE_MEASURE") == "" {
		t.Skip("set RINGGATE_MEASURE=1 to measure")
	}
	const n = 2000
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Limits.BodyTimeout = 2 * time.Second
		c.Limits.MaxConnections = 2 * n
	})
	base := openFDs(t)
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", h.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/verifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", h.key)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
			br := bufio.NewReader(c)
			for {
				if _, err := br.ReadByte(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						mu.Lock()
						held++
						mu.Unlock()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("slow bodies: %d clients, %d connections still open 8 s later (body deadline 2 s); server fds over baseline (total less the %d clients'): %d", n, held, n, openFDs(t)-base-n)
	for _, c := range conns {
		c.Close()
	}

	// 2,000 SSE attempts on one key (cap 16 per token).
	v := h.start("+14155550699", h.url+"/dev/webhooks", nil)
	path := h.url + "/v1/verifications/" + v["id"].(string) + "/events"
	runtime.GC()
	fd0, rss0, g0 := openFDs(t), rssKB(), runtime.NumGoroutine()
	var open []*http.Response
	status := map[int]int{}
	tr := &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for range n {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status[resp.StatusCode]++
		if resp.StatusCode == http.StatusOK {
			open = append(open, resp)
		} else {
			resp.Body.Close()
		}
	}
	runtime.GC()
	t.Logf("SSE: %d attempts on one key: statuses %v; fds %+d (client and server), goroutines %+d, RSS %+d kB",
		n, status, openFDs(t)-fd0, runtime.NumGoroutine()-g0, rssKB()-rss0)
	for _, r := range open {
		r.Body.Close()
	}
}
