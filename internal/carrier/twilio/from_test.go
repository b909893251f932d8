package twilio

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
	cfg.From = []string{"+15005550006", "+15005550007"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	carriertest.FromRoundRobin(t, c, cfg.From, "+15005550099", func(i int) string { return r.fake.form("/Messages.json", i).Get("From") }, carriertest.E164)
}
