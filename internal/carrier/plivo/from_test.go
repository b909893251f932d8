package plivo

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
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
	carriertest.FromRoundRobin(t, c, cfg.From, "+14155550199", func(i int) string {
		b.fake.mu.Lock()
		defer b.fake.mu.Unlock()
		s, _ := b.fake.messages[i]["src"].(string)
		return s
	}, carriertest.PlusLess)
}
