package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// widgetLangs are the languages the widget must speak: the twenty most
// used of verification traffic and a few more, as internal/i18n has.
var widgetLangs = []string{"en", "es", "fr", "de", "it", "pt", "pt-BR", "nl", "pl", "ru", "uk", "tr", "ar", "hi", "id", "ja", "ko", "zh", "zh-TW", "vi", "th", "sv", "ro", "cs", "el"}

// Every language of the widget has every string English has.
func TestWidgetStringsComplete(t *testing.T) {
	src, err := os.ReadFile("assets/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?ms)^    '?([a-zA-Z-]+)'?: \{\n(.*?)^    \},`)
	key := regexp.MustCompile(`(?m)^      (\w+): '`)
	keys := map[string][]string{}
	for _, m := range block.FindAllStringSubmatch(string(src), -1) {
		for _, k := range key.FindAllStringSubmatch(m[2], -1) {
			keys[m[1]] = append(keys[m[1]], k[1])
		}
	}
	en := keys["en"]
	if len(en) < 20 {
		t.Fatalf("English has %d strings", len(en))
	}
	for _, l := range widgetLangs {
		if !slices.Equal(keys[l], en) {
			t.Errorf("%s has strings %v, want %v", l, keys[l], en)
		}
	}
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
