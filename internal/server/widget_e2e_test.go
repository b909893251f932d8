package server_test

import (
	"github.com/ringgate/ringgate/internal/config"
	"net/http"
	"strings"
	"testing"
)

// The widget checks codes and steps on with the client token alone. A
// token is bound to its verification: with A's token, B can be neither
// checked nor moved on, and the page never sees the full number.
func TestClientTokenActsOnItsVerificationOnly(t *testing.T) {
	t.Parallel()
	// "Try another way" at once: the resend interval is another test's.
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = 0 })
	start := func(phone string, body map[string]any) map[string]any {
		body["phone"] = phone
		return h.mustStatus(h.do("POST", "/v1/verifications", h.key, body), http.StatusCreated)
	}
	a := start("+447911123301", map[string]any{"workflow": []map[string]any{{"channel": "sms_otp"}, {"channel": "missed_call"}}})
	b := start("+447911123302", map[string]any{"channel": "sms_otp"})
	idA, tokA := a["id"].(string), a["client_token"].(string)
	idB := b["id"].(string)

	// A's token on B: refused, and B is untouched.
	for _, path := range []string{"/check", "/next"} {
		r := h.do("POST", "/v1/verifications/"+idB+path+"?token="+tokA, "", `{"code":"123456"}`)
		if path == "/next" {
			r = h.do("POST", "/v1/verifications/"+idB+path+"?token="+tokA, "", nil)
		}
		if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), `"unauthorized"`) {
			t.Fatalf("A's token on B%s: %d %s", path, r.status, r.body)
		}
	}
	if got := h.get(idB); got["attempts"] != float64(0) || got["step"] != float64(0) {
		t.Fatalf("B changed under A's token: %v", got)
	}

	// A's token on A: a wrong code counts, the answer is the page-safe view
	// with CORS open, and a body without Content-Type is read as JSON.
	code := h.textCode("+447911123301", 1)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	req, _ := http.NewRequest("POST", h.url+"/v1/verifications/"+idA+"/check?token="+tokA, strings.NewReader(`{"code":"`+wrong+`"}`))
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("token check without Content-Type: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	r := h.mustStatus(h.do("POST", "/v1/verifications/"+idA+"/check?token="+tokA, "", map[string]string{"code": wrong}), http.StatusOK)
	if r["valid"] != false || r["attempts_remaining"] != float64(3) || r["phone"] == "+447911123301" || r["metadata"] != nil || r["client_token"] != nil {
		t.Fatalf("token check answer: %v", r)
	}
	// "Try another way" moves A to its missed call, still page-safe.
	r = h.mustStatus(h.do("POST", "/v1/verifications/"+idA+"/next?token="+tokA, "", nil), http.StatusOK)
	if r["channel"] != "missed_call" || r["dial_number"] == nil || strings.Contains(r["phone"].(string), "123301") {
		t.Fatalf("token next answer: %v", r)
	}
	h.mustStatus(h.do("POST", "/v1/verifications/"+idA+"/next?token="+tokA, "", nil), http.StatusConflict)
	// No token and no key is still 401.
	h.mustStatus(h.do("POST", "/v1/verifications/"+idA+"/check", "", map[string]string{"code": code}), http.StatusUnauthorized)
}
