package vonage

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
)

// TestFromIsRoundRobin: texts that name no sender take the from: list's
// numbers in turn (docs/carriers.md, "from:"); one that names its own
// keeps it.
func TestFromIsRoundRobin(t *testing.T) {
	b := setup(t)
	cfg := testConfig(t, b.rec, b.fake.srv.URL, b.hook.URL)
	cfg.From = []string{"+447700900001", "+447700900002"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"447700900001", "447700900002", "447700900001", "447700900099"} {
		m := carrier.SMS{ID: "job", To: "+447700900123", Text: "code"}
		if i == 3 {
			m.From = "+" + want
		}
		if _, err := c.SendSMS(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if got := b.fake.sms[i].Get("from"); got != want {
			t.Errorf("text %d from %s, want %s", i, got, want)
		}
	}
}
