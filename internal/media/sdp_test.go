package media

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func sdpOf(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func TestParseAnswer(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0"}
	for _, tc := range []struct {
		name string
		body []byte
		want Answer
		err  error
	}{
		{"baresip", sdpOf(append(head, "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20")...),
			Answer{Remote: netip.MustParseAddrPort("10.0.0.1:4000"), Codec: PCMU, DTMF: 101}, nil},
		{"pcma, media-level address, dtmf on 96", sdpOf(append(head, "m=audio 5000 RTP/AVP 8 96", "c=IN IP4 192.0.2.7", "a=rtpmap:96 telephone-event/8000")...),
			Answer{Remote: netip.MustParseAddrPort("192.0.2.7:5000"), Codec: PCMA, DTMF: 96}, nil},
		{"static without rtpmap", sdpOf(append(head, "m=audio 5000 RTP/AVP 8")...),
			Answer{Remote: netip.MustParseAddrPort("10.0.0.1:5000"), Codec: PCMA, DTMF: -1}, nil},
		{"no common codec", sdpOf(append(head, "m=audio 5000 RTP/AVP 9 18", "a=rtpmap:9 G722/8000", "a=rtpmap:18 G729/8000")...), Answer{}, ErrNoCommonCodec},
		{"pt 0 remapped to opus", sdpOf(append(head, "m=audio 5000 RTP/AVP 0", "a=rtpmap:0 opus/48000/2")...), Answer{}, ErrNoCommonCodec},
		{"rejected stream", sdpOf(append(head, "m=audio 0 RTP/AVP 0")...), Answer{}, ErrNoAudio},
		{"video only", sdpOf(append(head, "m=video 5000 RTP/AVP 96")...), Answer{}, ErrNoAudio},
		{"hostname", sdpOf("v=0", "o=- 1 1 IN IP4 h", "s=-", "c=IN IP4 evil.example", "t=0 0", "m=audio 5000 RTP/AVP 0"), Answer{}, ErrBadSDP},
		{"garbage", []byte("hello"), Answer{}, ErrBadSDP},
		{"empty", nil, Answer{}, ErrBadSDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnswer(tc.body)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestOfferRoundTrip(t *testing.T) {
	b, err := Offer(netip.MustParseAddr("198.51.100.4"), 40002, 99)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m=audio 40002 RTP/AVP 0 8 101", "c=IN IP4 198.51.100.4", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("offer lacks %q:\n%s", want, b)
		}
	}
	a, err := ParseAnswer(b)
	if err != nil || a.Codec != PCMU || a.DTMF != 101 || a.Remote.Port() != 40002 {
		t.Fatalf("%+v %v", a, err)
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(sdpOf("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0", "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 8\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAnswer(b)
		if err != nil {
			return
		}
		if a.Codec != PCMU && a.Codec != PCMA || !a.Remote.IsValid() || a.Remote.Port() == 0 || a.Remote.Addr().IsUnspecified() {
			t.Fatalf("accepted %+v", a)
		}
	})
}

// FuzzRTP feeds arbitrary datagrams to a live session: none may crash
// it, and none that is not RTP of a negotiated type from the latched
// source may reach the call.
func FuzzRTP(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xff, 0xff})
	f.Add([]byte{0x80, 101, 0, 2, 0, 0, 1, 0, 0, 0, 0, 7, 1, 0x80, 0, 160})
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xbe, 0xde, 0, 9})
	ports, _ := NewPorts(loopback, 31400, 31499) // never opened
	f.Fuzz(func(t *testing.T, b []byte) {
		stats := &Stats{}
		var keys int
		s := &Session{ports: ports}
		s.configure(Config{Answer: Answer{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU, DTMF: 101}, Stats: stats, InBand: true,
			OnDigit: func(byte, string) { keys++ }})
		s.handle(s.newRx(), b, netip.MustParseAddrPort("127.0.0.1:9"))
		if keys > 1 {
			t.Fatalf("%d keys from one datagram", keys)
		}
		if stats.Received.Load()+stats.Malformed.Load()+stats.Stray.Load() != 1 {
			t.Fatalf("datagram counted %d/%d/%d", stats.Received.Load(), stats.Malformed.Load(), stats.Stray.Load())
		}
	})
}
