package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/testutil"
)

// The browser tests drive real headless Chromium (Debian package chromium,
// installed by scripts/install-deps.sh) against a real ringgate dev server,
// and assert on what a person sees: texts and states. Screenshots go to
// $RINGGATE_ARTIFACTS, else artifacts/browser at the repository root.

// One browser for the package: each test gets a tab of it.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel func()
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser returns a new tab of the package's one browser, closed with t.
// Without Chromium the test skips loudly, and fails under CI=true.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		msg := "chromium is not installed (scripts/install-deps.sh installs it): browser tests SKIPPED"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // CI runs as root
			chromedp.Flag("disable-gpu", true),
			chromedp.WindowSize(1280, 900),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCtx, browserCancel = ctx, func() { cancelCtx(); cancelAlloc() }
		// The first run starts the browser, which lives as long as ctx:
		// no timeout here.
		browserErr = chromedp.Do(ctx)
	})
	if browserErr != nil {
		t.Fatalf("start chromium: %v", browserErr)
	}
	tab, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancelT := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("RINGGATE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// shot saves a full-page screenshot as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval returns a JavaScript expression's value as a string.
func eval(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String((() => { try { return `+js+` } catch (e) { return '' } })() ?? '')`))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// clickLive clicks the element a CSS selector finds at the moment of the
// click, in one step in the page. The console's feed and detail re-render
// as the live stream brings changes, so a node chromedp found a moment
// earlier may be gone by the time it clicks ("Could not find node").
func clickLive(t *testing.T, ctx context.Context, d time.Duration, sel string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return 'missing'; el.click(); return 'clicked' })()`, sel)
	waitText(t, ctx, d, js, "clicked")
}

// widgetText is what the widget shows (its shadow root's visible text).
const widgetText = `document.querySelector('ringgate-verify').shadowRoot.querySelector('.body').innerText`

// widgetPath is a JS path into the widget, for clicks and typing.
func widgetPath(sel string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector('ringgate-verify').shadowRoot.querySelector(` + fmt.Sprintf("%q", sel) + `)`)
}

// wjs is widgetPath as a JavaScript expression.
func wjs(sel string) string { return string(widgetPath(sel)) }

// waitText waits until the JavaScript expression's text contains want,
// and returns it.
func waitText(t *testing.T, ctx context.Context, d time.Duration, js, want string) string {
	t.Helper()
	var got string
	if testutil.Eventually(d, func() bool { got = eval(t, ctx, js); return strings.Contains(got, want) }) {
		return got
	}
	shot(t, ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
	t.Fatalf("waited %v for %q; it shows:\n%s\nand the page:\n%s", d, want, got, eval(t, ctx, `document.body.innerText`))
	return ""
}

var (
	// The number to dial as an en-US browser reads it: the US pool number
	// in its national form.
	dialRE = regexp.MustCompile(`\(202\) 555-010\d`)
	codeRE = regexp.MustCompile(`\b\d{6}\b`)
	timeRE = regexp.MustCompile(`\b\d:\d\d\b`)
)

// signUp fills the demo form as a visitor would and continues.
func signUp(t *testing.T, ctx context.Context, name, phone, channel string) {
	t.Helper()
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`#signup`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), name),
		chromedp.SendKeys(chromedp.CSS(`#email`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#phone`), phone),
		chromedp.Click(chromedp.CSS(`input[name=channel][value="`+channel+`"]`)),
		chromedp.Click(chromedp.CSS(`#continue`)),
	)
}

// The whole missed-call flow on the demo page: the visitor signs up, sees
// the number with a QR code and a countdown, dials it on the simulated
// phone, and the page turns to success within a second of the call; the
// demo backend then confirms the sign-up.
func TestDemoMissedCall(t *testing.T) {
	rg := startDev(t)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(rg.url+"/"))
	signUp(t, ctx, "Ada Lovelace", "+44 7911 123401", "missed_call")

	text := waitText(t, ctx, 10*time.Second, widgetText, "Call this number to verify your phone")
	dial := dialRE.FindString(text)
	if dial == "" || !strings.Contains(text, "The call is free") || !timeRE.MatchString(text) {
		t.Fatalf("the widget should show a pool number, that the call is free, and a countdown:\n%s", text)
	}
	e164 := "+1" + strings.NewReplacer("(", "", ")", "", " ", "", "-", "").Replace(dial)
	if href := eval(t, ctx, wjs("a.number")+`.getAttribute('href')`); href != "tel:"+e164 {
		t.Fatalf("the number links to %q, want tel:%s", href, e164)
	}
	// A desktop shows the QR code, once it has loaded.
	waitText(t, ctx, 5*time.Second, wjs(".qr img")+`.complete && `+wjs(".qr img")+`.naturalWidth > 0 && getComputedStyle(`+wjs(".qr")+`).display !== 'none'`, "true")
	// The countdown runs.
	first := timeRE.FindString(text)
	time.Sleep(1100 * time.Millisecond)
	if now := timeRE.FindString(eval(t, ctx, widgetText)); now == first {
		t.Fatalf("the countdown stayed at %s", first)
	}
	shot(t, ctx, "demo-missed-call-waiting")

	// The visitor dials the number shown, on the simulated phone.
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#dial`), e164))
	// Timed from the click on Call, which includes the simulated network
	// placing the call: the page must be green within a second of it.
	clicked := time.Now()
	run(t, ctx, chromedp.Click(chromedp.CSS(`#call`)))
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	took := time.Since(clicked)
	t.Logf("the page showed success %v after the visitor pressed Call", took.Round(time.Millisecond))
	waitText(t, ctx, 5*time.Second, `document.querySelector('#call-result').innerText`, "rejected before answer")
	if took > time.Second {
		t.Errorf("success took %v after the call landed, want under a second", took)
	}
	welcome := waitText(t, ctx, 5*time.Second, `document.querySelector('#welcome').innerText`, "Welcome, Ada Lovelace!")
	if !strings.Contains(welcome, "+447911123401 is verified (missed call)") {
		t.Fatalf("welcome message: %q", welcome)
	}
	shot(t, ctx, "demo-missed-call-verified")
}

