package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/voice"
)

// SendSMS always fails: a SIP trunk carries calls only.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	return "", &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: errors.New("sip carries no SMS")}
}

// sdpOffer is a minimal audio offer (PCMU/PCMA). Nothing is ever sent on
// it: ringgate never plays media.
func (c *Carrier) sdpOffer() []byte {
	id := strconv.FormatInt(c.now().Unix(), 10)
	return []byte("v=0\r\n" +
		"o=ringgate " + id + " " + id + " IN IP4 " + c.sdpHost + "\r\n" +
		"s=ringgate\r\n" +
		"c=IN IP4 " + c.sdpHost + "\r\n" +
		"t=0 0\r\n" +
		"m=audio 9 RTP/AVP 0 8\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=sendrecv\r\n")
}

// PlaceCall sends an INVITE to the trunk and returns when the trunk first
// responds (or after AcceptWait). A final failure before that is returned
// as a *carrier.Error; everything later arrives as Events.
func (c *Carrier) PlaceCall(ctx context.Context, call carrier.Call) (string, error) {
	if c.trunk == nil {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: errors.New("no trunk configured for outbound calls")}
	}
	if call.OnAnswer == carrier.RunDialplan && c.cfg.Media == nil {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: errors.New("voice dialplans need media: configure rtp_ports on this sip carrier")}
	}
	if call.OnAnswer == carrier.HangUp && !call.DropOnRing && !c.cfg.TrustAnswer && c.cfg.Media == nil {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: errors.New("answer_call over SIP needs rtp_ports (machine detection on the audio) or trust_answer: a bare 200 OK may be voicemail")}
	}
	to := strings.TrimSpace(call.To)
	if to == "" || strings.ContainsAny(to, "@:;<> \t\r\n") {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseUnreachable, Err: fmt.Errorf("bad number %q", call.To)}
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: carrier.CauseFailed, Err: errors.New("carrier closed")}
	}
	if call.OnAnswer == carrier.RunDialplan && call.Dialplan != nil {
		if _, builtin := ivr.BuiltinLocale(call.Dialplan); builtin {
			// The built-in plan in another language carries that
			// language's text for TTS carriers; a trunk speaks the
			// default plan from its recordings in the call's locale.
			call.Dialplan = ivr.Default()
		}
	}
	var mc *mediaCall
	var offer []byte
	if c.usesMedia(call) {
		var err error
		if mc, offer, err = c.openMedia(call); err != nil {
			return "", err
		}
		mc.run = &voice.Call{Line: mc.sess, Prompts: c.promptSet(), Locale: call.Locale, Vars: call.Vars,
			Detect: true, AMD: c.cfg.Media.AMD, Log: c.log}
		if call.OnAnswer == carrier.RunDialplan {
			mc.run.Plan = call.Dialplan
		}
	}
	req := c.newInvite(call, to, offer)
	ring := call.RingTimeout
	if ring <= 0 {
		ring = c.cfg.RingTimeout
	}
	o := &outcall{c: c, call: call, req: req, ring: ring, media: mc, first: make(chan error, 1), returned: make(chan struct{})}
	o.ctx, o.stop = context.WithCancelCause(c.ctx)
	// Events wait until PlaceCall has returned (as the contract promises).
	defer close(o.returned)
	sess, err := c.dialog.WriteInvite(c.ctx, req)
	if err != nil {
		if mc != nil {
			mc.sess.Close()
		}
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: carrier.CauseFailed, Err: fmt.Errorf("send INVITE: %w", err)}
	}
	o.sess = sess
	ref := req.CallID().Value()
	c.track(o)
	c.wg.Go(o.run)
	t := time.NewTimer(c.cfg.AcceptWait)
	defer t.Stop()
	select {
	case err := <-o.first:
		return ref, err
	case <-t.C:
	case <-ctx.Done():
	}
	if o.state.CompareAndSwap(0, 1) {
		return ref, nil // later outcomes arrive as events
	}
	return ref, <-o.first
}

