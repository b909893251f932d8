package sip

import (
	"strings"
	"testing"
	"time"
)

// The framer follows messages with and without bodies, keep-alives
// between them, and compact Content-Length.
func TestFramer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var f framer
	f.begin(t0)
	if _, ok := f.headerStart(); !ok {
		t.Fatal("a new connection is not timed as a header")
	}
	msg := "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 5\r\n\r\nhello"
	f.feed([]byte(msg), t0)
	if f.state != frIdle {
		t.Fatalf("after a whole message: state %d", f.state)
	}
	f.feed([]byte("\r\n\r\n"), t0) // keep-alive
	if _, ok := f.headerStart(); ok {
		t.Fatal("a keep-alive started a header")
	}
	t1 := t0.Add(time.Minute)
	f.feed([]byte("OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n"), t1)
	if start, ok := f.headerStart(); !ok || !start.Equal(t1) {
		t.Fatalf("half a header: started %v, %v", start, ok)
	}
	f.feed([]byte("\r\nab"), t1)
	if f.state != frBody || f.body != 1 {
		t.Fatalf("in the body: state %d, body %d", f.state, f.body)
	}
	f.feed([]byte("c"), t1)
	if f.state != frIdle {
		t.Fatalf("after the body: state %d", f.state)
	}
}

// FuzzFramer: any bytes, cut anywhere, leave the framer in the same state
// as fed whole, with its invariants kept.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd\r\n\r\nOPTIONS x SIP/2.0\r\nl:0\r\n\r\n"), 10)
	f.Add([]byte("\r\n\r\nX\nContent-Length:99999999999\n\n"+strings.Repeat("a", 100)), 3)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		t0 := time.Unix(1, 0)
		var whole, parts framer
		whole.begin(t0)
		parts.begin(t0)
		whole.feed(data, t0)
		if len(data) > 0 {
			cut = ((cut % len(data)) + len(data)) % len(data)
		} else {
			cut = 0
		}
		parts.feed(data[:cut], t0)
		parts.feed(data[cut:], t0)
		if whole.state != parts.state || whole.body != parts.body || whole.length != parts.length || string(whole.line) != string(parts.line) || whole.long != parts.long {
			t.Fatalf("cut at %d: %+v, whole: %+v", cut, parts, whole)
		}
		if whole.body < 0 || whole.body > maxFramerBody || len(whole.line) > maxFramerLine || whole.state < frIdle || whole.state > frBody {
			t.Fatalf("invariant broken: %+v", whole)
		}
	})
}