// The SMS OTP flow on the demo page: the code input has the right length
// and autocomplete, a wrong code says how many attempts are left, and the
// code the simulated phone received verifies.
func TestDemoSMSCode(t *testing.T) {
	// "Send a new code" comes within the resend interval of the first text;
	// the pacing itself is tested in internal/server (attack_forgery_test.go).
	rg := startDev(t, func(c *config.Config) { c.Abuse.ResendInterval = 0 })
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(rg.url+"/"))
	signUp(t, ctx, "Grace Hopper", "+44 7911 123402", "sms_otp")

	waitText(t, ctx, 10*time.Second, widgetText, "Enter the 6-digit code we sent by text to +44 ••••••••02.")
	attrs := eval(t, ctx, `['autocomplete','maxlength','inputmode'].map(a => `+wjs("input")+`.getAttribute(a)).join(' ')`)
	if attrs != "one-time-code 6 numeric" {
		t.Fatalf("code input attributes %q, want one-time-code 6 numeric", attrs)
	}
	if label := eval(t, ctx, wjs("label[for=code]")+`.innerText`); label != "Verification code" {
		t.Fatalf("code input label %q", label)
	}
	sms := waitText(t, ctx, 10*time.Second, `document.querySelector('#sms').innerText`, "code")
	code := codeRE.FindString(sms)
	if code == "" {
		t.Fatalf("no code in the phone's text: %q", sms)
	}
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	input := widgetPath("input")
	run(t, ctx, chromedp.SendKeys(input, wrong), chromedp.Click(widgetPath("button[type=submit]")))
	waitText(t, ctx, 5*time.Second, widgetText, "That code is not right. Attempts left: 4.")
	shot(t, ctx, "demo-sms-wrong-code")

	// "Send a new code": the demo backend ends this verification and starts
	// another; the phone gets a second text, and only its code works.
	run(t, ctx, chromedp.Click(widgetPath("[data-act=resend]")))
	waitText(t, ctx, 10*time.Second, `document.querySelectorAll('#sms li').length + ' texts'`, "2 texts")
	waitText(t, ctx, 5*time.Second, widgetText, "Enter the 6-digit code")
	code = codeRE.FindString(eval(t, ctx, `document.querySelector('#sms li').innerText`)) // newest first
	if code == "" {
		t.Fatal("no code in the second text")
	}

	eval(t, ctx, wjs("input")+`.value = ''`)
	run(t, ctx, chromedp.SendKeys(input, code),
		chromedp.Click(widgetPath("button[type=submit]")))
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	waitText(t, ctx, 5*time.Second, `document.querySelector('#welcome').innerText`, "is verified (sms otp)")
	shot(t, ctx, "demo-sms-verified")
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// "Try another way": a missed call with a text as fallback; the visitor
// cannot call, asks for a text instead, and verifies with its code.
func TestDemoTryAnotherWay(t *testing.T) {
	rg := startDev(t)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(rg.url+"/"))
	signUp(t, ctx, "Katherine Johnson", "+44 7911 123403", "missed_call,sms_otp")
	waitText(t, ctx, 10*time.Second, widgetText, "Call this number to verify your phone")
	run(t, ctx, chromedp.Click(widgetPath("[data-act=next]")))
	waitText(t, ctx, 10*time.Second, widgetText, "Enter the 6-digit code we sent by text to +44 ••••••••03.")
	if n := eval(t, ctx, `String(!!`+wjs("[data-act=next]")+`)`); n != "false" {
		t.Fatal("the last step still offers another way")
	}
	code := codeRE.FindString(waitText(t, ctx, 10*time.Second, `document.querySelector('#sms').innerText`, "code"))
	run(t, ctx, chromedp.SendKeys(widgetPath("input"), code), chromedp.Click(widgetPath("button[type=submit]")))
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	waitText(t, ctx, 5*time.Second, `document.querySelector('#welcome').innerText`, "is verified (sms otp)")
}

