package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

// A stream detached from net/http (no reader goroutine of its own) still
// gives its slot back when its client leaves: the gone watcher sees the
// closed connection, so a client may reconnect at the per-token cap.
func TestSSEDetachedStreamClientGoneFreesSlot(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Limits.SSE.MaxPerToken = 1
		c.Limits.SSE.Heartbeat = time.Hour // no write finds the closed peer
	})
	v := h.start("+14155550697", h.url+"/dev/webhooks", nil)
	path := "/v1/verifications/" + v["id"].(string) + "/events"
	resp, st, body := openStream(t, h, path, h.key)
	if st != http.StatusOK {
		t.Fatalf("stream: %d %s", st, body)
	}
	if _, st, _ := openStream(t, h, path, h.key); st != http.StatusTooManyRequests {
		t.Fatalf("second stream at a per-token cap of 1: %d, want 429", st)
	}
	resp.Body.Close()
	waitFor(t, 10*time.Second, "the slot of a stream whose client left", func() bool {
		r, st, _ := openStream(t, h, path, h.key)
		if st == http.StatusOK {
			r.Body.Close()
			return true
		}
		return false
	})
}
