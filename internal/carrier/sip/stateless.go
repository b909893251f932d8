package sip

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// An initial INVITE over UDP is answered here, without sipgo's server
// transaction. ringgate never answers an inbound call: the INVITE gets
// one final rejection (603 when it verified, 403/407 when refused), usually
// within a few milliseconds. sipgo's INVITE transaction (its state machine
// and goroutine, its timers, the ACK matching) cost more CPU per call than
// the rest of the listener, measured with a listener that answers at once
// (BENCHMARKS.md), for reliability that a final answer sent within a few
// milliseconds gets from the caller anyway: a caller that has had no
// provisional response retransmits the INVITE until it has a final one
// (RFC 3261 17.1.1.2), and a retransmission is answered again from
// recentInvites. sipgo has no stateless mode for INVITE, so its
// transport's read filter hands these datagrams here.
//
// What the transaction gave is kept where it matters:
//   - a retransmission while the answer is being decided is dropped (one
//     handler call per INVITE), and one after it gets the same answer;
//   - an answer not ready within Timer_1xx (200 ms) to a trunk (a source
//     trusted or proven by digest) gets 100 Trying first, as RFC 3261
//     17.2.1 asks, so that an overloaded listener is not also sent every
//     INVITE again at T1; the final answer is then retransmitted (Timer G,
//     doubling to T2) until its ACK or Timer H, and a retransmitted INVITE
//     gets the 100 again. Other sources never get a 1xx or a retransmission
//     (their address may be a forged victim's), and their repeated answers
//     stay within udpLimit;
//   - a CANCEL while deciding gets 200, and the INVITE 487 (the decision
//     then goes unsent);
//   - the ACK of an answer is taken here; any other ACK goes to sipgo,
//     which drops it (routes).
//
// In-dialog requests (a To tag), TCP and TLS still go through sipgo.
//
// recentInvites holds the last maxRecentInvites initial INVITEs by Call-ID
// and Via branch; an answer older than a transaction's life (Timer B,
// 64×T1) is forgotten, and a retransmission of a forgotten INVITE is
// decided again (the handler knows a call it has seen: the verification
// engine answers it as before).
const (
	maxRecentInvites = 4096
	recentInviteLife = 32 * time.Second
)

type recentInvites struct {
	mu   sync.Mutex
	m    map[string]*recentInvite
	ring []string // keys in arrival order, for eviction
	next int
}

// recentInvite is one INVITE taken; its fields are guarded by
// recentInvites.mu.
type recentInvite struct {
	src    string
	at     time.Time
	pc     net.PacketConn
	to     net.Addr
	invite *sip.Request // while deciding: for the 100 and a 487

	trying    []byte // the 100 Trying sent, if one was
	res       []byte // the final response sent; nil while deciding
	limited   bool   // res went to an unadmitted source: resent within udpLimit
	cancelled bool
	acked     bool
	timer     *time.Timer // the 100 while deciding; then res's retransmission
}

// get returns key's INVITE from src and seen=true if it is a
// retransmission; else it records a new one. It returns nil when a live
// INVITE from another source has the same key: that one is served, but
// neither replaces nor shares the first one's answer.
func (r *recentInvites) get(key, src string, req *sip.Request, pc net.PacketConn, to net.Addr, now time.Time) (e *recentInvite, seen bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.m[key]; ok && now.Sub(e.at) < recentInviteLife {
		if e.src == src {
			return e, true
		}
		return nil, false
	}
	if r.m == nil {
		r.m = make(map[string]*recentInvite, maxRecentInvites)
		r.ring = make([]string, maxRecentInvites)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.m, old)
	}
	r.ring[r.next] = key
	r.next = (r.next + 1) % maxRecentInvites
	e = &recentInvite{src: src, at: now, pc: pc, to: to, invite: req}
	r.m[key] = e
	return e, false
}

// find returns key's live INVITE from src, or nil.
func (r *recentInvites) find(key, src string, now time.Time) *recentInvite {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.m[key]; ok && e.src == src && now.Sub(e.at) < recentInviteLife {
		return e
	}
	return nil
}

// readFilter takes initial INVITEs, and the CANCELs and ACKs of INVITEs it
// took, off sipgo's UDP read loop (returning nothing leaves sipgo nothing to
// do); everything else, and anything it cannot parse, goes on to sipgo.
func (c *Carrier) readFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	var method sip.RequestMethod
	switch {
	case bytes.HasPrefix(data, []byte("INVITE ")):
		method = sip.INVITE
	case bytes.HasPrefix(data, []byte("ACK ")):
		method = sip.ACK
	case bytes.HasPrefix(data, []byte("CANCEL ")):
		method = sip.CANCEL
	default:
		return data, nil
	}
	if !strings.EqualFold(info.Transport, "udp") {
		return data, nil
	}
	msg, err := sip.ParseMessage(bytes.Clone(data)) // the read buffer is reused
	if err != nil {
		return data, nil // sipgo's parser refuses it and counts it
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.Method != method || req.CallID() == nil || req.To() == nil || req.Via() == nil || req.CSeq() == nil {
		return data, nil // serve answers 400 through sipgo
	}
	src := info.RemoteAddr.String()
	branch, _ := req.Via().Params.Get("branch")
	key := req.CallID().Value() + "\x00" + branch
	now := c.now()
	if method == sip.ACK {
		if c.acked(key, src, now) {
			return nil, nil
		}
		return data, nil
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		return data, nil // in a dialog: a re-INVITE of one of our calls
	}
	pc := c.packetConn(info.LocalAddr)
	if pc == nil {
		return data, nil
	}
	req.SetTransport("UDP")
	req.SetSource(src)
	req.SetDestination(info.LocalAddr.String())
	if method == sip.CANCEL {
		if c.cancelStateless(req, key, pc, info.RemoteAddr, now) {
			return nil, nil
		}
		return data, nil
	}
	e, seen := c.recent.get(key, src, req, pc, info.RemoteAddr, now)
	if seen {
		c.answerAgain(e, now)
		return nil, nil
	}
	if e != nil && (c.trusted(src, true) || c.guesses.isProven(addrIPString(src), now)) {
		c.recent.mu.Lock()
		e.timer = time.AfterFunc(sip.Timer_1xx, func() { c.sendTrying(e) })
		c.recent.mu.Unlock()
	}
	go c.serve(c.ctx, req, c.sendFinal(e, pc, info.RemoteAddr, false), c.sendFinal(e, pc, info.RemoteAddr, true))
	return nil, nil
}

