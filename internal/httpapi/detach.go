package httpapi

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// An open SSE stream on HTTP/1.x is detached from net/http: the handler
// writes the response head itself, takes the connection over (Hijack) and
// returns, and the stream goes on in one small goroutine of ours. net/http
// would otherwise keep, per idle stream, its connection goroutine (whose
// stack grew while serving the request), a background reader goroutine
// (how it notices a client that went away) and about 10 KB of buffers
// (bufio reader, writer and the chunking buffer); detached, a stream is
// one goroutine blocked in follow's select, its conn and its timer.
//
// A client that goes away is found without a reader per stream: one
// goroutine (gone) peeks every detached connection, non-blocking, once a
// second, and ends the streams whose peer closed. Writes have a deadline,
// so a client that stops reading cannot hold a stream's goroutine.
//
// This is hand-written because net/http has no way to release a
// connection's buffers and reader goroutine while a handler streams.

const (
	goneInterval = time.Second      // how often detached conns are peeked
	writeTimeout = 10 * time.Second // per write on a detached stream
	peekLen      = 1                // bytes peeked to tell EOF from idle
)

// detachedStreams tracks the detached streams of an API.
type detachedStreams struct {
	ctx    context.Context // ends every detached stream (CloseStreams)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[*detached]struct{}
	running bool
	// closed is set by CloseStreams: no stream is detached (and added to
	// wg) after it, so wg.Add never races wg.Wait.
	closed bool
}

type detached struct {
	raw    syscall.RawConn
	conn   net.Conn
	cancel context.CancelFunc
}

func newDetachedStreams() *detachedStreams {
	ctx, cancel := context.WithCancel(context.Background())
	return &detachedStreams{ctx: ctx, cancel: cancel, conns: map[*detached]struct{}{}}
}

// hijacker finds the http.Hijacker under w's wrappers (as
// http.ResponseController does), or nil.
func hijacker(w http.ResponseWriter) http.Hijacker {
	for {
		if h, ok := w.(http.Hijacker); ok {
			return h
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// detach writes a 200 head (w's headers, the body delimited by the close
// of the connection) and the first bytes, then takes the connection over.
// It returns the conn, registered with the gone watcher under cancel and
// counted in d.wg (the stream's goroutine calls d.wg.Done), and the func to
// unregister and close it; ok is false when w cannot be detached (nothing
// written) or the API is closing (the conn is closed).
func (d *detachedStreams) detach(w http.ResponseWriter, r *http.Request, first string, cancel context.CancelFunc) (conn net.Conn, done func(), ok bool) {
	hj := hijacker(w)
	if hj == nil || r.ProtoMajor != 1 {
		return nil, nil, false
	}
	h := w.Header().Clone()
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&head)
	head.WriteString("\r\n")
	head.WriteString(first)
	c, _, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		c.Close()
		return nil, nil, false // net/http's conns are *net.TCPConn or *net.UnixConn
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, nil, false
	}
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.Write(head.Bytes()); err != nil {
		c.Close()
		return nil, nil, false
	}
	s := &detached{raw: raw, conn: c, cancel: cancel}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		c.Close()
		return nil, nil, false
	}
	d.wg.Add(1)
	d.conns[s] = struct{}{}
	if !d.running {
		d.running = true
		go d.gone()
	}
	d.mu.Unlock()
	return c, func() {
		d.mu.Lock()
		delete(d.conns, s)
		d.mu.Unlock()
		c.Close()
	}, true
}

// gone ends the detached streams whose client closed, until none is left.
func (d *detachedStreams) gone() {
	t := time.NewTicker(goneInterval)
	defer t.Stop()
	var buf [peekLen]byte
	for range t.C {
		d.mu.Lock()
		if len(d.conns) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		var ended []*detached
		for s := range d.conns {
			if peerClosed(s.raw, buf[:]) {
				ended = append(ended, s)
			}
		}
		d.mu.Unlock()
		for _, s := range ended {
			s.cancel()
		}
	}
}

// CloseStreams ends every detached stream and waits for them; the server
// calls it when it stops (http.Server.Shutdown does not see hijacked
// connections).
func (a *API) CloseStreams() {
	a.detached.cancel()
	a.detached.mu.Lock()
	a.detached.closed = true
	for s := range a.detached.conns {
		s.conn.Close() // unblocks a write in progress
	}
	a.detached.mu.Unlock()
	a.detached.wg.Wait()
}
