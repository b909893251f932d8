package storetest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

type notices struct {
	mu sync.Mutex
	ns []verify.Notice
}

func (r *notices) Publish(n verify.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns = append(r.ns, n)
}

// TestNoticeEventIDs: every notice the service publishes names the event
// it is about, on both stores. On PostgreSQL the event is a held-back
// write (verify.Tx.Deferred) whose id is known only once it has been
// sent, after the notice was made.
func TestNoticeEventIDs(t *testing.T) {
	for _, st := range storeKinds {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			pub := &notices{}
			svc, err := verify.NewService(verify.Config{Store: s, Secret: make([]byte, 32), Publisher: pub})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			op, err := operator.New(operator.Config{Store: s, Verify: svc})
			if err != nil {
				t.Fatal(err)
			}
			cred, err := op.CreateApp(ctx, verify.NewApp{ID: "app_n", DefaultCallbackURL: "http://127.0.0.1:1/hook"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := op.AddNumber(ctx, "app_n", "+12025550100", verify.AnyCountry); err != nil {
				t.Fatal(err)
			}
			caller := verify.Caller{App: cred.App}
			const phone = "+447700000001"
			first, _, err := svc.Start(ctx, caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall})
			if err != nil {
				t.Fatal(err)
			}
			// A second start supersedes the first (canceled, with a webhook).
			v, _, err := svc.Start(ctx, caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.InboundCall(ctx, carrier.InboundCall{Carrier: "test", CallID: "c1", From: phone, To: v.DialNumber}); err != nil {
				t.Fatal(err)
			}
			events := map[int64]verify.Event{}
			for _, id := range []string{first.ID, v.ID} {
				evs, err := s.Events(ctx, id, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					events[e.ID] = e
				}
			}
			if len(pub.ns) != len(events) || len(events) < 4 { // created, canceled, created, verified
				t.Fatalf("%d notices for %d events", len(pub.ns), len(events))
			}
			for _, n := range pub.ns {
				e, ok := events[n.EventID]
				if !ok || e.Type != n.Type || e.VerificationID != n.VerificationID {
					t.Errorf("notice %+v: its event id names %+v", n, e)
				}
			}
		})
	}
}
