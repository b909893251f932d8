package i18n

import (
	"strings"
	"testing"
)

// The issue asks for at least the twenty most used languages of
// verification traffic; each needs an SMS text with {code} and a voice
// prompt with {{code}}, and a TTS tag.
func TestEveryLanguageHasBothTexts(t *testing.T) {
	want := []string{"en", "es", "fr", "de", "it", "pt", "pt-BR", "nl", "pl", "ru", "uk", "tr", "ar", "hi", "id", "ja", "ko", "zh", "vi", "th", "sv"}
	for _, l := range want {
		if Resolve(l) != l {
			t.Errorf("no built-in texts for %s", l)
		}
	}
	if len(Tags()) < 20 {
		t.Errorf("%d languages", len(Tags()))
	}
	for _, l := range Tags() {
		x := table[l]
		if !strings.Contains(x.SMS, "{code}") || !strings.Contains(x.SMS, "{app}") || strings.Contains(x.SMS, "{{") {
			t.Errorf("%s SMS %q", l, x.SMS)
		}
		if !strings.Contains(x.Voice, "{{code}}") || !strings.Contains(x.Voice, "{{app}}") {
			t.Errorf("%s voice %q", l, x.Voice)
		}
		if !strings.Contains(x.TTS, "-") {
			t.Errorf("%s TTS %q", l, x.TTS)
		}
		if l != "en" && (x.SMS == table["en"].SMS || x.Voice == table["en"].Voice) {
			t.Errorf("%s is the English text", l)
		}
	}
}

func TestResolveAndRegions(t *testing.T) {
	for in, want := range map[string]string{
		"pt-BR": "pt-BR", "pt-br": "pt-BR", "pt": "pt", "pt-PT": "pt", "fr-CA": "fr", "zh-TW": "zh-TW", "zh-HK": "zh",
		"fi": "", "": "", "x": "",
	} {
		if got := Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
	for region, want := range map[string]string{"FR": "fr", "fr": "fr", "BR": "pt-BR", "GB": "en", "US": "en", "JP": "ja", "UA": "uk", "ZZ": "en"} {
		if got := ForRegion(region); got != want {
			t.Errorf("ForRegion(%q) = %q, want %q", region, got, want)
		}
	}
	if TTS("fr") != "fr-FR" || TTS("fi-FI") != "fi-FI" || TTS("fi") != "" {
		t.Errorf("TTS: %q %q %q", TTS("fr"), TTS("fi-FI"), TTS("fi"))
	}
}
