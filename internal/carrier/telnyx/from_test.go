package telnyx

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
	cfg.From = []string{"+13120001234", "+13120001235"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"+13120001234", "+13120001235", "+13120001234", "+13120009999"} {
		m := carrier.SMS{ID: "job", To: "+13125550002", Text: "code"}
		if i == 3 {
			m.From = want
		}
		if _, err := c.SendSMS(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if got := r.fake.req("/messages", i)["from"]; got != want {
			t.Errorf("text %d from %v, want %s", i, got, want)
		}
	}
}
