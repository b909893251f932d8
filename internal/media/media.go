// Package media is the audio side of a SIP call: an RTP session on a UDP
// port pair taken from a configured range (RTP on the even port, RTCP on
// the next), G.711 µ-law/A-law (github.com/zaf/g711), packets through
// github.com/pion/rtp, the SDP offer and answer through
// github.com/pion/sdp/v3. It plays queued audio in 20 ms packets on a
// schedule computed from the session's start (so pacing does not drift
// however late one wake-up is), sends silence between prompts, and hands
// the far end's audio and key presses (RFC 4733, or in-band tones through
// dtmf.Detector) to the call.
//
// Symmetric RTP: audio goes to the address the far end's packets come
// from, which behind NAT is not the one its SDP names. To keep a stranger
// who guesses the port from taking the stream over, the session latches
// once: on the SDP address as soon as a packet arrives from it, else on
// the first source that sends two consecutive sequence numbers of a
// negotiated payload type; from then on other sources are stray.
// Malformed packets and stray ones are dropped and counted.
package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"github.com/ringgate/ringgate/internal/media/dtmf"
)

// Ptime is the packet interval, and FrameBytes the G.711 payload of one
// packet.
const (
	Ptime      = 20 * time.Millisecond
	FrameBytes = 160
)

// Stats counts packets across sessions; the server exports them as
// metrics. The zero value is ready.
type Stats struct {
	Sent      atomic.Int64 // RTP packets sent
	Received  atomic.Int64 // RTP packets accepted
	Malformed atomic.Int64 // datagrams that are not RTP
	Stray     atomic.Int64 // RTP from a source other than the latched one, or of a payload type not negotiated
	RTCP      atomic.Int64 // RTCP datagrams received
	RTCPSent  atomic.Int64 // RTCP sender reports sent
	Digits    atomic.Int64 // key presses detected (RFC 4733 and in-band)
}

// Ports hands out RTP/RTCP port pairs from a range.
type Ports struct {
	bind   netip.Addr
	lo, hi int
	mu     sync.Mutex
	next   int
	inUse  map[int]bool
}

// NewPorts serves port pairs from lo to hi (inclusive; RTP on even ports)
// on address bind (0.0.0.0 for all).
func NewPorts(bind netip.Addr, lo, hi int) (*Ports, error) {
	if lo&1 == 1 {
		lo++
	}
	if lo < 1024 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("media: rtp_ports %d-%d: want an even start from 1024 and at least one pair below 65536", lo, hi)
	}
	return &Ports{bind: bind, lo: lo, hi: hi, next: lo, inUse: map[int]bool{}}, nil
}

// InUse is how many pairs are held.
func (p *Ports) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// ErrNoPorts is a range with no free pair.
var ErrNoPorts = errors.New("media: no free RTP port in rtp_ports")

func (p *Ports) open() (*net.UDPConn, *net.UDPConn, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pairs := (p.hi - p.lo + 1) / 2
	for range pairs {
		port := p.next
		p.next += 2
		if p.next+1 > p.hi {
			p.next = p.lo
		}
		if p.inUse[port] {
			continue
		}
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port))))
		if err != nil {
			continue // taken by someone else
		}
		b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port+1))))
		if err != nil {
			a.Close()
			continue
		}
		p.inUse[port] = true
		return a, b, port, nil
	}
	return nil, nil, 0, ErrNoPorts
}

func (p *Ports) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inUse, port)
}

// Config is what the answer settled and where the far end's input goes.
type Config struct {
	Answer Answer
	// InBand runs the Goertzel detector on the far end's audio until the
	// first RFC 4733 event arrives (a trunk that sends events is believed
	// over tones, which it may also leave in the audio).
	InBand bool
	// OnDigit receives key presses; source is "rfc4733" or "inband". Called
	// on the receive goroutine: do not block.
	OnDigit func(key byte, source string)
	// OnAudio receives the far end's audio, decoded, one packet at a time;
	// pcm is reused after the call. Called on the receive goroutine.
	OnAudio func(pcm []int16)
	// OnSend, for benchmarks, is told how late each packet left against its
	// schedule.
	OnSend func(late time.Duration)
	Stats  *Stats
}

