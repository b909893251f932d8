package sdktest

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/ringgate/ringgate/internal/config"

	_ "modernc.org/sqlite" // to read the dev database after the server
)

// TestErasePhoneTakesCompatRecords: DELETE /v1/phones/{phone} erases the
// compatible APIs' records of the number too (Twilio's To, the Vonage
// request, the missed-call API's request), not only ringgate's own.
func TestErasePhoneTakesCompatRecords(t *testing.T) {
	t.Parallel()
	var dir string
	srv := startDev(t, func(c *config.Config) { dir = c.DataDir })
	const to = "+447911123540"
	asA := func(c call) reply { c.user, c.pass = accountSID, authToken; return do(t, srv, c) }
	svc := asA(call{method: "POST", path: "/v2/Services", body: form("FriendlyName", "A")}).json(t)["sid"].(string)
	if r := asA(call{method: "POST", path: "/v2/Services/" + svc + "/Verifications", body: form("To", to, "Channel", "sms")}); r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL()+"/v1/phones/"+to, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ringgate.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM compat_twilio_verifications WHERE to_phone = ?`, to).Scan(&n); err != nil || n != 0 {
		t.Fatalf("compat rows of the erased phone: %d (%v)", n, err)
	}
	if r := asA(call{method: "GET", path: "/v2/Services/" + svc + "/Verifications/" + to}); r.status != 404 {
		t.Fatalf("fetch the erased To: %d %s", r.status, r.body)
	}
}
