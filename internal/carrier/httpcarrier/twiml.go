package httpcarrier

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/ivr"
)

// ContentTypeXML is the content type of TwiML / TeXML responses.
const ContentTypeXML = "text/xml; charset=utf-8"

// TwiML renders ivr actions as a TwiML document (which Telnyx's TeXML
// reads the same way for these verbs). Says before a Gather are nested in
// it, so the callee may press a key while the code is being spoken; the
// Gather posts to gatherURL, also when nothing was pressed
// (actionOnEmptyResult), so the dialplan's timeout branch runs. A list
// ending in a HangUp (or an empty list) ends with <Hangup/>.
func TwiML(acts []ivr.Action, gatherURL string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Response>")
	var says []ivr.Action
	gathered := false
	for _, a := range acts {
		switch a.Kind {
		case ivr.Say:
			says = append(says, a)
		case ivr.Gather:
			b.WriteString(`<Gather input="dtmf" numDigits="`)
			b.WriteString(strconv.Itoa(max(a.MaxDigits, 1)))
			b.WriteString(`" timeout="`)
			b.WriteString(strconv.Itoa(Seconds(a.Timeout)))
			b.WriteString(`" actionOnEmptyResult="true" method="POST" action="`)
			escape(&b, gatherURL)
			b.WriteString(`">`)
			writeSays(&b, says)
			says = nil
			b.WriteString("</Gather>")
			gathered = true
		case ivr.HangUp:
			writeSays(&b, says)
			says = nil
		}
		if gathered {
			break
		}
	}
	if !gathered {
		writeSays(&b, says)
		b.WriteString("<Hangup/>")
	}
	b.WriteString("</Response>")
	return b.Bytes()
}

func writeSays(b *bytes.Buffer, says []ivr.Action) {
	for _, s := range says {
		b.WriteString("<Say")
		if v := Voice(s.Voice); v != "" && genericVoiceSpeaks(s.Language) {
			b.WriteString(` voice="`)
			escape(b, v)
			b.WriteString(`"`)
		}
		if s.Language != "" {
			b.WriteString(` language="`)
			escape(b, s.Language)
			b.WriteString(`"`)
		}
		b.WriteString(">")
		escape(b, s.Text)
		b.WriteString("</Say>")
	}
}

// Voice maps a dialplan voice ("female1", "male2") onto the generic
// TwiML/TeXML voices "woman" and "man"; other names pass as they are
// ("Polly.Amy"), and "" leaves the provider's default.
func Voice(v string) string {
	l := strings.ToLower(v)
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(l, "female") || l == "woman":
		return "woman"
	case strings.HasPrefix(l, "male") || l == "man":
		return "man"
	}
	return v
}

// genericVoiceSpeaks says whether TwiML's generic "man"/"woman" voices
// speak lang; for other languages the voice is left to the provider, which
// picks one that speaks the language.
func genericVoiceSpeaks(lang string) bool {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch base {
	case "", "en", "es", "fr", "de", "it":
		return true
	}
	return false
}

// Seconds rounds d up to whole seconds, at least 1 (TwiML timeouts are
// integers).
func Seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// TwiMLReject answers an incoming call with <Reject/>: the call is refused
// before answer, so the caller is never charged. reason is "rejected" or
// "busy".
func TwiMLReject(reason string) []byte {
	if reason != "busy" {
		reason = "rejected"
	}
	return []byte(xml.Header + `<Response><Reject reason="` + reason + `"/></Response>`)
}

// TwiMLHangup is a document that hangs up at once.
func TwiMLHangup() []byte {
	return []byte(xml.Header + "<Response><Hangup/></Response>")
}

func escape(b *bytes.Buffer, s string) {
	xml.EscapeText(b, []byte(s))
}
