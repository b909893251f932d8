package sip_test

import (
	"context"
	"net"
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
