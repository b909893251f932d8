package server_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/verify"
)

// TestTenantIsolation (badinput_test.go) covers get, cancel, stream and list;
// this covers the rest. No API call of one app reads or changes another app's data: every /v1/*
// route that takes an id answers app B's key with 404 for app A's ids (not
// 403, which would confirm the id exists), lists show none of A's data,
// and A's data is unchanged afterwards.
func TestTenantIsolationEveryRoute(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	recv := newReceiver(t, testSecret)
	const keyB = "rg_live_tenantB0123456789abcdefghijk"
	if _, err := h.srv.Operator().CreateApp(t.Context(), verify.NewApp{ID: "app_b", Name: "B", DefaultCallbackURL: recv.URL(), APIKeys: []string{keyB}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range server.DemoPool {
		if _, err := h.srv.Operator().AddNumber(t.Context(), "app_b", n, verify.AnyCountry); err != nil {
			t.Fatal(err)
		}
	}

	// App A: one pending verification, one canceled with a delivered webhook.
	pending := h.start("+14155552671", recv.URL(), nil)
	pID, pToken := pending["id"].(string), pending["client_token"].(string)
	ended := h.start("+14155552672", recv.URL(), nil)
	eID := ended["id"].(string)
	h.mustStatus(h.do("POST", "/v1/verifications/"+eID+"/cancel", h.key, nil), http.StatusOK)
	var msgID string
	waitFor(t, 5*time.Second, "A's cancel webhook", func() bool {
		ds := dataOf(h.mustStatus(h.do("GET", "/v1/webhooks/deliveries?verification_id="+eID, h.key, nil), http.StatusOK))
		if len(ds) == 1 && ds[0]["status"] == "delivered" {
			msgID = ds[0]["id"].(string)
		}
		return msgID != ""
	})
	keysA := dataOf(h.mustStatus(h.do("GET", "/v1/keys", h.key, nil), http.StatusOK))
	keyAID := keysA[0]["id"].(string)
	// B's own verification, for the client-token cross-check below.
	vb := h.mustStatus(h.do("POST", "/v1/verifications", keyB, map[string]any{"phone": "+14155552673", "channel": "missed_call"}), http.StatusCreated)
	bID, bToken := vb["id"].(string), vb["client_token"].(string)

	snapshot := func() [][]byte {
		var out [][]byte
		for _, p := range []string{"/v1/verifications/" + pID, "/v1/verifications/" + eID, "/v1/webhooks/deliveries?verification_id=" + eID, "/v1/keys"} {
			r := h.do("GET", p, h.key, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s with A's key: %d %s", p, r.status, r.body)
			}
			out = append(out, r.body)
		}
		return out
	}
	before := snapshot()

	for _, x := range []struct{ method, path, body string }{
		{"GET", "/v1/verifications/" + pID, ""},
		{"GET", "/v1/verifications/" + eID, ""},
		{"POST", "/v1/verifications/" + pID + "/cancel", ""},
		{"POST", "/v1/verifications/" + pID + "/check", `{"code":"1234"}`},
		{"POST", "/v1/verifications/" + pID + "/check", `{"cli":"+12025550100"}`},
		{"POST", "/v1/verifications/" + pID + "/next", ""},
		{"GET", "/v1/verifications/" + pID + "/events", ""},
		{"GET", "/v1/verifications/" + pID + "/status", ""},
		{"POST", "/v1/webhooks/deliveries/" + msgID + "/retry", ""},
		{"DELETE", "/v1/keys/" + keyAID, ""},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		r := h.do(x.method, x.path, keyB, body)
		if r.status != http.StatusNotFound || problemCode(t, r) != "not_found" {
			t.Errorf("%s %s with app B's key: %d %s, want 404 not_found", x.method, x.path, r.status, r.body)
		}
		if bytes.Contains(r.body, []byte("+1415555267")) {
			t.Errorf("%s %s with app B's key leaks A's phone: %s", x.method, x.path, r.body)
		}
	}
	// Lists and the audit log show B only its own.
	for _, p := range []string{"/v1/verifications", "/v1/verifications?phone=%2B14155552671", "/v1/webhooks/deliveries",
		"/v1/webhooks/deliveries?verification_id=" + eID, "/v1/keys", "/v1/audit"} {
		r := h.mustStatus(h.do("GET", p, keyB, nil), http.StatusOK)
		for _, it := range dataOf(r) {
			for _, id := range []string{pID, eID, msgID, keyAID} {
				if it["id"] == id || it["verification_id"] == id || it["target"] == id {
					t.Errorf("GET %s with app B's key lists A's %s: %v", p, id, it)
				}
			}
		}
	}
	if ds := dataOf(h.mustStatus(h.do("GET", "/v1/verifications", keyB, nil), http.StatusOK)); len(ds) != 1 || ds[0]["id"] != bID {
		t.Errorf("B lists %v, want only its own %s", ds, bID)
	}
	// Paging with A's id as a cursor reveals nothing of A either.
	if ds := dataOf(h.mustStatus(h.do("GET", "/v1/verifications?cursor=vf_ffffffffffffffffffffffffffffffff", keyB, nil), http.StatusOK)); len(ds) != 1 || ds[0]["id"] != bID {
		t.Errorf("B lists %v after a far cursor, want only its own", ds)
	}

	// Client tokens: A's token reads A's verification, not B's, and B's not A's.
	h.mustStatus(h.do("GET", "/v1/verifications/"+pID+"/status?token="+pToken, "", nil), http.StatusOK)
	h.wantProblem(h.do("GET", "/v1/verifications/"+bID+"/status?token="+pToken, "", nil), http.StatusUnauthorized, "unauthorized")
	h.wantProblem(h.do("GET", "/v1/verifications/"+pID+"/status?token="+bToken, "", nil), http.StatusUnauthorized, "unauthorized")
	h.wantProblem(h.do("GET", "/v1/verifications/"+pID+"/events?token="+bToken, "", nil), http.StatusUnauthorized, "unauthorized")

	after := snapshot()
	names := []string{"pending verification", "ended verification", "delivery", "keys"}
	for i := range before {
		if i == 3 {
			continue // keys: last_used_at of A's key may move; compared by count below
		}
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("app B's calls changed A's %s:\nbefore %s\nafter  %s", names[i], before[i], after[i])
		}
	}
	if ks := dataOf(h.mustStatus(h.do("GET", "/v1/keys", h.key, nil), http.StatusOK)); len(ks) != 1 || ks[0]["revoked_at"] != nil {
		t.Errorf("A's keys after B's attempts: %v", ks)
	}
	if es := dataOf(h.mustStatus(h.do("GET", "/v1/audit", h.key, nil), http.StatusOK)); len(es) != 0 {
		t.Errorf("A's audit log has entries after only B acted: %v", es)
	}
	v := h.mustStatus(h.do("GET", "/v1/verifications/"+pID, h.key, nil), http.StatusOK)
	if v["status"] != "pending" {
		t.Errorf("A's verification is %v after B's cancel", v["status"])
	}
}