func (c *Carrier) newInvite(call carrier.Call, to string, offer []byte) *sip.Request {
	uri := *c.trunk
	uri.User = to
	uri.Headers = nil
	req := sip.NewRequest(sip.INVITE, uri)
	if call.From != "" {
		from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: call.From, Host: c.trunk.Host}}
		from.Params.Add("tag", sip.GenerateTagN(16))
		req.AppendHeader(&from)
		if c.cfg.PAI {
			req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+call.From+"@"+c.trunk.Host+">"))
		}
	}
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: c.trunk.Host}})
	if c.proxy != nil {
		r := *c.proxy
		r.UriParams = r.UriParams.Clone()
		if r.UriParams == nil {
			r.UriParams = sip.NewParams()
		}
		r.UriParams.Add("lr", "")
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	if t, ok := c.trunk.UriParams.Get("transport"); ok && t != "" {
		req.SetTransport(strings.ToUpper(t))
	}
	if offer != nil {
		// The far end sends BYE and INFO to our Contact: give it the port
		// we listen on.
		host := c.cfg.Hostname
		if host == "" {
			host = c.cfg.Media.Address.String()
		}
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "ringgate", Host: host, Port: c.listenPort()}})
	} else {
		offer = c.sdpOffer()
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req
}

// outcall follows one outbound INVITE to its end.
type outcall struct {
	c    *Carrier
	call carrier.Call
	req  *sip.Request
	sess *sipgo.DialogClientSession
	ring time.Duration
	// media is the call's audio side, nil for a call without one.
	media *mediaCall
	// state: 0 PlaceCall waiting, 1 PlaceCall returned (report events),
	// 2 the outcome went back to PlaceCall (report nothing).
	state    atomic.Int32
	first    chan error
	returned chan struct{} // closed when PlaceCall returns
	rang     bool
	dropped  bool
	// ctx is the INVITE's; stop cancels it (CANCEL while it rings).
	ctx  context.Context
	stop context.CancelCauseFunc
}

// errEnded is why an outbound call's INVITE was cancelled by EndCall.
var errEnded = errors.New("ended: its step is over")

var _ carrier.CallEnder = (*Carrier)(nil)

// track and untrack keep the live calls EndCall can reach.
func (c *Carrier) track(o *outcall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == nil {
		c.live = map[string]*outcall{}
	}
	c.live[o.call.ID] = o
}

func (c *Carrier) untrack(o *outcall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live[o.call.ID] == o {
		delete(c.live, o.call.ID)
	}
}

// EndCall ends a call whose step is over: a CANCEL while it rings, a BYE
// once a call with media is answered (the code is being spoken and has
// been typed in, say); either ends with CauseCanceled. An answered call
// without media is hung up (BYE) the moment it is answered already, so
// nothing is left to end; neither is a call this process no longer follows
// (it ended, or the process restarted, which tears its dialogs down).
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	c.mu.Lock()
	o := c.live[e.ID]
	c.mu.Unlock()
	if o == nil || (e.Ref != "" && o.req.CallID().Value() != e.Ref) {
		return nil
	}
	o.stop(errEnded)
	return nil
}

