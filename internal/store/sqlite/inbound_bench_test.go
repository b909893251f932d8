package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/sqldb"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
)

// BenchmarkInboundCall is the work behind one SIP INVITE that verifies a
// missed call, without SIP and without webhook delivery: Service.InboundCall
// on SQLite, each call matching its own pending verification (the call
// record, its event and its queued webhook delivery in one transaction).
// It runs 16 goroutines on 2 cores, as the SIP listener runs each INVITE
// on its own goroutine, and reports CPU per call, which travels better
// than wall time on a shared machine.
//
// Sub-benchmarks compare the store as it runs (group commit and a statement
// cache) with the statement cache alone and with neither, in one run.
func BenchmarkInboundCall(b *testing.B) {
	for _, c := range []struct {
		name string
		d    sqldb.Dialect
	}{
		{"plain", sqlite.Plain{Dialect: sqlite.Dialect{}}},
		{"prepared", sqlite.Prepared{Dialect: sqlite.Dialect{}}},
		{"group", sqlite.Dialect{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := sqlite.OpenDialect(b.Context(), filepath.Join(b.TempDir(), "bench.db"), c.d)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchInboundCall(b, s)
		})
	}
}

func benchInboundCall(b *testing.B, s *sqldb.Store) {
	ctx := b.Context()
	svc, caller := benchApp(b, s, nil)
	phones := make([]string, b.N)
	for i := range phones {
		phones[i] = fmt.Sprintf("+4477%08d", i)
		if _, _, err := svc.Start(ctx, caller, verify.StartRequest{Phone: phones[i], Channel: verify.ChannelMissedCall}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	commits0, txs0 := s.GroupCommitStats()
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			d, err := svc.InboundCall(ctx, carrier.InboundCall{Carrier: "bench", CallID: fmt.Sprint(i), From: phones[i], To: benchPool})
			if err != nil || d.VerificationID == "" {
				b.Errorf("call %d: %+v, %v", i, d, err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if commits, txs := s.GroupCommitStats(); commits > commits0 {
		b.ReportMetric(float64(txs-txs0)/float64(commits-commits0), "tx/commit")
	}
}

// benchPool is the dial number benchApp's app owns.
const benchPool = "+12025550100"

// benchApp is a verification service on s with the abuse policy given
// (nil: every control off) and one app, app_bench, owning benchPool; it
// returns the service and the app's caller.
func benchApp(b *testing.B, s *sqldb.Store, policy *verify.AbusePolicy) (*verify.Service, verify.Caller) {
	b.Helper()
	ctx := b.Context()
	svc, err := verify.NewService(verify.Config{Store: s, Secret: make([]byte, 32), Abuse: policy})
	if err != nil {
		b.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: s, Verify: svc})
	if err != nil {
		b.Fatal(err)
	}
	cred, err := op.CreateApp(ctx, verify.NewApp{ID: "app_bench", DefaultCallbackURL: "http://127.0.0.1:1/hook"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := op.AddNumber(ctx, "app_bench", benchPool, verify.AnyCountry); err != nil {
		b.Fatal(err)
	}
	return svc, verify.Caller{App: cred.App}
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
