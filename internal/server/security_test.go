package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// problemCode reads a problem JSON answer's code.
func problemCode(t *testing.T, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("status %d answer is %q, want problem JSON: %s", r.status, ct, r.body)
	}
	c, _ := r.json(t)["code"].(string)
	return c
}

func (h *harness) wantProblem(r response, status int, code string) {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d %s: %s", r.status, status, code, r.body)
	}
	if got := problemCode(h.t, r); got != code {
		h.t.Fatalf("problem code %q, want %q: %s", got, code, r.body)
	}
}

func dataOf(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, x := range m["data"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// Scopes, key rotation, expiry on input, last use and the audit log, over
// HTTP against a real server and SQLite.
func TestKeyScopesRotationAndAudit(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	recv := newReceiver(t, testSecret)

	keys := h.mustStatus(h.do("GET", "/v1/keys", h.key, nil), http.StatusOK)
	ks := dataOf(keys)
	if len(ks) != 1 || ks[0]["scope"] != "admin" || ks[0]["current"] != true || ks[0]["prefix"] != testKey[:12] {
		t.Fatalf("the dev app's keys: %v, want its one key, admin, current", ks)
	}
	devKeyID := ks[0]["id"].(string)
	if strings.Contains(string(h.do("GET", "/v1/keys", h.key, nil).body), testKey) {
		t.Fatal("GET /v1/keys shows a secret")
	}

	// A verify key: created once with its secret, never shown again.
	r := h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "verify"})
	created := h.mustStatus(r, http.StatusCreated)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("key creation answer Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
	vKey, vID := created["key"].(string), created["id"].(string)
	if !strings.HasPrefix(vKey, verify.LiveKeyPrefix) || created["scope"] != "verify" || created["prefix"] != vKey[:12] {
		t.Fatalf("created key %v", created)
	}
	if strings.Contains(string(h.do("GET", "/v1/keys", h.key, nil).body), vKey) {
		t.Fatal("the new key's secret is listed")
	}

	// What the verify key may do, and what it may not.
	v := h.mustStatus(h.do("POST", "/v1/verifications", vKey, map[string]any{"phone": "+14155552671", "channel": "missed_call", "callback_url": recv.URL()}), http.StatusCreated)
	vfID := v["id"].(string)
	h.mustStatus(h.do("GET", "/v1/verifications/"+vfID, vKey, nil), http.StatusOK)
	h.mustStatus(h.do("GET", "/v1/verifications", vKey, nil), http.StatusOK)
	h.mustStatus(h.do("GET", "/v1/verifications/"+vfID+"/status", vKey, nil), http.StatusOK)
	for _, x := range []struct{ method, path, body string }{
		{"GET", "/v1/app", ""},
		{"PATCH", "/v1/app", `{"sms_sender":"Evil"}`},
		{"GET", "/v1/keys", ""},
		{"POST", "/v1/keys", `{"scope":"admin"}`},
		{"DELETE", "/v1/keys/" + devKeyID, ""},
		{"GET", "/v1/audit", ""},
		{"GET", "/v1/webhooks/deliveries", ""},
		{"POST", "/v1/webhooks/deliveries/msg_x/retry", ""},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		h.wantProblem(h.do(x.method, x.path, vKey, body), http.StatusForbidden, "forbidden")
	}
	app := h.mustStatus(h.do("GET", "/v1/app", h.key, nil), http.StatusOK)
	if s, _ := app["settings"].(map[string]any); s != nil && s["sms_sender"] == "Evil" {
		t.Fatal("a verify key changed the app's settings")
	}

	// Bad creations are problems, not keys.
	h.wantProblem(h.do("POST", "/v1/keys", h.key, `{"scope":"root"}`), http.StatusBadRequest, "invalid_request")
	h.wantProblem(h.do("POST", "/v1/keys", h.key, `{"scope":"admin","kind":"prod"}`), http.StatusBadRequest, "invalid_request")
	h.wantProblem(h.do("POST", "/v1/keys", h.key, `{"scope":"admin","expires_at":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`), http.StatusBadRequest, "invalid_request")
	h.wantProblem(h.do("POST", "/v1/keys", h.key, `{"scope":"admin","expires_at":"tomorrow"}`), http.StatusBadRequest, "malformed_json")
	h.wantProblem(h.do("POST", "/v1/keys", h.key, `{"scope":"admin","secret":"x"}`), http.StatusBadRequest, "unknown_field")

	// An expiring test key shows its expiry.
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tk := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "admin", "kind": "test", "expires_at": exp}), http.StatusCreated)
	if !strings.HasPrefix(tk["key"].(string), verify.TestKeyPrefix) || tk["expires_at"] != exp.Format(verify.StampLayout) {
		t.Fatalf("expiring test key %v, want rg_test_ expiring %v", tk, exp)
	}

	// Rotation. A key may go while another admin key remains…
	tkID := tk["id"].(string)
	revoked := h.mustStatus(h.do("DELETE", "/v1/keys/"+tkID, h.key, nil), http.StatusOK)
	if revoked["revoked_at"] == nil {
		t.Fatalf("revoked key %v has no revoked_at", revoked)
	}
	h.wantProblem(h.do("GET", "/v1/app", tk["key"].(string), nil), http.StatusUnauthorized, "unauthorized")
	// …but not the last admin key, even by itself.
	h.wantProblem(h.do("DELETE", "/v1/keys/"+devKeyID, h.key, nil), http.StatusConflict, "conflict")
	a2 := h.mustStatus(h.do("POST", "/v1/keys", h.key, map[string]any{"scope": "admin"}), http.StatusCreated)
	k2, a2ID := a2["key"].(string), a2["id"].(string)
	h.mustStatus(h.do("DELETE", "/v1/keys/"+devKeyID, h.key, nil), http.StatusOK) // revokes itself
	h.wantProblem(h.do("GET", "/v1/keys", h.key, nil), http.StatusUnauthorized, "unauthorized")
	h.wantProblem(h.do("DELETE", "/v1/keys/"+devKeyID, k2, nil), http.StatusNotFound, "not_found")
	h.wantProblem(h.do("DELETE", "/v1/keys/key_nonexistent", k2, nil), http.StatusNotFound, "not_found")
	h.mustStatus(h.do("DELETE", "/v1/keys/"+vID, k2, nil), http.StatusOK)
	h.wantProblem(h.do("GET", "/v1/verifications/"+vfID, vKey, nil), http.StatusUnauthorized, "unauthorized")

	list := dataOf(h.mustStatus(h.do("GET", "/v1/keys", k2, nil), http.StatusOK))
	byID := map[string]map[string]any{}
	for _, k := range list {
		byID[k["id"].(string)] = k
	}
	if len(list) != 4 || byID[a2ID]["current"] != true || byID[a2ID]["revoked_at"] != nil || byID[devKeyID]["revoked_at"] == nil {
		t.Fatalf("keys after rotation: %v", list)
	}
	for _, id := range []string{a2ID, vID, devKeyID} {
		if byID[id]["last_used_at"] == nil {
			t.Errorf("key %s was used but has no last_used_at: %v", id, byID[id])
		}
	}

	// Audited actions: settings, and a delivery retry.
	h.mustStatus(h.do("PATCH", "/v1/app", k2, `{"sms_sender":"Acme"}`), http.StatusOK)
	h.mustStatus(h.do("POST", "/v1/verifications/"+vfID+"/cancel", k2, nil), http.StatusOK)
	var msgID string
	waitFor(t, 5*time.Second, "the cancel webhook", func() bool {
		ds := dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+vfID, k2, nil), http.StatusOK))
		if len(ds) == 1 && ds[0]["status"] == "delivered" {
			msgID = ds[0]["id"].(string)
		}
		return msgID != ""
	})
	h.mustStatus(h.do("POST", "/v1/webhooks/deliveries/"+msgID+"/retry", k2, nil), http.StatusAccepted)

	dev, second := "key:"+devKeyID, "key:"+a2ID
	want := []string{
		"delivery.retried " + msgID + " " + second,
		"app.settings_updated app_demo " + second,
		"key.revoked " + vID + " " + second,
		"key.revoked " + devKeyID + " " + dev,
		"key.created " + a2ID + " " + dev,
		"key.revoked " + tkID + " " + dev,
		"key.created " + tkID + " " + dev,
		"key.created " + vID + " " + dev,
	}
	var got []string
	var entries []map[string]any
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		q := "/v1/audit?limit=3"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		pg := h.mustStatus(h.do("GET", q, k2, nil), http.StatusOK)
		for _, e := range dataOf(pg) {
			entries = append(entries, e)
			got = append(got, e["action"].(string)+" "+e["target"].(string)+" "+e["actor"].(string))
		}
		c, _ := pg["next_cursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit log, newest first, in pages of 3:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f, _ := entries[1]["detail"].(map[string]any)["fields"].([]any); len(f) != 1 || f[0] != "sms_sender" {
		t.Errorf("settings entry detail %v, want fields [sms_sender]", entries[1]["detail"])
	}
	auditBody := string(h.do("GET", "/v1/audit", k2, nil).body)
	for _, secret := range []string{testKey, vKey, k2, tk["key"].(string)} {
		if strings.Contains(auditBody, secret) || strings.Contains(auditBody, secret[:16]) {
			t.Errorf("the audit log shows more of a key than its 12-character prefix: %s", secret[:16])
		}
	}
	only := dataOf(h.mustStatus(h.do("GET", "/v1/audit?action=key.revoked", k2, nil), http.StatusOK))
	if len(only) != 3 {
		t.Errorf("audit filtered by key.revoked: %d entries, want 3", len(only))
	}
	h.wantProblem(h.do("GET", "/v1/audit?limit=0", k2, nil), http.StatusBadRequest, "invalid_request")
}
