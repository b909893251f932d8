package sip_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/dtmf"
	"github.com/ringgate/ringgate/internal/prompts"
	"github.com/ringgate/ringgate/internal/testutil"
)

// voiceTrunk starts sipp answering with media and a carrier with media
// on its own port range; after is the scenario's ending (after_ack_*.xml,
// with @PAUSE@ filled in).
func voiceTrunk(t *testing.T, rec *recorder, ph *sipptest.Phone, formats, after string, pause time.Duration, m rgsip.Media) (*sipptest.Run, *rgsip.Carrier, *media.Ports) {
	t.Helper()
	sipptest.Require(t)
	rgPort := sipptest.FreePort(t)
	sc := sipptest.MediaScenario(t, "testdata", ph.Port(), formats, after, pause, rgPort)
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
		if e.Kind == carrier.EventRinging {
			continue // sipp's 180 and 200 leave together; UDP may reorder them
		}
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
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("4829", "fr")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "audio heard", func() bool { return len(ph.Heard("fr")) >= 4 })
	if got := ph.Heard("fr"); got != "4829" {
		t.Fatalf("heard %q, want 4829", got)
	}
	if !ph.Contains(prompts.Default().Clip("fr", "hello_your")) || ph.Contains(prompts.Default().Clip("en", "hello_your")) {
		t.Fatal("the prompts are not the French ones")
	}
	ph.Keys <- '1'
	evs := untilEnded(t, rec)
	if got := ph.Heard("fr"); got != "48294829" {
		t.Fatalf("after pressing 1 heard %q, want the code twice", got)
	}
	if k := kinds(evs); k != "answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	testutil.WaitFor(t, 20*time.Second, "ports released", func() bool { return ports.InUse() == 0 })
}

// TestVoiceOTPMachineHearsNothing: a long greeting is a machine; the
// default dialplan hangs up on it without a word.
func TestVoiceOTPMachineHearsNothing(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.LongGreeting())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("4829", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	if k := kinds(evs); k != "answered:machine,ended:machine" {
		t.Fatalf("events %s", k)
	}
	if got := ph.Heard("en"); got != "" {
		t.Fatalf("a machine heard %q", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	testutil.WaitFor(t, 20*time.Second, "ports released", func() bool { return ports.InUse() == 0 })
}

// TestAnswerCallJudgedOnTheAudio: answer_call over SIP without
// trust_answer: a person is human, voicemail is machine.
func TestAnswerCallJudgedOnTheAudio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		greeting []byte
		want     string
	}{{"hello", sipptest.ShortHello(), "answered:human,ended:completed"}, {"voicemail", sipptest.LongGreeting(), "answered:machine,ended:machine"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			ph := sipptest.NewPhone(t, tc.greeting)
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
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_send_bye.xml", 2500*time.Millisecond, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1234", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	if k := kinds(evs); k != "answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if got := ph.Heard("en"); len(got) >= 4 {
		t.Fatalf("the whole code was spoken (%q): the BYE came after the prompt, not during it", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if n := hasPrefix(starts(run.Messages(), false), "BYE"); n != 0 {
		t.Fatalf("ringgate sent %d BYE after the far end's", n)
	}
	testutil.WaitFor(t, 20*time.Second, "ports released", func() bool { return ports.InUse() == 0 })
}

// TestNoCommonCodec: an answer offering only G.722 ends the call (BYE
// with a Reason) and fails it with 488; nothing leaks.
func TestNoCommonCodec(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "9", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1234", "en")); err != nil {
		t.Fatal(err)
	}
	evs := untilEnded(t, rec)
	last := evs[len(evs)-1]
	if k := kinds(evs); k != "ended:no_media" || last.SIPStatus != 488 {
		t.Fatalf("events %s (status %d)", k, last.SIPStatus)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	_, bye := firstSent(run.Messages(), false, "BYE")
	if r := bye.Header("Reason"); !strings.Contains(r, "cause=488") || !strings.Contains(r, "no common codec") {
		t.Fatalf("BYE Reason %q", r)
	}
	testutil.WaitFor(t, 20*time.Second, "ports released", func() bool { return ports.InUse() == 0 })
}

// TestInfoDTMFAndReinviteRefused: a re-INVITE mid-call gets 488 and the
// media stays; a key sent by SIP INFO repeats the code.
func TestInfoDTMFAndReinviteRefused(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "0", "after_ack_info_reinvite.xml", 3000*time.Millisecond, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("2468", "de")); err != nil {
		t.Fatal(err)
	}
	untilEnded(t, rec)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.Heard("de"); got != "24682468" {
		t.Fatalf("heard %q, want the code twice", got)
	}
}

// TestInBandDTMF: a trunk without telephone-event sends the key as tones
// in the audio; the Goertzel detector hears it.
func TestInBandDTMF(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "0", "after_ack_wait_bye.xml", 0, rgsip.Media{InBand: true})
	if _, err := c.PlaceCall(context.Background(), voiceCall("1357", "es")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "audio heard", func() bool { return len(ph.Heard("es")) >= 4 })
	ph.Out <- media.Encode(dtmf.Tone('1', 1200, 6000)) // 150 ms of "1"
	untilEnded(t, rec)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.Heard("es"); got != "13571357" {
		t.Fatalf("heard %q, want the code twice", got)
	}
}

// TestVoiceOTPOverPCMA: a far end that takes only A-law gets the prompts
// converted, and hears the code.
func TestVoiceOTPOverPCMA(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "8 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	if _, err := c.PlaceCall(context.Background(), voiceCall("9087", "es")); err != nil {
		t.Fatal(err)
	}
	if k := kinds(untilEnded(t, rec)); k != "answered:human,ended:completed" { // its A-law hello was heard
		t.Fatalf("events %s", k)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if !ph.ALaw() || ph.Heard("es") != "9087" {
		t.Fatalf("A-law %v, heard %q", ph.ALaw(), ph.Heard("es"))
	}
}

// TestMaxCallDuration: an answered call is hung up (BYE) when its
// maximum duration passes, mid-prompt if need be.
func TestMaxCallDuration(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, ports := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{MaxDuration: 3 * time.Second})
	if _, err := c.PlaceCall(context.Background(), voiceCall("5555", "en")); err != nil {
		t.Fatal(err)
	}
	if k := kinds(untilEnded(t, rec)); k != "answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if err := run.Wait(); err != nil { // sipp got its BYE
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.Heard("en"); len(got) >= 4 {
		t.Fatalf("heard the whole code %q in a 3 s call", got)
	}
	testutil.WaitFor(t, 20*time.Second, "ports released", func() bool { return ports.InUse() == 0 })
}
