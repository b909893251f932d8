package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
)

// TestAttackForgedWebhook plays an attacker who knows an integrator's
// webhook URL and wants a phone marked verified: over real HTTP, against
// Handler, it posts an unsigned event, one signed with its own key, a
// genuine webhook with the body changed, and a genuine webhook captured
// ten minutes earlier. The integrator's code must see none of them, and
// must see the genuine one.
func TestAttackForgedWebhook(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(Handler(secret, func(ctx context.Context, ev ringgate.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ev.Data.ID)
		return nil
	}))
	defer srv.Close()
	post := func(name, id string, ts int64, sig, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if id != "" {
			req.Header.Set("Webhook-Id", id)
			req.Header.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("Webhook-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	event := func(id string) string {
		return `{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{"id":"` + id + `","status":"verified","channel":"missed_call","result_code":"000"}}`
	}
	now := time.Now().Unix()
	attacker := "whsec_YXR0YWNrZXIncyBvd24ga2V5IDMyIGJ5dGVzIGxvbmc="
	genuine := event("vf_genuine")
	old := now - 600
	attacks := []struct {
		name    string
		id      string
		ts      int64
		sig     string
		body    string
		attempt string
	}{
		{"unsigned", "", 0, "", event("vf_unsigned"), "vf_unsigned"},
		{"signed with the attacker's key", "msg_a", now, sign(attacker, "msg_a", now, []byte(event("vf_attacker"))), event("vf_attacker"), "vf_attacker"},
		{"genuine signature, body changed", "msg_g", now, sign(secret, "msg_g", now, []byte(genuine)), event("vf_tampered"), "vf_tampered"},
		{"genuine webhook replayed after ten minutes", "msg_old", old, sign(secret, "msg_old", old, []byte(event("vf_replayed"))), event("vf_replayed"), "vf_replayed"},
	}
	for _, a := range attacks {
		if code := post(a.name, a.id, a.ts, a.sig, a.body); code != http.StatusBadRequest {
			t.Errorf("%s: answered %d, want 400", a.name, code)
		}
	}
	if code := post("genuine", "msg_g", now, sign(secret, "msg_g", now, []byte(genuine)), genuine); code != http.StatusNoContent {
		t.Fatalf("genuine webhook: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "vf_genuine" {
		t.Fatalf("the integrator's code saw %v; want only vf_genuine", seen)
	}
}
