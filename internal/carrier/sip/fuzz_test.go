package sip_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
)

var fuzzSeeds = []string{
	request("INVITE", "z9hG4bK-1", "c1", "", "127.0.0.1:5062"),
	request("INVITE", "z9hG4bK-2", "c2", "P-Asserted-Identity: <sip:+447700900123@x>\n", "127.0.0.1:5062"),
	request("INVITE", "z9hG4bK-3", "c3", "Proxy-Authorization: Digest username=\"u\", realm=\"ringgate\", nonce=\"1.ab\", uri=\"sip:x\", response=\"00\"\n", "127.0.0.1:5062"),
	request("OPTIONS", "z9hG4bK-4", "c4", "", "127.0.0.1:5062"),
	request("BYE", "z9hG4bK-5", "c5", "", "127.0.0.1:5062"),
	request("CANCEL", "z9hG4bK-6", "c6", "", "127.0.0.1:5062"),
	request("ACK", "z9hG4bK-7", "c7", "", "127.0.0.1:5062"),
	request("FOO", "z9hG4bK-8", "c8", "", "127.0.0.1:5062"),
	"INVITE sip:@ SIP/2.0\r\nVia: SIP/2.0/UDP x\r\nCSeq: 1 INVITE\r\n\r\n",
	"INVITE <sip:1@2> SIP/2.0\r\nFrom: <<<\r\nTo: >\r\nCall-ID:\r\nCSeq: x INVITE\r\nContent-Length: 99999999\r\n\r\n",
	"INVITE sip:1@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:1@h>;tag=1\r\nTo: <sip:2@h>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 4\r\n\r\nabcd",
	"SIP/2.0 200 OK\r\n\r\n",
	"\x00\xff\r\n\r\n",
}

// FuzzServe feeds arbitrary bytes through sipgo's parser into the
// carrier's request handling, as if they had arrived in a datagram from a
// trusted and from an untrusted source: a SIP error or silence, never a
// crash, never a 2xx to an INVITE, every response serialisable.
func FuzzServe(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")), true)
		f.Add([]byte(s), false)
	}
	rec := newRecorder()
	c, err := rgsip.New(rgsip.Config{
		Name: "fuzz", Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Username: "u", Password: "p", Inbound: rec, Logger: discard(),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte, trusted bool) {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		if trusted {
			req.SetSource("127.0.0.1:5062")
		} else {
			req.SetSource("192.0.2.1:5060")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n := 0
		c.Serve(ctx, req, func(res *sip.Response) error {
			n++
			if n > 2 {
				t.Fatalf("response %d to one request", n)
			}
			if res.StatusCode < 100 || res.StatusCode > 699 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if req.Method == sip.INVITE && res.StatusCode >= 200 && res.StatusCode < 300 {
				t.Fatalf("a %d to an INVITE", res.StatusCode)
			}
			_ = res.String()
			return nil
		})
	})
}

// TestRawDatagrams sends malformed datagrams to a live listener: it must
// answer a well-formed INVITE afterwards (nothing crashed or wedged).
func TestRawDatagrams(t *testing.T) {
	rec := newRecorder()
	c := startCarrier(t, rgsip.Config{Listen: []string{"127.0.0.1:0"}, Trusted: loopback, TrustUDP: true, Inbound: rec, Logger: discard()})
	r := dialRaw(t, c.Addrs()[0])
	for _, s := range fuzzSeeds {
		r.send(t, s)
	}
	r.send(t, strings.Repeat("A", 60000))
	r.send(t, "INVITE sip:1@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKbig\nFrom: <sip:1@h>;tag=1\nTo: <sip:2@h>\nCall-ID: big\nCSeq: 1 INVITE\nContent-Length: 50000\n\n"+strings.Repeat("v", 50000))
	r.read(300 * time.Millisecond)
	r.send(t, request("INVITE", "z9hG4bK-after", "after", "", r.conn.LocalAddr().String()))
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range r.read(300 * time.Millisecond) {
			if strings.HasPrefix(l, "SIP/2.0 603") {
				return
			}
		}
	}
	t.Fatal("no 603 for a good INVITE after malformed datagrams")
}

// FuzzReadFilter feeds arbitrary datagrams to the UDP read filter that
// answers initial INVITEs without a transaction (stateless.go), as from a
// trusted source to a live listener: it takes an initial INVITE or a
// CANCEL of one it took, passes anything else on unchanged, and never
// crashes. A datagram it takes is answered (or dropped as a retransmission)
// by the filter itself; the replies go to a local sink and are read back
// as SIP responses.
func FuzzReadFilter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")))
	}
	c := startCarrier(f, rgsip.Config{Name: "fuzz", Listen: []string{"127.0.0.1:0"}, Trusted: loopback, TrustUDP: true, Inbound: newRecorder(), Logger: discard()})
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { sink.Close() })
	local, _ := net.ResolveUDPAddr("udp", c.Addrs()[0])
	f.Fuzz(func(t *testing.T, data []byte) {
		taken := c.ReadFilter(local, sink.LocalAddr(), data)
		start, _, _ := strings.Cut(string(data), " ")
		if taken && start != "INVITE" && start != "CANCEL" {
			t.Fatalf("took a datagram that is neither INVITE nor CANCEL: %q", data)
		}
	})
}
