package twilio

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
)

// TestFromIsRoundRobin: texts that name no sender take the from: list's
// numbers in turn (docs/carriers.md, "from:"); one that names its own
// keeps it.
func TestFromIsRoundRobin(t *testing.T) {
	r := newRig(t)
	cfg := testConfig(r.ev, r.fake.srv.URL, r.pub.URL)
	cfg.From = []string{"+15005550006", "+15005550007"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"+15005550006", "+15005550007", "+15005550006", "+15005550099"} {
		m := carrier.SMS{ID: "job", To: "+447700900123", Text: "code"}
		if i == 3 {
			m.From = want
		}
		if _, err := c.SendSMS(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if got := r.fake.form("/Messages.json", i).Get("From"); got != want {
			t.Errorf("text %d from %s, want %s", i, got, want)
		}
	}
}
