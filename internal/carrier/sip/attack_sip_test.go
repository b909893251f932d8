package sip_test

// Attacks on the SIP listener itself (issue 14): reflection over UDP, log
// flooding, and connections that hold TCP resources. Each plays the
// attacker with raw sockets on loopback against a real listener.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/testutil"
)

// Sources in this network are trusted; the attacker on loopback is not.
var elsewhere = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}

// A refusal to an untrusted UDP source is one datagram per request: no
// retransmission of the 403 over the INVITE transaction's timers (the
// source address may be the victim's, forged by the attacker).
func TestAttackUDPReflectionRetransmits403(t *testing.T) {
	// Short transaction timers so that the whole retransmission window
	// (Timer H = 64*T1) passes in about a second.
	sip.SetTimers(20*time.Millisecond, 160*time.Millisecond, 200*time.Millisecond)
	t.Cleanup(func() { sip.SetTimers(500*time.Millisecond, 4*time.Second, 5*time.Second) })
	c := startCarrier(t, rgsip.Config{Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Inbound: newRecorder()})
	r := dialRaw(t, c.Addrs()[0])
	r.send(t, request("INVITE", "z9hG4bK-refl", "call-refl", "", r.conn.LocalAddr().String()))
	// read returns once nothing arrived for 400 ms; Timer H is 1.28 s.
	deadline := time.Now().Add(64*20*time.Millisecond + 500*time.Millisecond)
	var got []string
	for time.Now().Before(deadline) {
		got = append(got, r.read(400*time.Millisecond)...)
	}
	t.Logf("one untrusted INVITE, Timer H window: %d response datagrams", len(got))
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 403") {
		t.Fatalf("one INVITE from an untrusted source got %d datagrams %q, want one 403", len(got), got)
	}
}

// A flood from one untrusted UDP source gets at most the per-source rate of
// responses; the rest is dropped, and every request is still counted.
func TestAttackUDPFloodGetsRateLimitedResponses(t *testing.T) {
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Inbound: newRecorder(),
		UDPResponseRate: 2, UDPResponseBurst: 5,
	})
	r := dialRaw(t, c.Addrs()[0])
	const n = 200
	replies, done := countReplies(r)
	start := time.Now()
	local := r.conn.LocalAddr().String()
	for i := range n {
		r.send(t, request("INVITE", fmt.Sprintf("z9hG4bK-fl%d", i), fmt.Sprintf("call-fl%d", i), "", local))
		if i%20 == 19 { // let the listener keep up: wait until it counted this batch
			testutil.WaitFor(t, 5*time.Second, "the rejection to be counted", func() bool { return c.Rejected() >= int64(i+1) })
		}
	}
	elapsed := time.Since(start)
	<-done // a second without a reply
	allowed := int64(5 + 2*elapsed.Seconds() + 1)
	t.Logf("%d INVITEs in %v from one source: %d responses, %d dropped, Rejected = %d", n, elapsed.Round(time.Millisecond), replies.Load(), c.Dropped(), c.Rejected())
	if got := replies.Load(); got > allowed {
		t.Fatalf("%d INVITEs in %v from one source got %d responses, want at most %d (burst 5, 2/s)", n, elapsed, got, allowed)
	}
	if got := c.Rejected(); got != n {
		t.Errorf("Rejected = %d, want %d (every refused request counted)", got, n)
	}
}

// countReplies counts the datagrams r receives until a second passes
// without one; done is closed then.
func countReplies(r *rawUDP) (*atomic.Int64, <-chan struct{}) {
	var replies atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			r.conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := r.conn.Read(buf); err != nil {
				return
			}
			replies.Add(1)
		}
	}()
	return &replies, done
}

