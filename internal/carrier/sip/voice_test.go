package sip_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringgate/ringgate/internal/carrier"
	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/dtmf"
	"github.com/ringgate/ringgate/internal/prompts"
)

// phone is the far end's audio: a UDP socket the test owns, named in
// sipp's SDP answer. Like a real phone it sends RTP every 20 ms from the
// answer (its greeting, then silence), and it records what ringgate sends.
type phone struct {
	t    *testing.T
	conn *net.UDPConn
	mu   sync.Mutex
	got  []byte         // PCMU payloads received, in order
	to   netip.AddrPort // where ringgate's packets come from
	out  chan []byte    // audio to send next (µ-law, whole packets)
	keys chan byte      // RFC 4733 key presses to send
	pt   uint8
	stop chan struct{}
	wg   sync.WaitGroup
}

func newPhone(t *testing.T, greeting []byte) *phone {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, conn: c, out: make(chan []byte, 64), keys: make(chan byte, 4), stop: make(chan struct{})}
	p.out <- greeting
	p.wg.Add(2)
	go p.recv()
	go p.send()
	t.Cleanup(func() { close(p.stop); c.Close(); p.wg.Wait() })
	return p
}

func (p *phone) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *phone) recv() {
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
		if pkt.PayloadType == media.PTPCMU {
			p.got = append(p.got, pkt.Payload...)
		}
		p.mu.Unlock()
	}
}

// send paces the phone's own packets: queued audio, else silence; key
// presses as RFC 4733 events (three updates, three end packets).
func (p *phone) send() {
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
		p.mu.Lock()
		to := p.to
		p.mu.Unlock()
		if !to.IsValid() {
			continue // ringgate has not sent yet: its address is unknown
		}
		write := func(pt uint8, stamp uint32, payload []byte) {
			seq++
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: stamp, SSRC: 42}, Payload: payload}).Marshal()
			p.conn.WriteToUDPAddrPort(b, to)
		}
		select {
		case k := <-p.keys:
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
			case cur = <-p.out:
			default:
			}
		}
		frame := bytes.Repeat([]byte{0xFF}, media.FrameBytes)
		n := copy(frame, cur)
		cur = cur[n:]
		write(media.PTPCMU, ts, frame)
		ts += media.FrameBytes
	}
}

// heard recovers the digits spoken in what the phone received, the way a
// listener would: it finds each digit's recording of the call's language
// in the audio (exact match: ringgate sends the prompt's µ-law unchanged
// over PCMU), in the order spoken.
func (p *phone) heard(locale string) string {
	p.mu.Lock()
	stream := append([]byte(nil), p.got...)
	p.mu.Unlock()
	return digitsIn(stream, locale)
}