func (o *outcall) run() {
	defer o.c.untrack(o)
	if o.media != nil {
		defer o.media.sess.Close() // idempotent; frees the ports whatever happened
	}
	defer o.sess.Close()
	c := o.c
	// sipgo v1.7.2's CANCEL path dereferences a nil response when the
	// transaction is torn down under it (Close with a call ringing): end
	// the call as failed rather than the process.
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("sip: call handling panicked", slog.String("call", o.call.ID), slog.Any("panic", v))
			o.fail(carrier.CauseFailed, true, 0, fmt.Errorf("sip stack: %v", v))
		}
	}()
	// At the ring timeout the call is cancelled: with a CANCEL once the
	// trunk has sent a provisional response, else (nothing heard, and a
	// CANCEL may not be sent yet) by dropping the transaction.
	ctx, cancelCause := o.ctx, o.stop
	cancel := func() { cancelCause(context.Canceled) }
	defer cancel()
	var heard atomic.Bool
	timer := time.AfterFunc(o.ring, func() {
		if heard.Load() {
			cancelCause(context.DeadlineExceeded)
		} else {
			cancelCause(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer timer.Stop()
	err := o.sess.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: c.cfg.Username, Password: c.cfg.Password,
		OnResponse: func(res *sip.Response) error {
			if res.IsProvisional() {
				heard.Store(true)
			}
			if res.StatusCode == 401 || res.StatusCode == 407 {
				return nil // answered by WaitAnswer with our credentials
			}
			if !res.IsProvisional() && !res.IsSuccess() {
				return nil // a failure: WaitAnswer returns it
			}
			if res.StatusCode != 100 {
				o.accepted() // 100 Trying is hop-by-hop: a refusal may follow
			}
			if (res.StatusCode == 180 || res.StatusCode == 183) && !o.rang {
				o.rang = true
				o.event(carrier.Event{Kind: carrier.EventRinging, SIPStatus: res.StatusCode})
				if o.call.DropOnRing {
					o.dropped = true
					cancel() // WaitAnswer sends CANCEL
				}
			}
			return nil
		},
	})
	timer.Stop() // the ring timeout does not bound an answered call
	res := o.sess.InviteResponse
	if res != nil && res.IsSuccess() {
		if o.media != nil {
			o.answeredMedia(res)
			return
		}
		o.answered(res)
		return
	}
	var dr *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &dr):
		cause, retry := causeOf(dr.Res.StatusCode)
		o.fail(cause, retry, dr.Res.StatusCode, fmt.Errorf("%d %s", dr.Res.StatusCode, dr.Res.Reason))
	case o.dropped:
		o.end(carrier.CauseDropped, statusOf(res))
	case c.ctx.Err() == nil && context.Cause(ctx) == errEnded:
		// EndCall: WaitAnswer sent CANCEL (or, nothing heard yet, dropped
		// the transaction)
		o.end(carrier.CauseCanceled, statusOf(res))
	case c.ctx.Err() == nil && context.Cause(ctx) == context.DeadlineExceeded:
		// rang out: WaitAnswer sent CANCEL
		o.end(carrier.CauseNoAnswer, statusOf(res))
	case c.ctx.Err() == nil && context.Cause(ctx) == sipgo.WaitAnswerForceCancelErr:
		o.fail(carrier.CauseFailed, true, 0, fmt.Errorf("no response to INVITE within %v", o.ring))
	default:
		o.fail(carrier.CauseFailed, true, statusOf(res), fmt.Errorf("INVITE: %v", err))
	}
}

func statusOf(res *sip.Response) int {
	if res == nil {
		return 0
	}
	return res.StatusCode
}

// answered: ACK, report, BYE at once (flash calls should not have been
// answered; for answer_call the answer is the proof).
func (o *outcall) answered(res *sip.Response) {
	o.accepted()
	c := o.c
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	if err := o.sess.Ack(ctx); err != nil {
		c.log.Warn("sip ACK", slog.String("call", o.call.ID), slog.Any("err", err))
	}
	by := carrier.AnsweredUnknown
	if c.cfg.TrustAnswer && !o.call.DropOnRing {
		by = carrier.AnsweredHuman // the operator vouches for the trunk (trust_answer)
	}
	o.event(carrier.Event{Kind: carrier.EventAnswered, AnsweredBy: by, SIPStatus: res.StatusCode})
	if err := o.sess.Bye(ctx); err != nil {
		c.log.Warn("sip BYE", slog.String("call", o.call.ID), slog.Any("err", err))
	}
	o.end(carrier.CauseCompleted, res.StatusCode)
}

// accepted: the trunk took the call; PlaceCall may return.
func (o *outcall) accepted() {
	if o.state.CompareAndSwap(0, 1) {
		o.first <- nil
	}
}