// A flood of 20,000 INVITEs from an untrusted source writes a bounded
// number of log lines, while the refusal counter stays exact. TCP, so that
// every request arrives and the count can be exact.
func TestAttackRefusalLogFlood(t *testing.T) {
	var buf testutil.SyncBuffer
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Inbound: newRecorder(),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	conn, err := net.Dial("tcp", c.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go io.Copy(io.Discard, conn) // the 403s
	const n = 20_000
	local := conn.LocalAddr().String()
	start := time.Now()
	w := bufio.NewWriter(conn)
	for i := range n {
		msg := strings.Replace(request("INVITE", fmt.Sprintf("z9hG4bK-lf%d", i), fmt.Sprintf("call-lf%d", i), "", local), "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
		if _, err := w.WriteString(strings.ReplaceAll(msg, "\n", "\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 90*time.Second, "every rejection to be counted", func() bool { return c.Rejected() >= n })
	elapsed := time.Since(start)
	lines := strings.Count(buf.String(), "sip request refused")
	t.Logf("%d INVITEs in %v: %d refusal log lines, Rejected = %d", n, elapsed.Round(time.Millisecond), lines, c.Rejected())
	if got := c.Rejected(); got != n {
		t.Errorf("Rejected = %d, want exactly %d", got, n)
	}
	if bound := 5 + int(elapsed.Seconds()/2) + 1; lines > bound {
		t.Fatalf("%d INVITEs wrote %d refusal log lines, want at most %d", n, lines, bound)
	}
}

// Silent TCP connections are closed after the idle timeout; none is held.
func TestAttackTCPSilentConnectionsHeld(t *testing.T) {
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: loopback, Inbound: newRecorder(),
		TCPIdleTimeout: 300 * time.Millisecond, TCPHeaderTimeout: 300 * time.Millisecond,
	})
	const n = 10
	conns := make([]net.Conn, n)
	for i := range conns {
		conn, err := net.Dial("tcp", c.Addrs()[0])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	held := 0
	for _, conn := range conns {
		if !closedWithin(conn, 3*time.Second) {
			held++
		}
	}
	if held != 0 {
		t.Fatalf("%d of %d silent connections still open 3 s after a 300 ms idle timeout", held, n)
	}
}

// A connection that trickles a header, one byte at a time faster than the
// idle timeout, is closed by the header timeout.
func TestAttackTCPSlowHeaderHeld(t *testing.T) {
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: loopback, Inbound: newRecorder(),
		TCPIdleTimeout: 400 * time.Millisecond, TCPHeaderTimeout: 500 * time.Millisecond,
	})
	conn, err := net.Dial("tcp", c.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := request("OPTIONS", "z9hG4bK-slow", "call-slow", "", conn.LocalAddr().String())
	start := time.Now()
	for i := 0; i < len(msg) && time.Since(start) < 5*time.Second; i++ {
		if _, err := conn.Write([]byte{msg[i]}); err != nil {
			break // closed: what we want
		}
		if closedWithin(conn, 100*time.Millisecond) {
			break
		}
	}
	if took := time.Since(start); !closedWithin(conn, 100*time.Millisecond) || took > 2*time.Second {
		t.Fatalf("a header trickled over %v was not cut off by a 500 ms header timeout", took.Round(time.Millisecond))
	}
}

// One source may hold at most TCPMaxConnsPerSource connections, and the
// listener at most TCPMaxConns: the next one is closed as it is accepted.
func TestAttackTCPConnectionCaps(t *testing.T) {
	for _, tc := range []struct {
		name           string
		total, perHost int
	}{{"per-source", 100, 4}, {"total", 4, 100}} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCarrier(t, rgsip.Config{
				Listen: []string{"127.0.0.1:0"}, Trusted: loopback, Inbound: newRecorder(),
				TCPMaxConns: tc.total, TCPMaxConnsPerSource: tc.perHost,
			})
			var conns []net.Conn
			for range 4 {
				conn, err := net.Dial("tcp", c.Addrs()[0])
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conns = append(conns, conn)
			}
			// The four answer (OPTIONS, 200), so they are served, not queued.
			for i, conn := range conns {
				if got := optionsOverTCP(t, conn, i); !strings.HasPrefix(got, "SIP/2.0 200") {
					t.Fatalf("connection %d: OPTIONS got %q", i, got)
				}
			}
			extra, err := net.Dial("tcp", c.Addrs()[0])
			if err != nil {
				return // refused at connect: also fine
			}
			defer extra.Close()
			if !closedWithin(extra, 3*time.Second) {
				t.Fatalf("a 5th connection stayed open past the cap of 4")
			}
			// The others still work.
			if got := optionsOverTCP(t, conns[0], 9); !strings.HasPrefix(got, "SIP/2.0 200") {
				t.Fatalf("after the cap: OPTIONS on a held connection got %q", got)
			}
		})
	}
}