// Session is one call's RTP session.
type Session struct {
	ports *Ports
	rtp   *net.UDPConn
	rtcp  *net.UDPConn
	port  int
	cfg   Config
	stats *Stats

	remote  atomic.Pointer[netip.AddrPort]
	latched bool           // receive goroutine only
	cand    netip.AddrPort // receive goroutine only: a source on probation
	candSeq uint16
	sawTE   atomic.Bool // an RFC 4733 event arrived

	mu      sync.Mutex
	queue   []*play
	started bool
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

type play struct {
	data []byte // µ-law
	off  int
	done chan struct{}
}

// Open takes a port pair for a call about to be offered. Close it.
func (p *Ports) Open() (*Session, error) {
	a, b, port, err := p.open()
	if err != nil {
		return nil, err
	}
	return &Session{ports: p, rtp: a, rtcp: b, port: port, done: make(chan struct{})}, nil
}

// Port is the session's RTP port (RTCP is Port+1).
func (s *Session) Port() int { return s.port }

// Start begins sending (silence until Play) and receiving, to and from
// the answer's address. Once only.
func (s *Session) Start(cfg Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.configure(cfg)
	s.wg.Add(3)
	go s.sendLoop()
	go s.recvLoop()
	go s.rtcpLoop()
}

// Remote is where audio is being sent.
func (s *Session) Remote() netip.AddrPort {
	if p := s.remote.Load(); p != nil {
		return *p
	}
	return netip.AddrPort{}
}

// Play queues µ-law audio; the channel closes once it has all been sent
// (or the session closed).
func (s *Session) Play(ulaw []byte) <-chan struct{} {
	p := &play{data: ulaw, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(p.done)
		return p.done
	}
	s.queue = append(s.queue, p)
	return p.done
}

// Close stops the session and frees its ports. Safe to call more than once.
func (s *Session) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, p := range s.queue {
			close(p.done)
		}
		s.queue = nil
		s.mu.Unlock()
		close(s.done)
		s.rtp.Close()
		s.rtcp.Close()
		s.wg.Wait()
		s.ports.release(s.port)
	})
}

// next fills frame with the next 20 ms of queued audio, or silence; it
// reports whether it is audio.
func (s *Session) next(frame []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	audio := len(s.queue) > 0
	for n < len(frame) && len(s.queue) > 0 {
		p := s.queue[0]
		c := copy(frame[n:], p.data[p.off:])
		p.off += c
		n += c
		if p.off >= len(p.data) {
			close(p.done)
			s.queue = s.queue[1:]
		}
	}
	for ; n < len(frame); n++ {
		frame[n] = 0xFF // µ-law silence
	}
	return audio
}

// sendLoop sends one packet every Ptime. Packet n is due at start+n·Ptime:
// a late wake-up delays that packet only, never the ones after it. A
// session that falls more than three packets behind (the process was
// stopped) moves its schedule rather than bursting.
func (s *Session) sendLoop() {
	defer s.wg.Done()
	ssrc := randUint32()
	seq := uint16(randUint32())
	ts := randUint32()
	frame := make([]byte, FrameBytes)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: s.cfg.Answer.Codec.PT, SSRC: ssrc, Marker: true}}
	buf := make([]byte, 12+FrameBytes)
	alaw := s.cfg.Answer.Codec.PT == PTPCMA
	var sent uint32
	start := time.Now()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(n) * Ptime)
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-s.done:
				return
			}
		} else if d < -3*Ptime {
			start = start.Add(-d)
			due = due.Add(-d)
		}
		select {
		case <-s.done:
			return
		default:
		}
		if s.cfg.OnSend != nil {
			s.cfg.OnSend(time.Since(due))
		}
		s.next(frame)
		if alaw {
			for i, b := range frame {
				frame[i] = g711.Ulaw2AlawFrame(b)
			}
		}
		pkt.SequenceNumber, pkt.Timestamp, pkt.Payload = seq, ts, frame
		m, err := pkt.MarshalTo(buf)
		if err == nil {
			dst := s.Remote()
			if _, err := s.rtp.WriteToUDPAddrPort(buf[:m], dst); err == nil {
				s.stats.Sent.Add(1)
			}
		}
		pkt.Marker = false
		seq++
		ts += FrameBytes
		sent++
		if sent%srEvery == 0 {
			s.senderReport(ssrc, ts, sent)
		}
	}
}

// srEvery is how often a sender report goes out: every 5 s of packets
// (RFC 3550's recommended minimum interval).
const srEvery = 250

