package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// widgetLangs are the languages the widget must speak: the twenty most
// used of verification traffic and a few more, as internal/i18n has.
var widgetLangs = []string{"en", "es", "fr", "de", "it", "pt", "pt-BR", "nl", "pl", "ru", "uk", "tr", "ar", "hi", "id", "ja", "ko", "zh", "zh-TW", "vi", "th", "sv", "ro", "cs", "el"}

// Every language of the widget has every string English has, no more.
func TestWidgetStringsComplete(t *testing.T) {
	src, err := os.ReadFile("assets/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?ms)^    en: \{\n(.*?)^    \},`).FindSubmatch(src)
	if block == nil {
		t.Fatal("no English block in widget.js")
	}
	var en []string
	for _, k := range regexp.MustCompile(`(?m)^      (\w+): '`).FindAllSubmatch(block[1], -1) {
		en = append(en, string(k[1]))
	}
	slices.Sort(en)
	raw, err := os.ReadFile("assets/widget-strings.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]map[string]string
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	if len(en) < 20 {
		t.Fatalf("English has %d strings", len(en))
	}
	for _, l := range widgetLangs[1:] {
		keys := slices.Sorted(maps.Keys(all[l]))
		if !slices.Equal(keys, en) {
			t.Errorf("%s has strings %v, want %v", l, keys, en)
		}
		for k, v := range all[l] {
			if v == "" || (strings.Count(v, "{n}") != strings.Count(lookupEN(src, k), "{n}")) {
				t.Errorf("%s.%s = %q: placeholders differ from English", l, k, v)
			}
		}
	}
	if !regexp.MustCompile(`const LANGS = \["en"`).Match(src) {
		t.Error("widget.js does not list its languages")
	}
}

func lookupEN(src []byte, key string) string {
	m := regexp.MustCompile(`(?m)^      ` + key + `: '([^']*)'`).FindSubmatch(src)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// In a real browser, one widget per language on the same verification:
// each shows its own words (not English), and the browser's language
// picks pt-BR over European Portuguese.
func TestWidgetLanguages(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+447911123701", "channel": "sms_otp"})
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><script src="%s/widget.js"></script></head><body>
<ringgate-verify verification-id="%s" token="%s"></ringgate-verify></body></html>`, rg.url, v["id"], v["client_token"])
	}))
	t.Cleanup(host.Close)
	ctx := browser(t)
	// The browser's own language (en-US here) picks English.
	run(t, ctx, chromedp.Navigate(host.URL))
	waitText(t, ctx, 10*time.Second, widgetText, "Enter your code")
	title := wjs("h2") + ".innerText"
	seen := map[string]string{}
	for _, l := range widgetLangs {
		eval(t, ctx, `document.querySelector('ringgate-verify').setAttribute('lang', '`+l+`')`)
		waitText(t, ctx, 5*time.Second, `document.querySelector('ringgate-verify').shadowRoot.querySelector('.card').getAttribute('lang') + '/' + !!`+wjs("h2"), l+"/true")
		got := eval(t, ctx, title)
		if got == "" || (l != "en" && got == "Enter your code") {
			t.Errorf("%s: title %q", l, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s says the same as %s: %q", l, other, got)
		}
		seen[got] = l
		switch l {
		case "pt-BR":
			if got != "Digite seu código" {
				t.Errorf("pt-BR: %q", got)
			}
		case "pt":
			if got != "Introduza o seu código" {
				t.Errorf("pt: %q", got)
			}
		case "ja":
			shot(t, ctx, "widget-ja-code")
		}
	}
	// A browser tag the widget has no exact strings for takes its language.
	eval(t, ctx, `document.querySelector('ringgate-verify').setAttribute('lang', 'pt-PT')`)
	waitText(t, ctx, 5*time.Second, title, "Introduza o seu código")
	eval(t, ctx, `document.querySelector('ringgate-verify').setAttribute('lang', 'zh-HK')`)
	waitText(t, ctx, 5*time.Second, title, "輸入驗證碼")
	shot(t, ctx, "widget-languages")
}

// Without EventSource the widget follows the verification over the
// WebSocket (GET …/ws) in a real browser: the call turns the page green
// at once, not at the next poll, and the widget says it is on "ws".
func TestWidgetFallsBackToWebSocket(t *testing.T) {
	rg := startDev(t)
	v := rg.start(t, map[string]any{"phone": "+61491570157", "channel": "missed_call"})
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><script>delete window.EventSource;
const Real = WebSocket; window.opened = []; window.sockets = [];
window.WebSocket = function (u) { window.opened.push(u); const s = new Real(u); window.sockets.push(s); return s; };
window.WebSocket.prototype = Real.prototype;</script>
<script src="%s/widget.js"></script></head><body>
<ringgate-verify verification-id="%s" token="%s"></ringgate-verify></body></html>`, rg.url, v["id"], v["client_token"])
	}))
	t.Cleanup(host.Close)
	ctx := browser(t)
	run(t, ctx, chromedp.Navigate(host.URL))
	waitText(t, ctx, 10*time.Second, widgetText, "Call this number to verify your phone")
	waitText(t, ctx, 5*time.Second, `document.querySelector('ringgate-verify').shadowRoot.querySelector('.card').dataset.live + ' ' + window.opened.length`, "ws 1")
	if u := eval(t, ctx, `window.opened[0]`); !strings.HasPrefix(u, "ws://") || !strings.Contains(u, "/v1/verifications/"+v["id"].(string)+"/ws?token=") {
		t.Fatalf("the widget opened %q", u)
	}
	// The socket is open (and polling has stopped) before the call.
	waitText(t, ctx, 5*time.Second, `String(window.sockets[0].readyState)`, "1")
	rg.post(t, "/sim/calls", "", map[string]any{"from": "+61491570157", "to": v["dial_number"]}, http.StatusOK)
	called := time.Now()
	waitText(t, ctx, 5*time.Second, widgetText, "Phone number verified")
	took := time.Since(called)
	t.Logf("WebSocket: success shown %v after the call", took.Round(time.Millisecond))
	if took > 1500*time.Millisecond {
		t.Errorf("success took %v over the WebSocket; a 2 s poll would explain it, the socket should not", took)
	}
	shot(t, ctx, "widget-websocket-verified")
}
