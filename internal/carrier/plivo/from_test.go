package plivo

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
)

// TestFromIsRoundRobin: texts that name no sender take the from: list's
// numbers in turn (docs/carriers.md, "from:"); one that names its own
// keeps it.
func TestFromIsRoundRobin(t *testing.T) {
	b := setup(t)
	cfg := testConfig(b.rec, b.fake.srv.URL, b.hook.URL)
	cfg.From = []string{"+14155550100", "+14155550101"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"14155550100", "14155550101", "14155550100", "14155550199"} {
		m := carrier.SMS{ID: "job", To: "+14155550123", Text: "code"}
		if i == 3 {
			m.From = "+" + want
		}
		if _, err := c.SendSMS(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		b.fake.mu.Lock()
		got := b.fake.messages[i]["src"]
		b.fake.mu.Unlock()
		if got != want {
			t.Errorf("text %d from %v, want %s", i, got, want)
		}
	}
}