// "Try another way" right after a text went out is paced (docs/abuse.md):
// the widget says how long to wait instead of doing nothing.
func TestWidgetPacesTryAnotherWay(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+447911123404", "workflow": []map[string]any{{"channel": "sms_otp"}, {"channel": "missed_call"}}})
	// The business's own page, on another origin: the 429 must be readable
	// across origins for the widget to say anything.
	host := shopPage(t, rg, v)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(host))
	waitText(t, ctx, 10*time.Second, widgetText, "Enter the 6-digit code")
	run(t, ctx, chromedp.Click(widgetPath("[data-act=next]")))
	text := waitText(t, ctx, 10*time.Second, widgetText, "You can try another way in ")
	if !regexp.MustCompile(`in \d+ s\.`).MatchString(text) {
		t.Fatalf("the wait message shows no seconds:\n%s", text)
	}
	shot(t, ctx, "widget-paced")
}

// A flash call through the widget: the phone rings from a number whose
// last digits are the code; the visitor types them, and the widget turns
// green. (A real app reads the caller ID itself; a page asks the person.)
func TestWidgetFlashCall(t *testing.T) {
	rg := startDev(t)
	const to = "+447911123405"
	v := rg.start(t, map[string]any{"phone": to, "channel": "flash_call"})
	host := shopPage(t, rg, v)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(host))
	waitText(t, ctx, 10*time.Second, widgetText, "Enter the last 6 digits of the number that just called")
	if got := eval(t, ctx, wjs("input")+`.getAttribute('autocomplete') + ' ' + `+wjs("input")+`.maxLength`); got != "one-time-code 6" {
		t.Fatalf("code input: %q, want one-time-code and 6 digits", got)
	}
	var from string
	testutil.Eventually(10*time.Second, func() bool {
		_, b := rg.do(t, "GET", "/sim/phones/"+to, "", nil)
		var p struct {
			Calls []struct {
				From string `json:"from"`
			} `json:"calls"`
		}
		_ = json.Unmarshal(b, &p)
		if len(p.Calls) > 0 {
			from = p.Calls[0].From
		}
		return from != ""
	})
	if len(from) < 6 {
		t.Fatalf("no flash call reached %s", to)
	}
	run(t, ctx, chromedp.SendKeys(widgetPath("input"), from[len(from)-6:]), chromedp.Click(widgetPath("button[type=submit]")))
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	shot(t, ctx, "widget-flash-verified")
}

// An answered call through the widget: it says a call is coming, the
// person answers on the (simulated) phone, and the page turns green.
func TestWidgetAnswerCall(t *testing.T) {
	rg := startDev(t)
	const to = "+447911123406"
	v := rg.start(t, map[string]any{"phone": to, "channel": "answer_call"})
	host := shopPage(t, rg, v)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(host))
	waitText(t, ctx, 10*time.Second, widgetText, "Answer the call; you can hang up at once.")
	var code int
	if !testutil.Eventually(10*time.Second, func() bool {
		code, _ = rg.do(t, "POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"})
		return code == http.StatusOK
	}) {
		t.Fatalf("the call to %s never rang (answer: %d)", to, code)
	}
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	shot(t, ctx, "widget-answer-verified")
}