func digitsIn(stream []byte, locale string) string {
	type hit struct {
		at int
		d  byte
	}
	var hits []hit
	set := prompts.Default()
	for d := byte('0'); d <= '9'; d++ {
		clip := set.Clip(locale, string(d))
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

func (p *phone) contains(clip []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Contains(p.got, clip)
}

// greetings are the far ends' first words, made of prompt recordings: a
// short "hello", and an answering machine's long message.
func shortHello() []byte { return prompts.Default().Clip("en", "hello") }

func longGreeting() []byte {
	s := prompts.Default()
	var b []byte
	for _, id := range []string{"hello_your", "verification_code_is", "your_code_is", "press_1_to_repeat", "hello_your", "verification_code_is"} {
		b = append(b, s.Clip("en", id)...)
		b = append(b, bytes.Repeat([]byte{0xFF}, 400)...) // 50 ms between phrases
	}
	return b
}

// voiceTrunk starts sipp answering with media and a carrier with media
// on its own port range; after is the scenario's ending (after_ack_*.xml,
// with @PAUSE@ filled in).
func voiceTrunk(t *testing.T, rec *recorder, ph *phone, formats, after string, pause time.Duration, m rgsip.Media) (*sipptest.Run, *rgsip.Carrier, *media.Ports) {
	t.Helper()
	sipptest.Require(t)
	rgPort := sipptest.FreePort(t)
	tail, err := os.ReadFile(filepath.Join("testdata", after))
	if err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("@PAUSE@", strconv.Itoa(int(pause.Milliseconds())), "@RG_PORT@", strconv.Itoa(rgPort), "@MEDIA_PORT@", strconv.Itoa(ph.port()))
	sc := scenario(t, "uas_media.xml", "@MEDIA_PORT@", strconv.Itoa(ph.port()), "@FORMATS@", formats, "@AFTER_ACK@", repl.Replace(string(tail)))
	run := sipptest.Start(t, sc, 0, 40*time.Second)
	lo := 32000 + 200*(int(portSeq.Add(1))%100)
	ports, err := media.NewPorts(netip.MustParseAddr("127.0.0.1"), lo, lo+199)
	if err != nil {
		t.Fatal(err)
	}
	m.Ports, m.Address = ports, netip.MustParseAddr("127.0.0.1")
	if m.Stats == nil {
		m.Stats = &media.Stats{}
	}
	cfg := rgsip.Config{Trunk: fmt.Sprintf("sip:127.0.0.1:%d", run.Port), Events: rec, Trusted: loopback, TrustUDP: true,
		Listen: []string{fmt.Sprintf("127.0.0.1:%d", rgPort)}, Hostname: "127.0.0.1", Media: &m}
	time.Sleep(200 * time.Millisecond) // let sipp bind; UDP retransmits cover a slow start
	return run, startCarrier(t, cfg), ports
}

var portSeq atomic.Int64

// events collects events until the call ends.
func untilEnded(t *testing.T, rec *recorder) []carrier.Event {
	t.Helper()
	var out []carrier.Event
	for {
		var e carrier.Event
		select {
		case e = <-rec.evCh:
		case <-time.After(40 * time.Second):
			t.Fatalf("the call did not end within 40 s of %s", kinds(out))
		}
		out = append(out, e)
		if e.Kind == carrier.EventEnded {
			return out
		}
	}
}

func kinds(evs []carrier.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Kind)+":"+e.AnsweredBy+e.Cause)
	}
	return strings.Join(s, ",")
}

func voiceCall(code, locale string) carrier.Call {
	return carrier.Call{ID: "call_v", From: "+442079461234", To: "+4479111234", RingTimeout: 10 * time.Second,
		OnAnswer: carrier.RunDialplan, Dialplan: ivr.Default(), Vars: map[string]string{"code": code, "app": "Acme"}, Locale: locale}
}

// TestVoiceOTPSpeaksTheCodeOverRTP: a person answers ("hello"), hears the
// code in French, presses 1 (RFC 4733) and hears it again; the call ends
// when nothing more is pressed.
func TestVoiceOTPSpeaksTheCodeOverRTP(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, shortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("4829", "fr")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, func() bool { return len(ph.heard("fr")) >= 4 })
	if got := ph.heard("fr"); got != "4829" {
		t.Fatalf("heard %q, want 4829", got)
	}
	if !ph.contains(prompts.Default().Clip("fr", "hello_your")) || ph.contains(prompts.Default().Clip("en", "hello_your")) {
		t.Fatal("the prompts are not the French ones")
	}
	ph.keys <- '1'
	evs := untilEnded(t, rec)
	if got := ph.heard("fr"); got != "48294829" {
		t.Fatalf("after pressing 1 heard %q, want the code twice", got)
	}
	if k := kinds(evs); k != "ringing:,answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	waitUntil(t, 20*time.Second, func() bool { return ports.InUse() == 0 })
}

