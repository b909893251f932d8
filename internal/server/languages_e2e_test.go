package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A template the app set for one locale replaces only that locale: after
// setting "en", French, pt-BR and Japanese users still get their built-in
// texts, and a language with no built-in text gets the app's own default.
func TestSMSTemplatesFallBackPerLocale(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"sms_templates": map[string]string{"en": "{app} custom: {code}", "de": "Eigener Text {code}"},
	}), http.StatusOK)
	cases := []struct{ phone, locale, want string }{
		{"+447911123601", "en", "Demo custom: "},
		{"+447911123602", "fr", "Votre code de vérification Demo est "},
		{"+447911123603", "pt-BR", "Seu código de verificação Demo é "},
		{"+447911123604", "ja", "Demoの確認コードは"},
		{"+447911123605", "de-AT", "Eigener Text "},
		{"+447911123606", "fi", "Demo custom: "}, // no built-in Finnish: the app's default
	}
	for _, c := range cases {
		h.startChannel(map[string]any{"phone": c.phone, "channel": "sms_otp", "locale": c.locale, "callback_url": h.url + "/dev/webhooks"})
	}
	for _, c := range cases {
		p := h.waitPhone(c.phone, "a text", func(p phoneView) bool { return len(p.Messages) == 1 })
		if txt := p.Messages[0].Text; !strings.HasPrefix(txt, c.want) || codeRE.FindString(txt) == "" {
			t.Errorf("locale %s: text %q, want it to start %q", c.locale, txt, c.want)
		}
	}
}

// Without a locale the phone's country picks the language: a +33 number
// gets French (text and recorded locale), a Brazilian one pt-BR, a
// British one English.
func TestLocaleFromPhoneCountry(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	cases := []struct{ phone, locale, want string }{
		{"+33612345678", "fr", "Votre code"},
		{"+5511987654321", "pt-BR", "Seu código"},
		{"+447911123611", "en", "Your Demo verification code"},
	}
	for _, c := range cases {
		v := h.startChannel(map[string]any{"phone": c.phone, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
		if v["locale"] != c.locale {
			t.Errorf("%s: locale %v, want %s", c.phone, v["locale"], c.locale)
		}
		p := h.waitPhone(c.phone, "a text", func(p phoneView) bool { return len(p.Messages) == 1 })
		if txt := p.Messages[0].Text; !strings.Contains(txt, c.want) {
			t.Errorf("%s: text %q, want %q in it", c.phone, txt, c.want)
		}
	}
}

// voice_otp speaks the verification's locale: the simulator's transcript
// is the built-in Japanese prompt, spoken in ja-JP, and the code read out
// in it verifies.
func TestVoiceOTPSpeaksTheLocale(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+447911123612"
	v := h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "locale": "ja", "callback_url": h.url + "/dev/webhooks"})
	h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 })
	h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"}), http.StatusOK)
	h.waitPhone(to, "the prompt", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 1 })
	r := h.do("GET", "/sim/phones/"+to, "", nil)
	var pv struct {
		Calls []struct {
			Transcript []string `json:"transcript"`
			Language   string   `json:"language"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(r.body, &pv); err != nil {
		t.Fatal(err)
	}
	said := pv.Calls[0].Transcript[0]
	if pv.Calls[0].Language != "ja-JP" || !strings.HasPrefix(said, "こんにちは。Demoの確認コードは") {
		t.Fatalf("heard %q in %q", said, pv.Calls[0].Language)
	}
	ok := h.mustStatus(h.check(v["id"].(string), map[string]any{"code": spokenCode(t, said)}), http.StatusOK)
	if ok["valid"] != true {
		t.Fatalf("check: %v", ok)
	}
}

// Through Twilio, the TwiML that answers the call says the German prompt
// with language="de-DE" (Telnyx's TeXML is rendered by the same code).
func TestTwilioVoiceOTPSaysTheLocale(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, _ := twilioServer(t, fake, "voice_otp")
	const to = "+447911123613"
	h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "locale": "de"})
	var call map[string]string
	waitFor(t, 10*time.Second, "a call to Twilio", func() bool {
		for _, r := range fake.requests() {
			if strings.HasSuffix(r["_path"], "/Calls.json") && r["To"] == to {
				call = r
				return true
			}
		}
		return false
	})
	code, doc := postTwilio(t, call["Url"], url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"in-progress"}, "AnsweredBy": {"human"}}, true)
	if code != http.StatusOK || !regexp.MustCompile(`<Say voice="woman" language="de-DE">Hallo, Ihr Demo-Bestätigungscode lautet \d`).MatchString(doc) {
		t.Fatalf("answer: %d %s", code, doc)
	}
}
