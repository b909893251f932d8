package twilio

import (
	"testing"

	"github.com/ringgate/ringgate/internal/compat/wire"
)

// FuzzVerificationForm: a start's form, as the handler reads it, never
// panics and maps only known channels.
func FuzzVerificationForm(f *testing.F) {
	f.Add([]byte("To=%2B447911123456&Channel=sms&Locale=fr"))
	f.Add([]byte("Channel=whatsapp&Channel=sms"))
	f.Add([]byte("To=%ff&CodeLength=99999999999999999999"))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := wire.ParseForm("application/x-www-form-urlencoded", body)
		if err != nil {
			return
		}
		if ch, ok := channels[form.Get("Channel")]; ok && !ch.Known() {
			t.Fatalf("channel %q maps to unknown %q", form.Get("Channel"), ch)
		}
		_, _ = pathSID(form.Get("To"))
	})
}
