package media

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStreams plays n concurrent G.711 streams (each a session
// sending a prompt's worth of audio, then silence, every 20 ms) to one
// sink for a fixed two seconds of audio per b.N, and reports how late
// packets left against their schedule (p50/p99/max, ms), the process CPU
// per stream (% of one core) and the heap per session. Run:
//
//	go test -run '^$' -bench Streams -benchtime 1x ./internal/media/
func BenchmarkStreams(b *testing.B) {
	for _, n := range []int{100, 300, 500, 800} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) { benchStreams(b, n) })
		b.Run(fmt.Sprintf("baseline-timers=%d", n), func(b *testing.B) { benchTimers(b, n) })
	}
}

// benchTimers is the baseline: n goroutines waking on the same absolute
// 20 ms schedule and doing nothing else. What it measures is the machine's
// scheduling lateness, which no pacer can beat.
func benchTimers(b *testing.B, n int) {
	const secs = 2
	all := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			t := time.NewTimer(time.Hour)
			for k := range int64(secs * 50) {
				due := start.Add(time.Duration(k) * Ptime)
				if d := time.Until(due); d > 0 {
					t.Reset(d)
					<-t.C
				}
				all[i] = append(all[i], time.Since(due))
			}
		})
	}
	wg.Wait()
	report(b, all)
}

func report(b *testing.B, all [][]time.Duration) {
	var lates []time.Duration
	for _, l := range all {
		lates = append(lates, l...)
	}
	slices.Sort(lates)
	q := func(p float64) float64 { return float64(lates[int(p*float64(len(lates)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-late-ms")
	b.ReportMetric(q(0.99), "p99-late-ms")
	b.ReportMetric(q(1), "max-late-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchStreams(b *testing.B, n int) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	sink.SetReadBuffer(8 << 20)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	ports, err := NewPorts(netip.MustParseAddr("127.0.0.1"), 40000, 40000+2*n+10)
	if err != nil {
		b.Fatal(err)
	}
	audio := make([]byte, 8000*2) // 2 s of "prompt"
	for i := range audio {
		audio[i] = byte(i)
	}
	const secs = 2
	all := make([][]time.Duration, n) // one slice per stream: no shared lock in the measurement
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		sessions := make([]*Session, n)
		for i := range sessions {
			s, err := ports.Open()
			if err != nil {
				b.Fatal(err)
			}
			sessions[i] = s
		}
		c0, t0 := cpuTime(), time.Now()
		for i, s := range sessions {
			all[i] = make([]time.Duration, 0, 50*secs*b.N+10)
			s.Start(Config{Answer: Answer{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU, DTMF: 101},
				OnSend: func(l time.Duration) { all[i] = append(all[i], l) }})
			s.Play(audio)
		}
		runtime.ReadMemStats(&m1)
		time.Sleep(secs * time.Second) // the streams run for this long
		c1, t1 := cpuTime(), time.Now()
		for _, s := range sessions {
			s.Close()
		}
		b.ReportMetric(float64(c1-c0)/float64(t1.Sub(t0))*100/float64(n), "cpu%/stream")
		// heap and goroutine stacks held by the running sessions
		b.ReportMetric(float64(m1.HeapAlloc+m1.StackInuse-m0.HeapAlloc-m0.StackInuse)/float64(n), "B/call")
	}
	b.StopTimer()
	report(b, all)
}