// answerAgain answers a retransmitted INVITE: its final answer, or the 100
// Trying while deciding if one was sent, else nothing.
func (c *Carrier) answerAgain(e *recentInvite, now time.Time) {
	c.recent.mu.Lock()
	b, limited := e.res, e.limited
	if b == nil {
		b = e.trying
	}
	c.recent.mu.Unlock()
	if b == nil || limited && !c.udpLimit.allow(addrIPString(e.src), now) {
		return
	}
	e.pc.WriteTo(b, e.to) //nolint:errcheck // as a lost datagram: the caller retransmits
}

// sendTrying sends 100 Trying for an INVITE still being decided.
func (c *Carrier) sendTrying(e *recentInvite) {
	c.recent.mu.Lock()
	if e.res != nil || e.cancelled || e.invite == nil {
		c.recent.mu.Unlock()
		return
	}
	e.trying = []byte(sip.NewResponseFromRequest(e.invite, 100, "Trying", nil).String())
	b := e.trying
	c.recent.mu.Unlock()
	e.pc.WriteTo(b, e.to) //nolint:errcheck
}

// sendFinal is serve's way to answer e's INVITE: it records the answer
// (unless a CANCEL answered first) and sends it, and retransmits it until
// its ACK if a 100 Trying went before. e may be nil (not recorded).
func (c *Carrier) sendFinal(e *recentInvite, pc net.PacketConn, to net.Addr, limited bool) func(*sip.Response) error {
	return func(res *sip.Response) error {
		b := []byte(res.String())
		if e != nil {
			c.recent.mu.Lock()
			if e.cancelled {
				c.recent.mu.Unlock()
				return nil
			}
			e.res, e.limited, e.invite = b, limited, nil
			c.retransmitLocked(e)
			c.recent.mu.Unlock()
		}
		_, err := pc.WriteTo(b, to)
		return err
	}
}

// retransmitLocked stops e's timer and, if e's INVITE had a 100 Trying,
// starts retransmitting its final answer (Timer G, doubling to T2, until
// the ACK or Timer H).
func (c *Carrier) retransmitLocked(e *recentInvite) {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	if e.trying == nil || e.limited {
		return
	}
	until := time.Now().Add(sip.Timer_H)
	var again func(time.Duration)
	again = func(d time.Duration) {
		e.timer = time.AfterFunc(d, func() {
			c.recent.mu.Lock()
			if e.acked || time.Now().After(until) {
				c.recent.mu.Unlock()
				return
			}
			b := e.res
			again(min(2*d, sip.T2))
			c.recent.mu.Unlock()
			e.pc.WriteTo(b, e.to) //nolint:errcheck
		})
	}
	again(sip.Timer_G)
}

// acked takes the ACK of an INVITE answered here: its final answer is not
// retransmitted any more. An ACK of anything else goes to sipgo.
func (c *Carrier) acked(key, src string, now time.Time) bool {
	e := c.recent.find(key, src, now)
	if e == nil {
		return false
	}
	c.recent.mu.Lock()
	defer c.recent.mu.Unlock()
	e.acked = true
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	return true
}

// cancelStateless answers a CANCEL of an INVITE readFilter took: 200, and
// 487 for the INVITE if it was still being decided. It returns false for a
// CANCEL of an INVITE it does not know, which sipgo answers (481).
func (c *Carrier) cancelStateless(req *sip.Request, key string, pc net.PacketConn, to net.Addr, now time.Time) bool {
	src := req.Source()
	e := c.recent.find(key, src, now)
	if e == nil {
		return false
	}
	if !c.trusted(src, true) && !c.udpLimit.allow(addrIPString(src), now) {
		c.dropped.Add(1)
		return true
	}
	c.recent.mu.Lock()
	var res []byte
	if e.res == nil && !e.cancelled {
		e.cancelled = true
		res = []byte(sip.NewResponseFromRequest(e.invite, 487, "Request Terminated", nil).String())
		e.res, e.invite = res, nil
		c.retransmitLocked(e)
	}
	c.recent.mu.Unlock()
	pc.WriteTo([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()), to) //nolint:errcheck // as a lost datagram
	if res != nil {
		pc.WriteTo(res, to) //nolint:errcheck
	}
	return true
}

// packetConn is the UDP listener with local address a.
func (c *Carrier) packetConn(a net.Addr) net.PacketConn {
	s := a.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pc := range c.udp {
		if pc.LocalAddr().String() == s {
			return pc
		}
	}
	return nil
}
