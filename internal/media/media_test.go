package media

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/ringgate/ringgate/internal/media/dtmf"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// peer is the far end: a UDP socket the test owns.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	seq  uint16
}

func newPeer(t *testing.T) *peer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) send(to int, pt uint8, ts uint32, payload []byte) {
	p.seq++
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: ts, SSRC: 7}, Payload: payload}).Marshal()
	if _, err := p.conn.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next n RTP packets.
func (p *peer) read(n int) []rtp.Packet {
	var out []rtp.Packet
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(out) < n {
		m, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("after %d packets: %v", len(out), err)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(append([]byte(nil), buf[:m]...)); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, pkt)
	}
	return out
}

func TestPlayAndReceive(t *testing.T) {
	t.Parallel()
	ports, err := NewPorts(loopback, 31000, 31099)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ports.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	far := newPeer(t)
	var mu sync.Mutex
	var keys []byte
	gotKey := make(chan struct{}, 8)
	stats := &Stats{}
	s.Start(Config{Answer: Answer{Remote: far.addr(), Codec: PCMU, DTMF: 101}, Stats: stats,
		OnDigit: func(k byte, _ string) { mu.Lock(); keys = append(keys, k); mu.Unlock(); gotKey <- struct{}{} }})
	audio := make([]byte, 400) // 2.5 packets
	for i := range audio {
		audio[i] = byte(i)
	}
	done := s.Play(audio)
	// silence until the play is picked up, then the audio, padded
	var stream []byte
	var last rtp.Packet
	for !bytes.Contains(stream, audio) {
		for _, p := range far.read(1) {
			if last.SSRC != 0 && (p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+FrameBytes || p.SSRC != last.SSRC) {
				t.Fatalf("discontinuity: %+v after %+v", p.Header, last.Header)
			}
			if len(p.Payload) != FrameBytes || p.PayloadType != PTPCMU {
				t.Fatalf("packet %+v", p.Header)
			}
			last = p
			stream = append(stream, p.Payload...)
		}
		if len(stream) > 50*FrameBytes {
			t.Fatal("audio never sent")
		}
	}
	<-done
	// the far end presses 4 (with the redundant end packets), sends junk
	// and a packet of a payload type nobody negotiated
	for _, e := range []dtmf.Event{{Code: 4, Duration: 160}, {Code: 4, End: true, Duration: 320}, {Code: 4, End: true, Duration: 320}} {
		far.send(s.Port(), 101, 5000, e.Marshal())
	}
	far.conn.WriteToUDP([]byte{1, 2, 3}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port()})
	far.send(s.Port(), 18, 6000, make([]byte, 20))
	far.send(s.Port(), 101, 7000, dtmf.Event{Code: 11, Duration: 160}.Marshal())
	for range 2 {
		select {
		case <-gotKey:
		case <-time.After(10 * time.Second):
			t.Fatal("key not delivered")
		}
	}
	mu.Lock()
	if string(keys) != "4#" {
		t.Fatalf("keys %q", keys)
	}
	mu.Unlock()
	waitFor(t, func() bool { return stats.Malformed.Load() == 1 && stats.Stray.Load() == 1 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not ordering events
	}
}

func TestSymmetricLatch(t *testing.T) {
	t.Parallel()
	ports, _ := NewPorts(loopback, 31100, 31199)
	s, err := ports.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nat := newPeer(t)      // where the far end's packets really come from
	sdpAddr := newPeer(t)  // what its SDP said (never sends)
	stranger := newPeer(t) // someone who found the port
	stats := &Stats{}
	keys := make(chan byte, 8)
	s.Start(Config{Answer: Answer{Remote: sdpAddr.addr(), Codec: PCMA, DTMF: 101}, Stats: stats,
		OnDigit: func(k byte, _ string) { keys <- k }})
	// two consecutive packets from behind the NAT latch the stream there
	nat.send(s.Port(), PTPCMA, 160, make([]byte, 160))
	nat.send(s.Port(), PTPCMA, 320, make([]byte, 160))
	waitFor(t, func() bool { return s.Remote() == nat.addr() })
	if p := nat.read(1)[0]; p.PayloadType != PTPCMA || Decode(p.Payload[:1], true)[0] > 16 || Decode(p.Payload[:1], true)[0] < -16 {
		t.Fatalf("want A-law silence at the latched address, got pt %d %x", p.PayloadType, p.Payload[:4])
	}
	// the stranger's key presses are stray, however well formed
	for range 3 {
		stranger.send(s.Port(), 101, 9000, dtmf.Event{Code: 9, Duration: 160}.Marshal())
	}
	nat.send(s.Port(), 101, 9999, dtmf.Event{Code: 2, Duration: 160}.Marshal())
	if k := <-keys; k != '2' {
		t.Fatalf("key %c from the stranger", k)
	}
	waitFor(t, func() bool { return stats.Stray.Load() >= 3 })
	if s.Remote() != nat.addr() {
		t.Fatal("stranger took the stream")
	}
}

