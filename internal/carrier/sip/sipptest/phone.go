package sipptest

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/dtmf"
	"github.com/ringgate/ringgate/internal/prompts"
)

// Phone is the far end's audio in tests where sipp does the signalling: a
// UDP socket the test owns, named in sipp's SDP answer (MediaScenario).
// Like a real phone (baresip, measured) it sends RTP every 20 ms from the
// answer on (its greeting, then silence; in the codec ringgate sends), and
// it records what ringgate sends it.
type Phone struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []byte         // G.711 payloads received, in order
	alaw bool           // they are PCMA
	to   netip.AddrPort // where ringgate's packets come from
	// Out queues audio (µ-law) to send after what is queued already.
	Out chan []byte
	// Keys queues key presses to send as RFC 4733 events (payload type
	// 101: three updates, three end packets).
	Keys chan byte
	stop chan struct{}
	wg   sync.WaitGroup
}

// NewPhone starts a phone that says greeting once ringgate's audio
// arrives (its address is not known before).
func NewPhone(t testing.TB, greeting []byte) *Phone {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &Phone{conn: c, Out: make(chan []byte, 64), Keys: make(chan byte, 4), stop: make(chan struct{})}
	p.Out <- greeting
	p.wg.Add(2)
	go p.recv()
	go p.send()
	t.Cleanup(func() { close(p.stop); c.Close(); p.wg.Wait() })
	return p
}

// Port is the phone's RTP port.
func (p *Phone) Port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// Ringgate is where ringgate's RTP comes from (invalid before any).
func (p *Phone) Ringgate() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.to
}

func (p *Phone) recv() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, src, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		p.to = src
		if pkt.PayloadType == media.PTPCMU || pkt.PayloadType == media.PTPCMA {
			p.alaw = pkt.PayloadType == media.PTPCMA
			p.got = append(p.got, pkt.Payload...)
		}
		p.mu.Unlock()
	}
}

func (p *Phone) send() {
	defer p.wg.Done()
	tick := time.NewTicker(media.Ptime)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	var cur []byte
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		to := p.Ringgate()
		if !to.IsValid() {
			continue
		}
		write := func(pt uint8, stamp uint32, payload []byte) {
			seq++
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: stamp, SSRC: 42}, Payload: payload}).Marshal()
			p.conn.WriteToUDPAddrPort(b, to)
		}
		select {
		case k := <-p.Keys:
			code := map[byte]uint8{'*': 10, '#': 11}[k]
			if k >= '0' && k <= '9' {
				code = k - '0'
			}
			for i, end := range []bool{false, false, false, true, true, true} {
				write(101, ts, dtmf.Event{Code: code, End: end, Volume: 10, Duration: uint16(160 * min(i+1, 4))}.Marshal())
			}
			ts += 4 * 160
			continue
		default:
		}
		if len(cur) == 0 {
			select {
			case cur = <-p.Out:
			default:
			}
		}
		frame := bytes.Repeat([]byte{0xFF}, media.FrameBytes)
		n := copy(frame, cur)
		cur = cur[n:]
		if p.ALaw() { // answer in the codec ringgate speaks
			write(media.PTPCMA, ts, g711.Ulaw2Alaw(frame))
		} else {
			write(media.PTPCMU, ts, frame)
		}
		ts += media.FrameBytes
	}
}

// Heard recovers the digits spoken in what the phone received, the way a
// listener would: it finds each digit's recording in locale's language in
// the audio, in the order spoken. The match is exact: over PCMU ringgate
// sends a prompt's µ-law unchanged, over PCMA each sample converted by
// G.711's table (which the phone applies to the recordings too).
func (p *Phone) Heard(locale string) string {
	p.mu.Lock()
	stream := append([]byte(nil), p.got...)
	alaw := p.alaw
	p.mu.Unlock()
	type hit struct {
		at int
		d  byte
	}
	var hits []hit
	set := prompts.Default()
	for d := byte('0'); d <= '9'; d++ {
		clip := set.Clip(locale, string(d))
		if alaw {
			clip = g711.Ulaw2Alaw(clip)
		}
		for off := 0; ; {
			i := bytes.Index(stream[off:], clip)
			if i < 0 {
				break
			}
			hits = append(hits, hit{off + i, d})
			off += i + len(clip)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].at < hits[j].at })
	var b strings.Builder
	for _, h := range hits {
		b.WriteByte(h.d)
	}
	return b.String()
}

// Contains reports whether clip (µ-law) was received.
func (p *Phone) Contains(clip []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.alaw {
		clip = g711.Ulaw2Alaw(clip)
	}
	return bytes.Contains(p.got, clip)
}

// ALaw reports whether ringgate sent PCMA.
func (p *Phone) ALaw() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.alaw
}

// ShortHello is a person's greeting: one word, from the prompt set.
func ShortHello() []byte { return prompts.Default().Clip("en", "hello") }

// LongGreeting is an answering machine's: six phrases back to back.
func LongGreeting() []byte {
	s := prompts.Default()
	var b []byte
	for _, id := range []string{"hello_your", "verification_code_is", "your_code_is", "press_1_to_repeat", "hello_your", "verification_code_is"} {
		b = append(b, s.Clip("en", id)...)
		b = append(b, bytes.Repeat([]byte{0xFF}, 400)...) // 50 ms between phrases
	}
	return b
}

// MediaScenario writes uas_media.xml from dir (the sip package's
// testdata) with the phone's port, the answer's formats ("0 101"), and
// the ending after (after_ack_*.xml) with its @PAUSE@ and @RG_PORT@ (the
// port ringgate listens on, for requests sipp sends it) filled in.
func MediaScenario(t testing.TB, dir string, phonePort int, formats, after string, pause time.Duration, rgPort int) string {
	t.Helper()
	tail, err := os.ReadFile(filepath.Join(dir, after))
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "uas_media.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("@PAUSE@", strconv.Itoa(int(pause.Milliseconds())), "@RG_PORT@", strconv.Itoa(rgPort),
		"@MEDIA_PORT@", strconv.Itoa(phonePort), "@FORMATS@", formats)
	s := strings.Replace(string(body), "@AFTER_ACK@", string(tail), 1)
	out := filepath.Join(t.TempDir(), "uas_media.xml")
	if err := os.WriteFile(out, []byte(r.Replace(s)), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}
