package sip_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/dtmf"
	"github.com/ringgate/ringgate/internal/testutil"
)

// TestAttackStrayRTPCannotInjectKeys: someone who finds a call's RTP port
// (the range is small and scannable) sends well-formed RFC 4733 "1"
// presses to it from their own address while the code is being spoken.
// The session latched on the far end's address when its first packet
// arrived, so the stranger's packets are stray: counted, and the code is
// not repeated for them.
func TestAttackStrayRTPCannotInjectKeys(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	stats := &media.Stats{}
	run, c, _ := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{Stats: stats})
	if _, err := c.PlaceCall(context.Background(), voiceCall("7531", "en")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "audio heard", func() bool { return len(ph.Heard("en")) >= 1 })
	target := ph.Ringgate() // ringgate's RTP port, as the stranger found it
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	for i := range 6 {
		ev := dtmf.Event{Code: 1, End: i >= 3, Duration: 160 * uint16(i+1)}
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(100 + i), Timestamp: 9000, SSRC: 666}, Payload: ev.Marshal()}).Marshal()
		stranger.WriteToUDPAddrPort(b, target)
	}
	untilEnded(t, rec)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if got := ph.Heard("en"); got != "7531" {
		t.Fatalf("heard %q: the stranger's key press was obeyed", got)
	}
	if n := stats.Stray.Load(); n < 6 {
		t.Fatalf("stray packets counted: %d, want ≥ 6", n)
	}
}

// TestAttackForgedInDialogRequests: someone who learns a voice call's
// Call-ID (it travels in the clear over UDP) but not its tags sends an
// INFO "1" and a BYE into it. Requests inside a call are matched by
// Call-ID and both tags, so neither is taken for the far end's: the INFO
// gets 405 and the BYE 481, the code is spoken once, and the call runs to
// its own end (ringgate's BYE reaches the real far end).
func TestAttackForgedInDialogRequests(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	run, c, _ := voiceTrunk(t, rec, ph, "0 101", "after_ack_wait_bye.xml", 0, rgsip.Media{})
	callID, err := c.PlaceCall(context.Background(), voiceCall("8642", "en"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "the first digit", func() bool { return len(ph.Heard("en")) >= 1 })
	att, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	to, _ := net.ResolveUDPAddr("udp", c.Addrs()[0])
	send := func(method, body, ct string, cseq int) string {
		msg := fmt.Sprintf("%s sip:ringgate@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-att-%s\r\nFrom: <sip:callee@127.0.0.1>;tag=guessed1\r\n"+
			"To: <sip:ringgate@127.0.0.1>;tag=guessed2\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n",
			method, c.Addrs()[0], att.LocalAddr(), method, callID, cseq, method)
		if ct != "" {
			msg += "Content-Type: " + ct + "\r\n"
		}
		msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
		att.WriteToUDP([]byte(msg), to)
		att.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, _, err := att.ReadFromUDP(buf)
		if err != nil {
			return "no answer"
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		return line
	}
	if got := send("INFO", "Signal=1\r\nDuration=160\r\n", "application/dtmf-relay", 7); strings.Contains(got, " 200 ") {
		t.Fatalf("forged INFO answered %q", got)
	}
	if got := send("BYE", "", "", 8); strings.Contains(got, " 200 ") {
		t.Fatalf("forged BYE answered %q", got)
	}
	if k := kinds(untilEnded(t, rec)); k != "answered:human,ended:completed" {
		t.Fatalf("events %s", k)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp (the real far end got no BYE from ringgate?): %v", err)
	}
	if got := ph.Heard("en"); got != "8642" {
		t.Fatalf("heard %q: the forged INFO was obeyed", got)
	}
}