func TestPortsExhaustAndRelease(t *testing.T) {
	t.Parallel()
	ports, _ := NewPorts(loopback, 31200, 31203) // two pairs
	a, err1 := ports.Open()
	b, err2 := ports.Open()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := ports.Open(); err != ErrNoPorts {
		t.Fatalf("third pair: %v", err)
	}
	a.Close()
	b.Close()
	if ports.InUse() != 0 {
		t.Fatal("ports leak")
	}
	c, err := ports.Open()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestInBand(t *testing.T) {
	t.Parallel()
	ports, _ := NewPorts(loopback, 31300, 31399)
	s, _ := ports.Open()
	defer s.Close()
	far := newPeer(t)
	keys := make(chan string, 8)
	s.Start(Config{Answer: Answer{Remote: far.addr(), Codec: PCMU, DTMF: -1}, InBand: true,
		OnDigit: func(k byte, src string) { keys <- string(k) + " " + src }})
	tone := append(dtmf.Tone('7', 960, 6000), make([]int16, 960)...)
	ts := uint32(0)
	for i := 0; i+FrameBytes <= len(tone); i += FrameBytes {
		payload := make([]byte, FrameBytes)
		for j := range payload {
			payload[j] = encodeUlaw(tone[i+j])
		}
		far.send(s.Port(), PTPCMU, ts, payload)
		ts += FrameBytes
	}
	select {
	case k := <-keys:
		if k != "7 inband" {
			t.Fatalf("%q", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no key")
	}
}

// TestRTCPSenderReport: after 5 s of packets a sender report reaches the
// far end's RTCP port (its RTP port + 1), counting what was sent.
func TestRTCPSenderReport(t *testing.T) {
	t.Parallel()
	var rtpc, rtcpc *net.UDPConn
	for port := 31600; port < 31700 && rtcpc == nil; port += 2 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		rtpc, rtcpc = a, b
	}
	if rtcpc == nil {
		t.Fatal("no port pair")
	}
	defer rtpc.Close()
	defer rtcpc.Close()
	ports, _ := NewPorts(loopback, 31500, 31599)
	s, err := ports.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stats := &Stats{}
	s.Start(Config{Answer: Answer{Remote: rtpc.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU, DTMF: 101}, Stats: stats})
	rtcpc.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 1500)
	n, src, err := rtcpc.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil || len(pkts) != 1 {
		t.Fatalf("%v %v", pkts, err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || sr.PacketCount != srEvery || sr.OctetCount != srEvery*FrameBytes || int(src.Port()) != s.Port()+1 {
		t.Fatalf("%+v from %v", pkts[0], src)
	}
	// counted once the send returns, which may be after the report arrived
	waitFor(t, func() bool { return stats.RTCPSent.Load() == 1 })
}

// TestCloseLeavesNothing: sessions opened, started or not, and closed
// leave no goroutine and no port behind.
func TestCloseLeavesNothing(t *testing.T) {
	ports, _ := NewPorts(loopback, 31700, 31799)
	before := runtime.NumGoroutine()
	far := netip.MustParseAddrPort("127.0.0.1:9")
	for i := range 20 {
		s, err := ports.Open()
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Start(Config{Answer: Answer{Remote: far, Codec: PCMU, DTMF: 101}, InBand: true})
			s.Play(make([]byte, 4000))
		}
		s.Close()
		s.Close() // twice is fine
	}
	if ports.InUse() != 0 {
		t.Fatalf("%d port pairs held", ports.InUse())
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}