// senderReport sends an RTCP SR (pion/rtcp) to the far end's RTCP port,
// the port after its RTP one.
func (s *Session) senderReport(ssrc, ts uint32, packets uint32) {
	now := time.Now()
	secs := uint64(now.Unix()) + 2208988800 // NTP epoch 1900
	frac := uint64(now.Nanosecond()) << 32 / 1e9
	b, err := (&rtcp.SenderReport{SSRC: ssrc, NTPTime: secs<<32 | frac, RTPTime: ts,
		PacketCount: packets, OctetCount: packets * FrameBytes}).Marshal()
	if err != nil {
		return
	}
	dst := s.Remote()
	if dst.Port() == 65535 {
		return
	}
	if _, err := s.rtcp.WriteToUDPAddrPort(b, netip.AddrPortFrom(dst.Addr(), dst.Port()+1)); err == nil {
		s.stats.RTCPSent.Add(1)
	}
}

// rx is the receive side's state (the receive goroutine's alone).
type rx struct {
	pcm    []int16
	te     dtmf.Receiver
	inband *dtmf.Detector
	pkt    rtp.Packet
}

func (s *Session) newRx() *rx {
	r := &rx{pcm: make([]int16, 0, 480)}
	if s.cfg.InBand {
		r.inband = &dtmf.Detector{}
	}
	return r
}

// configure sets what Start sets, without starting anything.
func (s *Session) configure(cfg Config) {
	s.cfg, s.stats = cfg, cfg.Stats
	if s.stats == nil {
		s.stats = &Stats{}
	}
	r := cfg.Answer.Remote
	s.remote.Store(&r)
}

// recvLoop reads the far end's RTP until Close.
func (s *Session) recvLoop() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	r := s.newRx()
	for {
		n, src, err := s.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.handle(r, buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
}

// handle judges one datagram: malformed, stray, or the far end's audio
// or key press.
func (s *Session) handle(r *rx, b []byte, src netip.AddrPort) {
	pkt := &r.pkt
	if err := pkt.Unmarshal(b); err != nil || pkt.Version != 2 {
		s.stats.Malformed.Add(1)
		return
	}
	pt := int(pkt.PayloadType)
	if pt != int(s.cfg.Answer.Codec.PT) && pt != s.cfg.Answer.DTMF {
		s.stats.Stray.Add(1)
		return
	}
	if !s.admit(src, pkt.SequenceNumber) {
		s.stats.Stray.Add(1)
		return
	}
	if pt == s.cfg.Answer.DTMF {
		k, ok, err := r.te.Push(pkt.Timestamp, pkt.Payload)
		if err != nil {
			s.stats.Malformed.Add(1)
			return
		}
		s.stats.Received.Add(1)
		s.sawTE.Store(true)
		if ok {
			s.digit(k, "rfc4733")
		}
		return
	}
	s.stats.Received.Add(1)
	r.pcm = decode(r.pcm[:0], pkt.Payload, pt == PTPCMA)
	if s.cfg.OnAudio != nil {
		s.cfg.OnAudio(r.pcm)
	}
	if r.inband != nil && !s.sawTE.Load() {
		for _, k := range r.inband.Push(r.pcm) {
			s.digit(k, "inband")
		}
	}
}

func (s *Session) digit(k byte, source string) {
	s.stats.Digits.Add(1)
	if s.cfg.OnDigit != nil {
		s.cfg.OnDigit(k, source)
	}
}

// admit applies the latching rule to a packet from src with sequence seq.
func (s *Session) admit(src netip.AddrPort, seq uint16) bool {
	cur := s.Remote()
	if s.latched {
		return src == cur
	}
	if src == cur {
		s.latched = true
		return true
	}
	if src == s.cand && seq == s.candSeq+1 {
		s.latched = true
		s.remote.Store(&src)
		return true
	}
	s.cand, s.candSeq = src, seq
	return false
}

// rtcpLoop drains the RTCP port: the far end's reports are counted, not
// acted on.
func (s *Session) rtcpLoop() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		_, _, err := s.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.stats.RTCP.Add(1)
	}
}

// decode appends payload's samples to pcm.
func decode(pcm []int16, payload []byte, alaw bool) []int16 {
	for _, b := range payload {
		if alaw {
			pcm = append(pcm, g711.DecodeAlawFrame(b))
		} else {
			pcm = append(pcm, g711.DecodeUlawFrame(b))
		}
	}
	return pcm
}

// Decode turns G.711 payload bytes into samples (µ-law, or A-law when
// alaw).
func Decode(payload []byte, alaw bool) []int16 { return decode(nil, payload, alaw) }

// encodeUlaw is one sample to µ-law.
func encodeUlaw(s int16) byte { return g711.EncodeUlawFrame(s) }

// Encode turns samples into G.711 µ-law.
func Encode(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	for i, s := range pcm {
		out[i] = g711.EncodeUlawFrame(s)
	}
	return out
}
