package storetest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/storetest"
	"github.com/ringgate/ringgate/internal/verify"
)

// BenchmarkStores runs the service's missed-call start, and start with its
// verifying call, on SQLite and on PostgreSQL (one node) in one process and
// one run, so that their ratio is a figure (issue 21, goal 3: PostgreSQL at
// least half of SQLite). No HTTP and no webhook delivery: the store path.
// 16 goroutines; the abuse controls on with their limits out of reach, so
// every start pays for its counters. ns/op is wall time per op over all
// goroutines; PostgreSQL's server CPU is another process's and not in
// cpu-µs/op.
func BenchmarkStores(b *testing.B) {
	for _, st := range storeKinds {
		s := st.open(b)
		abuse := verify.DefaultAbusePolicy()
		for i := range abuse.Limits {
			abuse.Limits[i].Max = 1 << 30
		}
		abuse.CallsPerCaller = 1 << 30
		svc, err := verify.NewService(verify.Config{Store: s, Secret: make([]byte, 32), Abuse: &abuse})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		op, err := operator.New(operator.Config{Store: s, Verify: svc})
		if err != nil {
			b.Fatal(err)
		}
		cred, err := op.CreateApp(ctx, verify.NewApp{ID: "app_bench", DefaultCallbackURL: "http://127.0.0.1:1/hook"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := op.AddNumber(ctx, "app_bench", "+12025550100", verify.AnyCountry); err != nil {
			b.Fatal(err)
		}
		caller := verify.Caller{App: cred.App}
		var next atomic.Int64
		for _, call := range []bool{false, true} {
			name := st.name + "/start"
			if call {
				name += "+call"
			}
			b.Run(name, func(b *testing.B) {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						phone := fmt.Sprintf("+4477%08d", i)
						v, _, err := svc.Start(ctx, caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall, ClientIP: storetest.EndUserIP(i)})
						if err != nil {
							b.Errorf("start %s: %v", phone, err)
							return
						}
						if call {
							d, err := svc.InboundCall(ctx, carrier.InboundCall{Carrier: "bench", CallID: fmt.Sprint(i), From: phone, To: v.DialNumber})
							if err != nil || d.VerificationID != v.ID {
								b.Errorf("call %s: %+v, %v", phone, d, err)
								return
							}
						}
					}
				})
			})
		}
	}
}
