package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ringgate/ringgate/internal/config"
)

type wsEvent struct {
	ID    int64          `json:"id"`
	Event string         `json:"event"`
	Data  map[string]any `json:"data"`
}

// wsDial opens GET /v1/verifications/{id}/ws as a plain Go client would.
func (h *harness) wsDial(ctx context.Context, path, key string) (*websocket.Conn, *http.Response, error) {
	opts := &websocket.DialOptions{}
	if key != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + key}}
	}
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.url, "http")+path, opts)
}

// wsRead reads events until the server closes; it returns them and the
// close status.
func wsRead(t *testing.T, ctx context.Context, c *websocket.Conn) ([]wsEvent, websocket.StatusCode) {
	t.Helper()
	var out []wsEvent
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return out, websocket.CloseStatus(err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("a %v message", typ)
		}
		var e wsEvent
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("message %s: %v", b, err)
		}
		out = append(out, e)
	}
}

// The WebSocket carries what SSE carries: with the API key, every event in
// order and the full phone, closed with 1000 after the terminal event; with
// the client token, the masked phone; resumed after last_event_id; a
// verification over is closed at once; a wrong token never upgrades.
func TestWebSocketStream(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const to = "+447911123661"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	id, tok := v["id"].(string), v["client_token"].(string)

	byKey, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws", h.key)
	if err != nil {
		t.Fatal(err)
	}
	byTok, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok, "")
	if err != nil {
		t.Fatal(err)
	}
	code := h.textCode(to, 1)
	h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)

	keyEvents, st := wsRead(t, ctx, byKey)
	if st != websocket.StatusNormalClosure {
		t.Fatalf("closed with %v after %v", st, keyEvents)
	}
	var types []string
	for _, e := range keyEvents {
		types = append(types, e.Event)
	}
	if types[0] != "verification.created" || types[len(types)-1] != "verification.verified" || !contains(types, "sms.sent") {
		t.Fatalf("events %v", types)
	}
	if d, _ := keyEvents[0].Data["data"].(map[string]any); d["phone"] != to {
		t.Fatalf("the key's stream shows phone %v", d["phone"])
	}
	tokEvents, st := wsRead(t, ctx, byTok)
	if st != websocket.StatusNormalClosure || len(tokEvents) != len(keyEvents) {
		t.Fatalf("token stream: %v, %d events (key: %d)", st, len(tokEvents), len(keyEvents))
	}
	d, _ := tokEvents[0].Data["data"].(map[string]any)
	if p, _ := d["phone"].(string); p == to || !strings.Contains(p, "•") {
		t.Fatalf("the token's stream shows phone %q", p)
	}
	// The same events as SSE, with the same ids.
	s, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	sseEvents := s.collect(t, 10*time.Second)
	for i, e := range sseEvents {
		if e.ID != strconv.FormatInt(keyEvents[i].ID, 10) || e.Event != keyEvents[i].Event {
			t.Fatalf("SSE event %d is %s %s, WebSocket %d %s", i, e.ID, e.Event, keyEvents[i].ID, keyEvents[i].Event)
		}
	}

	// Resume after the second event: the rest only.
	again, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok+"&last_event_id="+strconv.FormatInt(keyEvents[1].ID, 10), "")
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := wsRead(t, ctx, again)
	if len(rest) != len(keyEvents)-2 || rest[0].ID != keyEvents[2].ID {
		t.Fatalf("resumed: %v", rest)
	}
	// Nothing after the last event of a verification that is over.
	over, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok+"&last_event_id="+strconv.FormatInt(keyEvents[len(keyEvents)-1].ID, 10), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, st := wsRead(t, ctx, over); len(got) != 0 || st != websocket.StatusNormalClosure {
		t.Fatalf("over: %v %v", got, st)
	}

	_, res, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token=ct_wrong", "")
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v %v", res, err)
	}
	_, res, err = h.wsDial(ctx, "/v1/verifications/"+id+"/ws?last_event_id=x&token="+tok, "")
	if err == nil || res == nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad last_event_id: %v %v", res, err)
	}
}

// WebSocket and SSE streams share one cap per token: with a cap of 2, an
// SSE stream and a WebSocket take it, and a third of either kind is 429.
func TestWebSocketSharesStreamCaps(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Limits.SSE.MaxPerToken = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v := h.startChannel(map[string]any{"phone": "+447911123662", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	id, tok := v["id"].(string), v["client_token"].(string)
	if _, st := h.stream("/v1/verifications/"+id+"/events?token="+tok, "", ""); st != http.StatusOK {
		t.Fatalf("SSE: %d", st)
	}
	c, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, res, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok, "")
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third stream over WebSocket: %v %v", res, err)
	}
	if _, st := h.stream("/v1/verifications/"+id+"/events?token="+tok, "", ""); st != http.StatusTooManyRequests {
		t.Fatalf("third stream over SSE: %d", st)
	}
	// Closing the WebSocket frees its slot.
	c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, 5*time.Second, "the slot freed", func() bool {
		c2, _, err := h.wsDial(ctx, "/v1/verifications/"+id+"/ws?token="+tok, "")
		if err == nil {
			c2.CloseNow()
		}
		return err == nil
	})
}