// Expiry, on a business's own page on another origin, in a French browser:
// the widget loads across origins, counts down in French, says the time
// ran out, and its retry button tells the host page.
func TestWidgetExpiresOnAnotherOrigin(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+33612345678", "channel": "missed_call", "timeout_s": 10})
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Boutique</title>
<script src="%s/widget.js"></script></head><body><h1>Boutique</h1>
<ringgate-verify verification-id="%s" token="%s"></ringgate-verify><p id="host"></p>
<script>document.querySelector('ringgate-verify').addEventListener('ringgate-retry', e => {
  document.getElementById('host').textContent = 'retry asked after ' + e.detail.status; });</script></body></html>`,
			rg.url, v["id"], v["client_token"])
	}))
	t.Cleanup(host.Close)

	ctx := browser(t)
	french := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156 Safari/537.36", AcceptLanguage: "fr-FR,fr",
		})
		return err
	})
	run(t, ctx, french, chromedp.Navigate(host.URL))
	text := waitText(t, ctx, 10*time.Second, widgetText, "Appelez ce numéro pour vérifier votre téléphone")
	// A French browser reads the US number in spaced international form.
	if !strings.Contains(text, "+1 202 555 010") || !strings.Contains(text, "L’appel est gratuit") {
		t.Fatalf("the French widget shows:\n%s", text)
	}
	shot(t, ctx, "widget-fr-waiting")
	// The widget's POSTs (check, next) cross origins without a preflight:
	// from this page, the answer is readable (409: a missed call has no
	// code), not a CORS failure.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+fmt.Sprintf("%q", rg.url+"/v1/verifications/"+v["id"].(string)+"/check?token="+v["client_token"].(string))+
		`, {method: 'POST', body: new Blob(['{"code":"123456"}'])}).then(r => r.json()).then(p => p.status + ' ' + p.code, e => 'fetch failed: ' + e)`, chromedp.EvalAwaitPromise))
	if err != nil || got != "409 not_checkable" {
		t.Fatalf("a cross-origin check from the page: %q, %v", got, err)
	}
	waitText(t, ctx, 25*time.Second, widgetText, "Le temps est écoulé avant que nous puissions vérifier votre téléphone.")
	run(t, ctx, chromedp.Click(widgetPath("[data-act=retry]")))
	waitText(t, ctx, 5*time.Second, `document.getElementById('host').innerText`, "retry asked after expired")
	if btn := eval(t, ctx, wjs("[data-act=retry]")+`.innerText`); btn != "Réessayer" {
		t.Fatalf("retry button says %q", btn)
	}
	shot(t, ctx, "widget-fr-expired")
}

// Without a live stream (neither EventSource nor WebSocket: an old
// browser), the widget polls: the call still turns the page green, within
// the 2 s poll.
func TestWidgetPollsWithoutEventSource(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+61491570156", "channel": "missed_call"})
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><script>delete window.EventSource; delete window.WebSocket;</script>
<script src="%s/widget.js"></script></head><body>
<ringgate-verify lang="es" verification-id="%s" token="%s"></ringgate-verify></body></html>`, rg.url, v["id"], v["client_token"])
	}))
	t.Cleanup(host.Close)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(host.URL))
	waitText(t, ctx, 10*time.Second, widgetText, "Llama a este número para verificar tu teléfono")
	if es := eval(t, ctx, `typeof window.EventSource + typeof window.WebSocket`); es != "undefinedundefined" {
		t.Fatalf("EventSource and WebSocket are %s; the test wants the page without them", es)
	}
	waitText(t, ctx, 5*time.Second, `document.querySelector('ringgate-verify').shadowRoot.querySelector('.card').dataset.live`, "poll")
	rg.post(t, "/sim/calls", "", map[string]any{"from": "+61491570156", "to": v["dial_number"]}, http.StatusOK)
	called := time.Now()
	waitText(t, ctx, 5*time.Second, widgetText, "Número de teléfono verificado")
	t.Logf("polling: success shown %v after the call", time.Since(called).Round(time.Millisecond))
	if d := time.Since(called); d > 3*time.Second {
		t.Errorf("polling took %v to show success, want within one 2 s poll", d)
	}
	shot(t, ctx, "widget-es-polling-verified")
}

