package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/ringgate/ringgate/internal/verify"
)

// TestClusterBatchAndReceive: queued notices go out in payloads under
// PostgreSQL's NOTIFY limit, none lost; a node ignores its own messages and
// delivers another node's.
func TestClusterBatchAndReceive(t *testing.T) {
	t.Parallel()
	var got []verify.Notice
	a := newCluster(nil, slog.New(slog.DiscardHandler), func(n verify.Notice) { got = append(got, n) }, func() {})
	b := newCluster(nil, slog.New(slog.DiscardHandler), func(verify.Notice) { t.Error("own notice delivered") }, func() {})
	const n = 300
	for i := 1; i < n; i++ {
		b.Publish(verify.Notice{AppID: "app_x", VerificationID: fmt.Sprintf("vf_%064d", i), EventID: int64(i), Type: verify.EventVerified, Deliveries: i%2 == 0})
	}
	payloads := b.batch(verify.Notice{AppID: "app_x", VerificationID: "vf_first", EventID: 0})
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for %d notices of ~130 bytes, want several", len(payloads), n)
	}
	for _, p := range payloads {
		if len(p) > maxPayload {
			t.Errorf("payload of %d bytes, limit %d", len(p), maxPayload)
		}
		var m clusterMessage
		if err := json.Unmarshal([]byte(p), &m); err != nil || m.Node != b.node {
			t.Fatalf("payload %q: %v", p[:min(len(p), 80)], err)
		}
		b.receive(p) // its own: ignored
		a.receive(p)
	}
	if len(got) != n {
		t.Fatalf("delivered %d notices, want %d", len(got), n)
	}
	if got[0].VerificationID != "vf_first" || got[2].EventID != 2 || !got[2].Deliveries || got[1].Deliveries {
		t.Errorf("notices out of order or altered: %+v %+v %+v", got[0], got[1], got[2])
	}
}
