package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/store/storetest"
	"github.com/ringgate/ringgate/internal/verify"
)

// BenchmarkStartLimits is the cost of the abuse controls on a start:
// Service.Start of a missed call on SQLite with every control off, and
// with the default limits (raised out of reach, so each start pays for its
// six counter upserts but none refuses) and the dial-number rotation
// query. CPU per start travels better than wall time on a shared machine.
func BenchmarkStartLimits(b *testing.B) {
	on := verify.DefaultAbusePolicy()
	for i := range on.Limits {
		on.Limits[i].Max = 1 << 30
	}
	for _, c := range []struct {
		name   string
		policy *verify.AbusePolicy
	}{{"off", nil}, {"default", &on}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			svc, caller := benchApp(b, s, c.policy)
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(8)
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					phone := fmt.Sprintf("+4477%08d", next.Add(1))
					if _, _, err := svc.Start(ctx, caller, verify.StartRequest{Phone: phone, Channel: verify.ChannelMissedCall, ClientIP: "203.0.113.1"}); err != nil {
						b.Errorf("start %s: %v", phone, err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkOutboxBacklog: start and start+call with 100,000 webhook
// deliveries pending retry against an empty outbox (storetest).
func BenchmarkOutboxBacklog(b *testing.B) {
	storetest.BenchOutboxBacklog(b, func(b *testing.B) storetest.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkGrowth: start and start+call with 200,000 verified
// verifications against an empty database (storetest).
func BenchmarkGrowth(b *testing.B) {
	storetest.BenchGrowth(b, func(b *testing.B) storetest.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
