package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// consoleLogin opens the console at 1440 px wide and signs in.
func consoleLogin(t *testing.T, ctx context.Context, rg *devServer) {
	t.Helper()
	wide := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1440, Height: 1000, DeviceScaleFactor: 1})
		return err
	})
	run(t, ctx, wide, chromedp.Navigate(rg.url+"/console"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), rg.admin), chromedp.Click(chromedp.CSS(`#login-form button`)))
}

// The console as an operator uses it: sandbox verifications are marked in
// the feed and left out of the charts until the toggle shows them;
// conversion says "n of m"; every chart label is at least 12 px at 1440 px;
// the time chart's points come from the data; apps go by name; the feed
// follows changes over its stream (no polling); Remove asks first.
func TestConsoleForOperators(t *testing.T) {
	rg := startDev(t)
	// A test key of the demo app: its starts are sandbox verifications.
	var created struct {
		Key string `json:"key"`
	}
	_, b := rg.do(t, "POST", "/v1/keys", rg.key, map[string]any{"kind": "test", "scope": "verify"})
	if err := json.Unmarshal(b, &created); err != nil || !strings.HasPrefix(created.Key, "rg_test_") {
		t.Fatalf("test key: %s", b)
	}
	live := rg.start(t, map[string]any{"phone": "+447911123801", "channel": "missed_call"})
	rg.post(t, "/sim/calls", "", map[string]any{"from": "+447911123801", "to": live["dial_number"]}, http.StatusOK)
	for _, p := range []string{"+441134960001", "+441134960002", "+441134960003"} {
		rg.post(t, "/v1/verifications", created.Key, map[string]any{"phone": p, "channel": "sms_otp"}, http.StatusCreated)
	}
	ctx := browser(t)
	consoleLogin(t, ctx, rg)
	note := waitText(t, ctx, 10*time.Second, `document.querySelector('#charts-note').innerText`, "1 live verifications in the window")
	if !strings.Contains(note, "3 sandbox (test-key) verifications are not counted") {
		t.Fatalf("charts note: %q", note)
	}
	// The series starts at the data, not 24 empty hours before it.
	if !strings.Contains(note, "one point per minute") {
		t.Fatalf("buckets not picked from the data: %q", note)
	}
	conv := eval(t, ctx, `document.querySelector('#chart-conversion').textContent`)
	if !strings.Contains(conv, "100% (1 of 1)") || strings.Contains(conv, "SMS") {
		t.Fatalf("conversion without the sandbox: %q", conv)
	}
	feed := waitText(t, ctx, 5*time.Second, `document.querySelector('#feed').innerText`, "sandbox")
	if strings.Count(feed, "sandbox") != 3 || strings.Contains(feed, "app_demo") || !strings.Contains(feed, "Demo") {
		t.Fatalf("feed: %q", feed)
	}
	// Every text of every chart is at least 12 px as drawn.
	small := eval(t, ctx, `[...document.querySelectorAll('.charts svg text')].map(e => e.getBoundingClientRect().height).filter(h => h < 12).length + '/' + document.querySelectorAll('.charts svg text').length`)
	if !strings.HasPrefix(small, "0/") || small == "0/0" {
		t.Fatalf("chart labels under 12 px: %s", small)
	}
	fonts := eval(t, ctx, `[...new Set([...document.querySelectorAll('.charts svg text')].map(e => Math.round(parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a)))].join(',')`)
	for _, f := range strings.Split(fonts, ",") {
		if atoi(f) < 12 {
			t.Fatalf("chart font sizes as drawn: %s px", fonts)
		}
	}
	shot(t, ctx, "console-1440-live-only")

	run(t, ctx, chromedp.Click(chromedp.CSS(`#sandbox`)))
	waitText(t, ctx, 5*time.Second, `document.querySelector('#charts-note').innerText`, "4 verifications, sandbox included,")
	waitText(t, ctx, 5*time.Second, `document.querySelector('#chart-conversion').textContent`, "SMS OTP")
	shot(t, ctx, "console-1440-with-sandbox")

	// The feed follows the stream: a new start appears without a poll.
	waitText(t, ctx, 5*time.Second, `document.querySelector('#feed-caption').dataset.live`, "on")
	// (eval returns its expression: statements go in a function.)
	eval(t, ctx, `(() => { window.fetchCount = 0; const f = window.fetch; window.fetch = (u, o) => { if (String(u).includes('/console/api/verifications?')) window.fetchCount++; return f(u, o); }; return 'ok'; })()`)
	time.Sleep(3500 * time.Millisecond) // longer than the old 3 s poll: nothing must be fetched while nothing happens
	if n := eval(t, ctx, `String(window.fetchCount)`); n != "0" {
		t.Fatalf("the feed was fetched %s times with nothing happening: it polls", n)
	}
	rg.start(t, map[string]any{"phone": "+447911123802", "channel": "sms_otp"})
	waitText(t, ctx, 3*time.Second, `document.querySelector('#feed').innerText`, "+447911123802")
	if n := eval(t, ctx, `String(window.fetchCount)`); n == "0" {
		t.Fatal("the new verification appeared without the feed being fetched: the counter does not count")
	}

	// Remove asks first; "Keep it" keeps the number.
	waitText(t, ctx, 5*time.Second, `document.querySelector('#pool').innerText`, "+12025550104")
	run(t, ctx, chromedp.Click(chromedp.CSS(`#pool [data-remove="+12025550104"]`)))
	ask := waitText(t, ctx, 5*time.Second, `document.querySelector('#pool .confirm').innerText`, "Remove +12025550104 from the pool?")
	if !strings.Contains(ask, "Yes, remove") {
		t.Fatalf("confirm: %q", ask)
	}
	shot(t, ctx, "console-remove-asks")
	run(t, ctx, chromedp.Click(chromedp.CSS(`#pool .confirm [data-no]`)))
	waitText(t, ctx, 5*time.Second, `String(!!document.querySelector('#pool [data-remove="+12025550104"]'))`, "true")
	_, nb := rg.do(t, "GET", "/console/api/apps/app_demo/numbers", rg.admin, nil)
	if !strings.Contains(string(nb), "+12025550104") {
		t.Fatal("Keep it removed the number")
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`#pool [data-remove="+12025550104"]`)), chromedp.Click(chromedp.CSS(`#pool .confirm [data-yes]`)))
	waitText(t, ctx, 5*time.Second, `String(document.querySelector('#pool').innerText.includes('+12025550104'))`, "false")
	_, nb = rg.do(t, "GET", "/console/api/apps/app_demo/numbers", rg.admin, nil)
	if strings.Contains(string(nb), "+12025550104") {
		t.Fatal("Yes, remove kept the number")
	}
}

