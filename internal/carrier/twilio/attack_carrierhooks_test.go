package twilio

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/testutil"
)

// A flood of badly signed webhooks (bounded: 400 requests) must not write
// a log line per request: the refusal log is sampled, while the refusal
// count stays exact and every request still gets its 403.
func TestAttackRefusedWebhookFloodLogsSampled(t *testing.T) {
	var logs testutil.SyncBuffer
	ev := newEvents()
	c, srv := carriertest.Serve(t, func(public string) (*Carrier, error) {
		return New(Config{Name: "tw", AccountSID: sid, AuthToken: token, PublicURL: public, Secret: make([]byte, 32),
			Inbound: ev, Events: ev, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	})
	const flood = 400
	p := url.Values{"CallSid": {callSid9}, "AccountSid": {sid}, "From": {"+447700900123"}, "To": {"+15005550006"}}
	for i := range flood {
		req, _ := http.NewRequest("POST", srv.URL+"/carriers/tw/voice", strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl"+strings.Repeat("A", i%7))
		res, err := carriertest.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("request %d: %d, want 403", i, res.StatusCode)
		}
	}
	if got := c.Rejected(); got != flood {
		t.Fatalf("Rejected() = %d, want exactly %d", got, flood)
	}
	lines := strings.Count(logs.String(), "carrier webhook refused")
	// logsample.Default: a burst of 5, then one every 2 s; the flood takes
	// far less than the 100 s that would allow 50 more lines.
	if lines == 0 || lines > 50 {
		t.Fatalf("%d refusals wrote %d log lines, want a sample (1..50)", flood, lines)
	}
	if len(ev.Inbound()) != 0 {
		t.Fatalf("refused webhooks reached the domain: %d", len(ev.Inbound()))
	}
}
