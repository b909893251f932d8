package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browserLanguages makes the tab's navigator.languages (and language) what
// a visitor's browser in another country would say, for pages loaded after.
func browserLanguages(t *testing.T, ctx context.Context, langs string) {
	t.Helper()
	js := `Object.defineProperty(navigator, 'languages', {get: () => ` + langs + `});
Object.defineProperty(navigator, 'language', {get: () => (` + langs + `)[0]});`
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return err
	})); err != nil {
		t.Fatal(err)
	}
}

// The demo page as a British shopper meets it: the country selector says
// United Kingdom (from the browser), a national number is read in it, a
// wrong number gets a sentence a shopper understands (no API wording), the
// widget has no second heading above it and no empty space below it, and
// with a GB number in the pool the shopper dials that one, shown as it is
// written in the UK.
func TestDemoPageForShoppers(t *testing.T) {
	rg := startDev(t)
	rg.post(t, "/console/api/apps/app_demo/numbers", rg.admin, map[string]any{"number": "+442079460100", "country": "GB"}, http.StatusCreated)
	ctx := browser(t)
	browserLanguages(t, ctx, `['en-GB', 'en']`)
	run(t, ctx, chromedp.Navigate(rg.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#signup`)))
	if c := eval(t, ctx, `document.querySelector('#country').value`); c != "GB" {
		t.Fatalf("the country selector defaults to %q for an en-GB browser", c)
	}
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#name`), "Mary Seacole"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "mary@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "0207"),
		chromedp.Click(chromedp.CSS(`#continue`)),
	)
	msg := waitText(t, ctx, 5*time.Second, `document.querySelector('#form-error').innerText`, "does not look right")
	for _, dev := range []string{"national number", "E.164", "country code +", "invalid_phone", "phone number \""} {
		if strings.Contains(msg, dev) {
			t.Fatalf("the shopper reads developer wording %q: %q", dev, msg)
		}
	}
	if !strings.Contains(msg, "United Kingdom") {
		t.Fatalf("error: %q", msg)
	}
	shot(t, ctx, "demo-shopper-error")

	// A national number, read as British.
	eval(t, ctx, `document.querySelector('#phone').value = ''`)
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#phone`), "07400 123411"), chromedp.Click(chromedp.CSS(`#continue`)))
	text := waitText(t, ctx, 10*time.Second, widgetText, "Call this number to verify your phone")
	if !strings.Contains(text, "020 7946 0100") {
		t.Fatalf("a GB visitor should dial the GB pool number, written as in the UK:\n%s", text)
	}
	if href := eval(t, ctx, wjs("a.number")+`.getAttribute('href')`); href != "tel:+442079460100" {
		t.Fatalf("the number links to %q", href)
	}
	if h := eval(t, ctx, `document.querySelectorAll('#verify h2, #verify h1').length`); h != "0" {
		t.Fatalf("%s headings above the widget", h)
	}
	// No empty space under the widget: the form's panel ends with it.
	gap := eval(t, ctx, `String(Math.round(document.querySelector('main .panel').getBoundingClientRect().bottom - document.querySelector('ringgate-verify').getBoundingClientRect().bottom))`)
	if n := atoi(gap); n > 40 {
		t.Fatalf("%s px of empty space under the widget", gap)
	}
	shot(t, ctx, "demo-shopper-gb-number")
	// The visitor dials what the page shows, as it is written, on the
	// simulated phone.
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`#dial`), "+44 20 7946 0100"), chromedp.Click(chromedp.CSS(`#call`)))
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
}

// A visitor outside the number's country reads it in spaced international
// form; the widget's own errors are in the visitor's language, never the
// API's detail.
func TestWidgetNumberAndErrorsForVisitors(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+447911123412", "channel": "missed_call"})
	ctx := browser(t)
	browserLanguages(t, ctx, `['de-DE', 'de']`)
	run(t, ctx, chromedp.Navigate(shopPage(t, rg, v)))
	text := waitText(t, ctx, 10*time.Second, widgetText, "Rufen Sie diese Nummer an")
	if !strings.Contains(text, "+1 202 555 010") {
		t.Fatalf("a German visitor should read the US number in spaced international form:\n%s", text)
	}
	// An answer the widget has no words for (here a 400 problem with the
	// API's developer detail, as a proxy or a newer server might give) is
	// shown in the visitor's language, without the detail.
	s := rg.start(t, map[string]any{"phone": "+447911123413", "channel": "sms_otp"})
	browserLanguages(t, ctx, `['de-DE', 'de']`)
	stub := `const realFetch = window.fetch; window.fetch = (u, o) => String(u).includes('/check')
  ? Promise.resolve(new Response(JSON.stringify({type: 'urn:ringgate:problem:invalid_request', title: 'Bad Request', status: 400,
      code: 'invalid_request', field: 'code', detail: 'give exactly one of code and cli'}), {status: 400, headers: {'Content-Type': 'application/problem+json'}}))
  : realFetch(u, o);`
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stub})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Navigate(shopPage(t, rg, s)))
	waitText(t, ctx, 10*time.Second, widgetText, "Code eingeben")
	run(t, ctx, chromedp.SendKeys(widgetPath("input"), "123456"), chromedp.Click(widgetPath("button[type=submit]")))
	got := waitText(t, ctx, 5*time.Second, wjs(".msg")+`.innerText`, "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.")
	if strings.Contains(got, "cli") || strings.Contains(got, "Bad Request") {
		t.Fatalf("developer wording: %q", got)
	}
	shot(t, ctx, "widget-de-error")
}