// The export gives the verifications the feed's filters select, as CSV
// and as JSON lines, with the same rows.
func TestConsoleExport(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+447911123811", "channel": "missed_call"})
	rg.post(t, "/sim/calls", "", map[string]any{"from": "+447911123811", "to": v["dial_number"]}, http.StatusOK)
	rg.start(t, map[string]any{"phone": "+447911123812", "channel": "sms_otp"})
	rg.start(t, map[string]any{"phone": "+447911123813", "channel": "sms_otp"})
	get := func(q string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", rg.url+"/console/api/export?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+rg.admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, b := get("format=csv&channel=sms_otp")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv: %d %v", res.StatusCode, res.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "id" || recs[1][9] != "+447911123813" || recs[2][9] != "+447911123812" || recs[1][2] != "Demo" {
		t.Fatalf("csv rows %v (%v)", recs, err)
	}
	res, b = get("format=jsonl&status=verified")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var row map[string]any
	if res.StatusCode != 200 || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &row) != nil ||
		row["phone"] != "+447911123811" || row["verified_channel"] != "missed_call" || row["seconds_to_verify"] == nil {
		t.Fatalf("jsonl: %d %s", res.StatusCode, b)
	}
	if res, b := get("format=xml"); res.StatusCode != 400 || !strings.Contains(string(b), "format") {
		t.Fatalf("bad format: %d %s", res.StatusCode, b)
	}
	if res, _ := get("format=csv&channel=nope"); res.StatusCode != 400 {
		t.Fatalf("bad filter: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", rg.url+"/console/api/export", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("export without the admin token: %v %v", res, err)
	}

	// The console's buttons download the same file in a browser.
	ctx := browser(t)
	consoleLogin(t, ctx, rg)
	waitText(t, ctx, 10*time.Second, `document.querySelector('#feed').innerText`, "+447911123813")
	eval(t, ctx, `(() => { window.downloads = []; const c = URL.createObjectURL; URL.createObjectURL = (b) => { window.downloads.push(b); return c(b); }; return 'ok'; })()`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#export-csv`)))
	waitText(t, ctx, 5*time.Second, `String(window.downloads.length) + document.querySelector("#feed-error").innerText`, "1")
	got := waitText(t, ctx, 5*time.Second, `window.downloadText || (window.downloads[0].text().then(t => { window.downloadText = t }), '')`, "+447911123812")
	if !strings.HasPrefix(got, "id,app_id,app_name") {
		t.Fatalf("downloaded %q", got)
	}
}