// fail reports a failure: to PlaceCall if it is still waiting, else as
// EventEnded.
func (o *outcall) fail(cause string, retryable bool, status int, err error) {
	if o.state.CompareAndSwap(0, 2) {
		o.first <- &carrier.Error{Carrier: o.c.cfg.Name, Retryable: retryable, Code: cause, Err: err}
		return
	}
	if retryable {
		cause = carrier.CauseFailed
	}
	o.end(cause, status)
}

func (o *outcall) end(cause string, status int) {
	o.accepted()
	o.event(carrier.Event{Kind: carrier.EventEnded, Cause: cause, SIPStatus: status})
}

func (o *outcall) event(e carrier.Event) {
	c := o.c
	if c.cfg.Events == nil {
		return
	}
	select {
	case <-o.returned:
	case <-time.After(c.cfg.AcceptWait + time.Second): // PlaceCall is bounded by AcceptWait
	}
	e.ID, e.Carrier, e.At = o.call.ID, c.cfg.Name, c.now()
	e.Ref = o.req.CallID().Value() // the ref PlaceCall returned: the domain checks it
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	if err := c.cfg.Events.CarrierEvent(ctx, e); err != nil {
		c.log.Error("sip carrier event", slog.String("call", o.call.ID), slog.String("kind", string(e.Kind)), slog.Any("err", err))
	}
}

// causeOf maps a final failure status to a cause and whether another
// route may succeed.
func causeOf(code int) (cause string, retryable bool) {
	switch {
	case code == 486 || code == 600:
		return carrier.CauseBusy, false
	case code == 603:
		return carrier.CauseRejected, false
	case code == 404 || code == 484 || code == 604:
		return carrier.CauseUnreachable, false
	case code == 480:
		return carrier.CauseNoAnswer, false
	case code == 408 || code >= 500 && code < 600:
		return carrier.CauseFailed, true
	case code == 401 || code == 407 || code == 403:
		return carrier.CauseFailed, true // our credentials or this trunk: another route may work
	}
	return carrier.CauseFailed, false
}

// registerLoop keeps a registration with the trunk: REGISTER now, then
// again at half the granted expiry (retrying every 30 s on failure).
func (c *Carrier) registerLoop(ctx context.Context) {
	for ctx.Err() == nil {
		wait := 30 * time.Second
		if exp, err := c.register(ctx); err != nil {
			c.registered.Store(false)
			if ctx.Err() == nil {
				c.log.Warn("sip REGISTER", slog.Any("err", err))
			}
		} else {
			c.registered.Store(true)
			wait = max(exp/2, 10*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (c *Carrier) register(ctx context.Context) (time.Duration, error) {
	const expires = 3600
	uri := *c.trunk
	uri.User = ""
	req := sip.NewRequest(sip.REGISTER, uri)
	user := c.cfg.Username
	if user == "" {
		user = "ringgate"
	}
	aor := sip.Uri{Scheme: "sip", User: user, Host: c.trunk.Host}
	from := sip.FromHeader{Address: aor}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: c.cfg.Hostname, Port: c.listenPort()}})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	rctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	res, err := c.client.Do(rctx, req)
	if err != nil {
		return 0, err
	}
	if (res.StatusCode == 401 || res.StatusCode == 407) && c.cfg.Password != "" {
		res, err = c.client.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: c.cfg.Username, Password: c.cfg.Password})
		if err != nil {
			return 0, err
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second, nil
		}
	}
	return expires * time.Second, nil
}

// Registered reports whether the last REGISTER succeeded.
func (c *Carrier) Registered() bool { return c.registered.Load() }

func (c *Carrier) listenPort() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pc := range c.udp {
		if _, p, err := net.SplitHostPort(pc.LocalAddr().String()); err == nil {
			n, _ := strconv.Atoi(p)
			return n
		}
	}
	return 0
}