// TestVoiceOTPMachineHearsNothing: a long greeting is a machine; the
// default dialplan hangs up on it without a word.
func TestVoiceOTPMachineHearsNothing(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, longGreeting())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("4829", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	if k := kinds(evs); k != "ringing:,answered:machine,ended:machine" {
		t.Fatalf("events %s", k)
	}
	if got := ph.heard("en"); got != "" {
		t.Fatalf("a machine heard %q", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	waitUntil(t, 20*time.Second, func() bool { return ports.InUse() == 0 })
}

// TestAnswerCallJudgedOnTheAudio: answer_call over SIP without
// trust_answer: a person is human, voicemail is machine.
func TestAnswerCallJudgedOnTheAudio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		greeting []byte
		want     string
	}{{"hello", shortHello(), "ringing:,answered:human,ended:completed"}, {"voicemail", longGreeting(), "ringing:,answered:machine,ended:machine"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			ph := newPhone(t, tc.greeting)
			run, c, _ := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
			if _, err := c.PlaceCall(context.Background(), carrier.Call{ID: "call_a", To: "+4479111234", RingTimeout: 10 * time.Second, OnAnswer: carrier.HangUp}); err != nil {
				t.Fatal(err)
			}
			if k := kinds(untilEnded(t, rec)); k != tc.want {
				t.Fatalf("events %s, want %s", k, tc.want)
			}
			if err := run.Wait(); err != nil {
				t.Fatalf("sipp: %v", err)
			}
		})
	}
}

// TestFarEndHangsUpMidPrompt: the far end's BYE ends the call at once:
// answered, then ended, ports freed, no BYE of ours.
func TestFarEndHangsUpMidPrompt(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, shortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_send_bye.xml", 2500*time.Millisecond, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1234", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	if k := kinds(evs); k != "ringing:,answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if got := ph.heard("en"); len(got) >= 4 {
		t.Fatalf("the whole code was spoken (%q): the BYE came after the prompt, not during it", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if n := hasPrefix(starts(run.Messages(), false), "BYE"); n != 0 {
		t.Fatalf("ringgate sent %d BYE after the far end's", n)
	}
	waitUntil(t, 20*time.Second, func() bool { return ports.InUse() == 0 })
}

// TestNoCommonCodec: an answer offering only G.722 ends the call (BYE
// with a Reason) and fails it with 488; nothing leaks.
func TestNoCommonCodec(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, shortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "9", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1234", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	last := evs[len(evs)-1]
	if k := kinds(evs); k != "ringing:,ended:failed" || last.SIPStatus != 488 {
		t.Fatalf("events %s (status %d)", k, last.SIPStatus)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	_, bye := firstSent(run.Messages(), false, "BYE")
	if r := bye.Header("Reason"); !strings.Contains(r, "cause=488") || !strings.Contains(r, "no common codec") {
		t.Fatalf("BYE Reason %q", r)
	}
	waitUntil(t, 20*time.Second, func() bool { return ports.InUse() == 0 })
}

// TestInfoDTMFAndReinviteRefused: a re-INVITE mid-call gets 488 and the
// media stays; a key sent by SIP INFO repeats the code.
func TestInfoDTMFAndReinviteRefused(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, shortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "0", "after_ack_info_reinvite.xml", 3000*time.Millisecond, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("2468", "de")); err != nil {
		t.Fatal(err)
	}
	untilEnded(t, rec)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.heard("de"); got != "24682468" {
		t.Fatalf("heard %q, want the code twice", got)
	}
}

// TestInBandDTMF: a trunk without telephone-event sends the key as tones
// in the audio; the Goertzel detector hears it.
func TestInBandDTMF(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := newPhone(t, shortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "0", "after_ack_wait_bye.xml", 0, rgsip.Media{InBand: true})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1357", "es")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, func() bool { return len(ph.heard("es")) >= 4 })
	ph.out <- media.Encode(dtmf.Tone('1', 1200, 6000)) // 150 ms of "1"
	untilEnded(t, rec)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.heard("es"); got != "13571357" {
		t.Fatalf("heard %q, want the code twice", got)
	}
}