// The console: the admin token is asked for and checked; with data, the
// four charts draw (cost per verified user against SMS among them), the
// feed lists verifications, and a detail shows the timeline and webhook
// deliveries, which can be sent again.
func TestConsoleCharts(t *testing.T) {
	rg := startDev(t)
	// Data: two missed calls verified, one SMS code verified, one canceled.
	for _, p := range []string{"+447911123201", "+447911123202"} {
		v := rg.start(t, map[string]any{"phone": p, "channel": "missed_call"})
		rg.post(t, "/sim/calls", "", map[string]any{"from": p, "to": v["dial_number"]}, http.StatusOK)
	}
	s := rg.start(t, map[string]any{"phone": "+447911123203", "channel": "sms_otp"})
	rg.post(t, "/v1/verifications/"+s["id"].(string)+"/check", rg.key, map[string]any{"code": rg.textCode(t, "+447911123203")}, http.StatusOK)
	c := rg.start(t, map[string]any{"phone": "+447911123204", "channel": "sms_otp"})
	rg.post(t, "/v1/verifications/"+c["id"].(string)+"/cancel", rg.key, nil, http.StatusOK)
	// And a caller nobody waits for, twice: the console lists it.
	for range 2 {
		rg.post(t, "/sim/calls", "", map[string]any{"from": "+447911123299", "to": "+12025550100"}, http.StatusOK)
	}

	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(rg.url+"/console"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), "not-the-token"), chromedp.Click(chromedp.CSS(`#login-form button`)))
	waitText(t, ctx, 5*time.Second, `document.querySelector('#login-error').innerText`, "The admin token was not accepted.")
	eval(t, ctx, `document.querySelector('#token').value = ''`)
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#token`), rg.admin), chromedp.Click(chromedp.CSS(`#login-form button`)))

	waitText(t, ctx, 10*time.Second, `document.querySelector('#charts-note').innerText`, "4 live verifications in the window")
	waitText(t, ctx, 5*time.Second, `document.querySelector('#unmatched').innerText`, "+447911123299 2 calls")
	conv := waitText(t, ctx, 5*time.Second, `document.querySelector('#chart-conversion').textContent`, "Missed call")
	if !strings.Contains(conv, "100% (2 of 2)") || !strings.Contains(conv, "50% (1 of 2)") {
		t.Fatalf("conversion chart: missed call 100%% and SMS 50%% expected: %q", conv)
	}
	if n := eval(t, ctx, `document.querySelectorAll('#chart-volume path.line').length`); n != "2" {
		t.Fatalf("the volume chart draws %s lines, want 2 (missed call, SMS)", n)
	}
	if med := eval(t, ctx, `document.querySelector('#chart-median').textContent`); !regexp.MustCompile(`Missed call[\d.]+ s`).MatchString(med) {
		t.Fatalf("median chart: %q", med)
	}
	cost := eval(t, ctx, `document.querySelector('#chart-cost').textContent`)
	// Default example prices: a missed call costs nothing, an SMS $0.05,
	// and two texts bought one verified user.
	if !strings.Contains(cost, "SMS $0.1000") || !strings.Contains(cost, "Missed call: $0.0000 per verified user, 100% less than SMS ($0.1000).") {
		t.Fatalf("cost chart: %q", cost)
	}
	feed := waitText(t, ctx, 5*time.Second, `document.querySelector('#feed').innerText`, "+447911123204")
	if strings.Count(feed, "Demo") != 4 || strings.Contains(feed, "app_demo") || !strings.Contains(feed, "canceled") {
		t.Fatalf("feed: %q", feed)
	}
	shot(t, ctx, "console")

	// Filter by channel, open a verification, retry one of its webhooks.
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`#filters select[name=channel]`), "sms_otp"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('#filters select[name=channel]').dispatchEvent(new Event('input', {bubbles: true}))`)(ctx, tg)
			return err
		}))
	waitText(t, ctx, 5*time.Second, `document.querySelector('#feed').rows.length + ' rows'`, "2 rows")
	clickLive(t, ctx, 5*time.Second, `#feed tr[data-id="`+s["id"].(string)+`"]`)
	detail := waitText(t, ctx, 5*time.Second, `document.querySelector('#detail').innerText`, "verification.verified")
	if !strings.Contains(detail, "sms.sent") || !strings.Contains(detail, "Webhook deliveries") {
		t.Fatalf("detail: %q", detail)
	}
	clickLive(t, ctx, 5*time.Second, `#detail [data-retry]`)
	waitText(t, ctx, 5*time.Second, `document.querySelector('#retry-note').innerText`, "Queued again.")
	shot(t, ctx, "console-detail")
}

// shopPage serves a business's own page, on another origin than ringgate,
// with the widget for verification v; it returns the page's URL.
func shopPage(t *testing.T, rg *devServer, v map[string]any) string {
	t.Helper()
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script src="%s/widget.js"></script></head><body><ringgate-verify verification-id="%s" token="%s"></ringgate-verify></body></html>`,
			rg.url, v["id"], v["client_token"])
	}))
	t.Cleanup(host.Close)
	return host.URL
}
