package telnyx

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
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
	carriertest.FromRoundRobin(t, c, cfg.From, "+13120009999", func(i int) string { s, _ := r.fake.req("/messages", i)["from"].(string); return s }, carriertest.E164)
}
