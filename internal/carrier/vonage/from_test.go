package vonage

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
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
	carriertest.FromRoundRobin(t, c, cfg.From, "+447700900099", func(i int) string { return b.fake.sms[i].Get("from") }, carriertest.PlusLess)
}
