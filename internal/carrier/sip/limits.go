package sip

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// sipgo v1.7.2 holds an accepted TCP or TLS connection until the peer
// closes it: it has no idle timeout for server connections and no cap on
// how many it holds. The listener wrappers here add both, below sipgo.

// capListener closes connections past the total or per-source cap as they
// are accepted; a connection's slot is freed when it is closed.
type capListener struct {
	net.Listener
	maxTotal, maxPer int
	refused          *atomic.Int64

	mu    sync.Mutex
	total int
	per   map[netip.Addr]int
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(conn.RemoteAddr())
		if !l.acquire(ip) {
			l.refused.Add(1)
			conn.Close()
			continue
		}
		return &capConn{Conn: conn, release: func() { l.release(ip) }}, nil
	}
}

func (l *capListener) acquire(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal || l.per[ip] >= l.maxPer {
		return false
	}
	if l.per == nil {
		l.per = map[netip.Addr]int{}
	}
	l.total++
	l.per[ip]++
	return true
}

func (l *capListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.per[ip]--; l.per[ip] <= 0 {
		delete(l.per, ip)
	}
}

type capConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *capConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// timeoutListener gives every accepted connection a read deadline: idle
// after the last byte read, and header after the first byte of a message
// (or the connection's start) until the message's header is complete.
type timeoutListener struct {
	net.Listener
	idle, header time.Duration
}

func (l *timeoutListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &timeoutConn{Conn: conn, idle: l.idle, header: l.header}
	c.fr.begin(time.Now())
	return c, nil
}

type timeoutConn struct {
	net.Conn
	idle, header time.Duration
	mu           sync.Mutex // Read is called from one goroutine; this guards fr for safety
	fr           framer
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	now := time.Now()
	c.mu.Lock()
	d := now.Add(c.idle)
	if start, ok := c.fr.headerStart(); ok {
		if hd := start.Add(c.header); hd.Before(d) {
			d = hd
		}
	}
	c.mu.Unlock()
	if err := c.Conn.SetReadDeadline(d); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.fr.feed(b[:n], time.Now())
		c.mu.Unlock()
	}
	return n, err
}

// framer follows SIP message boundaries on a stream well enough to time
// headers: between messages (CRLF keep-alives skipped), in a header (until
// the empty line), in a body (Content-Length bytes). It never rejects
// anything; sipgo's parser does that.
type framer struct {
	state  int
	start  time.Time // when the current header began
	line   []byte    // the current header line, up to maxFramerLine bytes
	long   bool      // the current line outgrew line
	length int       // Content-Length of the current message
	body   int       // body bytes still to come
}

const (
	frIdle = iota
	frHeader
	frBody
)

// maxFramerLine is the longest header line the framer keeps: enough for any
// Content-Length line; longer lines are skipped.
const maxFramerLine = 64

// maxFramerBody bounds a Content-Length the framer believes (sipgo's own
// limit on a message is far below).
const maxFramerBody = 1 << 20

// begin starts a connection: its first header is timed from now.
func (f *framer) begin(now time.Time) {
	f.state, f.start = frHeader, now
}

// headerStart reports when the header being read began, if one is.
func (f *framer) headerStart() (time.Time, bool) {
	return f.start, f.state == frHeader
}

func (f *framer) feed(b []byte, now time.Time) {
	for len(b) > 0 {
		switch f.state {
		case frIdle:
			if b[0] != '\r' && b[0] != '\n' {
				f.state, f.start = frHeader, now
				continue
			}
			b = b[1:]
		case frBody:
			n := min(f.body, len(b))
			f.body -= n
			b = b[n:]
			if f.body == 0 {
				f.state = frIdle
			}
		case frHeader:
			c := b[0]
			b = b[1:]
			if c != '\n' {
				if len(f.line) < maxFramerLine {
					f.line = append(f.line, c)
				} else {
					f.long = true
				}
				continue
			}
			line := f.line
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			switch {
			case len(line) == 0 && !f.long: // the empty line: the header is complete
				f.body, f.length = f.length, 0
				f.state = frIdle
				if f.body > 0 {
					f.state = frBody
				}
			case !f.long:
				if n, ok := contentLength(line); ok {
					f.length = n
				}
			}
			f.line, f.long = f.line[:0], false
		}
	}
}

// contentLength parses a "Content-Length: n" (or compact "l: n") line.
func contentLength(line []byte) (int, bool) {
	name, value, ok := cutByte(line, ':')
	if !ok {
		return 0, false
	}
	name = trimSpace(name)
	if !equalFold(name, "content-length") && !equalFold(name, "l") {
		return 0, false
	}
	value = trimSpace(value)
	if len(value) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range value {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > maxFramerBody {
			return 0, false
		}
	}
	return n, true
}

func cutByte(b []byte, sep byte) (before, after []byte, ok bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func addrIP(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// maxSources bounds the per-source response limiter's table; when it is
// full of sources still within their window, new sources get no response
// (never more responses than the table can account for).
const maxSources = 65_536

// sourceLimiter is a token bucket per source address: for the responses
// sent to untrusted UDP sources, and for wrong digests (guard.go).
type sourceLimiter struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[netip.Addr]*rate.Limiter
}

func (l *sourceLimiter) allow(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.limiter(ip, now)
	return lim != nil && lim.AllowN(now, 1)
}

// has reports whether ip has a token left, without taking it.
func (l *sourceLimiter) has(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.limiter(ip, now)
	return lim != nil && lim.TokensAt(now) >= 1
}

// limiter is ip's bucket, new and full if it had none; nil when the table
// is full of sources still within their window.
func (l *sourceLimiter) limiter(ip netip.Addr, now time.Time) *rate.Limiter {
	if l.m == nil {
		l.m = map[netip.Addr]*rate.Limiter{}
	}
	lim, ok := l.m[ip]
	if !ok {
		if len(l.m) >= maxSources {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.m, k) // idle long enough to be full again: forgetting it changes nothing
				}
			}
			if len(l.m) >= maxSources {
				return nil
			}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[ip] = lim
	}
	return lim
}
