package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The WebSocket stream checks no Origin, so its credential must do all the
// work. An attacker's page (any origin) holding the client token of its
// own verification tries to read another user's verification over
// GET …/ws: refused before the upgrade, as on SSE.
func TestAttackWebSocketTokenOfAnotherVerification(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	victim := h.startChannel(map[string]any{"phone": "+447911123681", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	mine := h.startChannel(map[string]any{"phone": "+447911123682", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	opts := &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://attacker.example"}}}
	for name, path := range map[string]string{
		"another's token": "/v1/verifications/" + victim["id"].(string) + "/ws?token=" + mine["client_token"].(string),
		"no credential":   "/v1/verifications/" + victim["id"].(string) + "/ws",
	} {
		c, res, err := websocket.Dial(ctx, "ws"+h.url[len("http"):]+path, opts)
		if err == nil {
			c.CloseNow()
			t.Fatalf("%s: the WebSocket opened on the victim's verification", name)
		}
		if res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %v %v", name, res, err)
		}
	}
	// Its own token works from that origin: Origin is not what decides.
	c, _, err := websocket.Dial(ctx, "ws"+h.url[len("http"):]+"/v1/verifications/"+mine["id"].(string)+"/ws?token="+mine["client_token"].(string), opts)
	if err != nil {
		t.Fatalf("own token from another origin: %v", err)
	}
	c.CloseNow()
}

// A stream opened with an API key ends when the key is revoked: the
// attacker who stole a key loses the WebSocket with it, as with SSE.
func TestAttackWebSocketOutlivesRevokedKey(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	k := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "verify"}), http.StatusCreated)
	stolen := k["key"].(string)
	v := h.startChannel(map[string]any{"phone": "+447911123683", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	c, _, err := h.wsDial(ctx, "/v1/verifications/"+v["id"].(string)+"/ws", stolen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err != nil { // verification.created: the stream is up
		t.Fatal(err)
	}
	h.mustStatus(h.do("DELETE", "/v1/keys/"+k["id"].(string), h.key, nil), http.StatusOK)
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if ctx.Err() != nil {
			t.Fatalf("the stream outlived the revoked key: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the stream outlived the revoked key")
	}
}
