package sdktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type statusHook struct {
	body   []byte
	bearer string
}

// TestVonageStatusCallback: once the app sets a status URL, every request
// that ends is reported there as Vonage's summary, with a JWT (HS256 under
// the app's signature secret) whose payload_hash is the body's SHA-256.
func TestVonageStatusCallback(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	var mu sync.Mutex
	var got []statusHook
	wake := make(chan struct{}, 8)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, statusHook{body: b, bearer: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")})
		mu.Unlock()
		wake <- struct{}{}
	}))
	defer ts.Close()
	body, _ := json.Marshal(map[string]string{"url": ts.URL + "/vonage/status"})
	r := do(t, srv, call{method: "PUT", path: "/v1/app/compat-credentials/vonage-status-url", bearer: apiKey, ctype: "application/json", body: string(body)})
	if r.status != 204 {
		t.Fatalf("set the status URL: %d %s", r.status, r.body)
	}
	as := func(c call) reply { c.user, c.pass = vonageKey, vonageSecret; return do(t, srv, c) }
	start := as(call{method: "POST", path: "/v2/verify", ctype: "application/json",
		body: `{"brand":"Acme","client_ref":"order-7","workflow":[{"channel":"voice","to":"447911123550"}]}`})
	if start.status != 202 {
		t.Fatalf("start: %d %s", start.status, start.body)
	}
	id := start.json(t)["request_id"].(string)
	if r := as(call{method: "DELETE", path: "/v2/verify/" + id}); r.status != 204 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	var hook statusHook
	select {
	case <-wake:
		mu.Lock()
		hook = got[0]
		mu.Unlock()
	case <-time.After(10 * time.Second):
		t.Fatal("no status callback")
	}
	var sc struct {
		RequestID, Type, Status, ClientRef string
		Workflow                           []struct{ Channel, Status string }
	}
	if err := json.Unmarshal(hook.body, &sc); err != nil {
		t.Fatal(err)
	}
	raw := map[string]any{}
	_ = json.Unmarshal(hook.body, &raw)
	if raw["request_id"] != id || raw["type"] != "summary" || raw["status"] != "user_rejected" || raw["client_ref"] != "order-7" {
		t.Fatalf("summary: %s", hook.body)
	}
	if wf := raw["workflow"].([]any); len(wf) != 1 || wf[0].(map[string]any)["channel"] != "voice" {
		t.Fatalf("summary workflow: %s", hook.body)
	}
	parts := strings.Split(hook.bearer, ".")
	if len(parts) != 3 {
		t.Fatalf("bearer %q is not a JWT", hook.bearer)
	}
	m := hmac.New(sha256.New, []byte(srv.Dev().Compat.VonageSignatureSecret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(m.Sum(nil)) != parts[2] {
		t.Fatal("the JWT is not signed with the app's signature secret")
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(claims, &c)
	sum := sha256.Sum256(hook.body)
	if c["payload_hash"] != hex.EncodeToString(sum[:]) || c["iss"] != "Vonage" || c["api_key"] != vonageKey {
		t.Fatalf("claims: %v", c)
	}
}