func optionsOverTCP(t *testing.T, conn net.Conn, i int) string {
	t.Helper()
	msg := strings.Replace(request("OPTIONS", fmt.Sprintf("z9hG4bK-o%d", i), fmt.Sprintf("call-o%d-%s", i, conn.LocalAddr()), "", conn.LocalAddr().String()), "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
	if _, err := conn.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return "write: " + err.Error()
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "read: " + err.Error()
	}
	// Drain the rest of the response so the next read starts clean.
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	io.Copy(io.Discard, conn)
	return strings.TrimSpace(line)
}

// closedWithin reports whether the peer closed conn within d (a read gets
// EOF or a reset; data is skipped).
func closedWithin(conn net.Conn, d time.Duration) bool {
	deadline := time.Now().Add(d)
	buf := make([]byte, 4096)
	for {
		conn.SetReadDeadline(deadline)
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		return true
	}
}

// trust_udp on a network outside loopback is announced at start; on
// loopback (unforgeable from off the host) it is not.
func TestTrustUDPWarnsAtStart(t *testing.T) {
	for _, tc := range []struct {
		trusted []netip.Prefix
		warn    bool
	}{{elsewhere, true}, {loopback, false}} {
		var buf testutil.SyncBuffer
		startCarrier(t, rgsip.Config{
			Listen: []string{"127.0.0.1:0"}, Trusted: tc.trusted, TrustUDP: true, Inbound: newRecorder(),
			Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})),
		})
		if got := strings.Contains(buf.String(), "level=WARN msg=\"sip: trust_udp is on"); got != tc.warn {
			t.Errorf("trusted %v: warning %v, want %v:\n%s", tc.trusted, got, tc.warn, buf.String())
		}
	}
}

// An INVITE answered without a transaction (stateless.go) is answered again
// when retransmitted. From an untrusted source (whose address may be a
// forged victim's) those answers stay within the per-source rate: one
// INVITE sent 200 times gets at most the burst and rate of 407s.
func TestAttackUDPRetransmittedInviteGetsRateLimitedResponses(t *testing.T) {
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Inbound: newRecorder(),
		Username: "trunk", Password: "kq3VZ9m2xP7wLr4T",
		UDPResponseRate: 2, UDPResponseBurst: 5,
	})
	r := dialRaw(t, c.Addrs()[0])
	inv := request("INVITE", "z9hG4bK-rt", "call-rt", "", r.conn.LocalAddr().String())
	r.send(t, inv)
	if got := r.read(300 * time.Millisecond); len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 407") {
		t.Fatalf("the INVITE: %q, want one 407", got)
	}
	replies, done := countReplies(r)
	start := time.Now()
	for range 200 {
		r.send(t, inv)
	}
	elapsed := time.Since(start)
	<-done
	allowed := int64(5 + 2*elapsed.Seconds() + 1)
	t.Logf("one INVITE retransmitted 200 times in %v: %d responses", elapsed.Round(time.Millisecond), replies.Load())
	if got := replies.Load(); got > allowed {
		t.Fatalf("one INVITE retransmitted 200 times in %v got %d responses, want at most %d (burst 5, 2/s)", elapsed, got, allowed)
	}
}

// A CANCEL of an INVITE answered without a transaction is answered by
// stateless.go too; from an untrusted source those answers stay within
// the per-source rate like any other: 200 CANCELs get at most the burst
// and rate of 200s.
func TestAttackUDPCancelFloodGetsRateLimitedResponses(t *testing.T) {
	c := startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Inbound: newRecorder(),
		UDPResponseRate: 2, UDPResponseBurst: 5,
	})
	r := dialRaw(t, c.Addrs()[0])
	local := r.conn.LocalAddr().String()
	r.send(t, request("INVITE", "z9hG4bK-cf", "call-cf", "", local))
	if got := r.read(300 * time.Millisecond); len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 403") {
		t.Fatalf("the INVITE: %q, want one 403", got)
	}
	replies, done := countReplies(r)
	start := time.Now()
	for range 200 {
		r.send(t, request("CANCEL", "z9hG4bK-cf", "call-cf", "", local))
	}
	elapsed := time.Since(start)
	<-done
	allowed := int64(5 + 2*elapsed.Seconds() + 1)
	t.Logf("200 CANCELs in %v: %d responses", elapsed.Round(time.Millisecond), replies.Load())
	if got := replies.Load(); got > allowed {
		t.Fatalf("200 CANCELs in %v got %d responses, want at most %d (burst 5, 2/s)", elapsed, got, allowed)
	}
}
