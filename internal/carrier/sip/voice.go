package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/media/amd"
	"github.com/ringgate/ringgate/internal/prompts"
	"github.com/ringgate/ringgate/internal/voice"
)

// Media lets a trunk carry calls with audio: voice_otp (the dialplan
// spoken over RTP) and answer_call judged by answering-machine detection.
// Without it the trunk places flash calls, and answer_call only with
// TrustAnswer.
type Media struct {
	// Ports hands out the RTP/RTCP port pairs (rtp_ports).
	Ports *media.Ports
	// Address is the media address written in the SDP offer (the public
	// one behind NAT); symmetric RTP copes with the far end's NAT.
	Address netip.Addr
	// Prompts speak the dialplan; nil: the built-in set.
	Prompts *prompts.Set
	// AMD thresholds; zero values take amd's defaults.
	AMD amd.Config
	// InBand also listens for DTMF tones in the audio (trunks that send
	// no RFC 4733 events).
	InBand bool
	// MaxDuration ends an answered call (BYE) after this long; 2 minutes
	// by default.
	MaxDuration time.Duration
	// Stats counts packets (metrics); nil: not counted.
	Stats *media.Stats
}

// DefaultMaxDuration bounds an answered call with media.
const DefaultMaxDuration = 2 * time.Minute

// Why a call with media ended early.
var (
	errFarEndBye   = errors.New("the far end hung up")
	errMaxDuration = errors.New("maximum call duration")
)

// mediaCall is the audio side of an outcall: its RTP session, the voice
// runner, and the far end's hang-up.
type mediaCall struct {
	sess *media.Session
	run  *voice.Call
	// hung is closed when the far end's BYE has been answered; byeOnce
	// guards it (BYE retransmissions).
	hung    chan struct{}
	byeOnce sync.Once
}

// MediaConfig is the trunk's media side, nil without one.
func (c *Carrier) MediaConfig() *Media { return c.cfg.Media }

// CheckDialplan reports a dialplan this trunk could not speak: text no
// recording says, with no tts_command. A trunk without media checks
// nothing (it refuses voice calls whatever their plan).
func (c *Carrier) CheckDialplan(d *ivr.Dialplan) error {
	if c.cfg.Media == nil {
		return nil
	}
	if err := c.promptSet().Check(d); err != nil {
		return fmt.Errorf("sip carrier %s cannot speak it: %w", c.cfg.Name, err)
	}
	return nil
}

// usesMedia reports whether call needs audio on this trunk.
func (c *Carrier) usesMedia(call carrier.Call) bool {
	if c.cfg.Media == nil || call.DropOnRing {
		return false
	}
	return call.OnAnswer == carrier.RunDialplan || call.OnAnswer == carrier.HangUp
}

// prompts is the trunk's prompt set.
func (c *Carrier) promptSet() *prompts.Set {
	if c.cfg.Media != nil && c.cfg.Media.Prompts != nil {
		return c.cfg.Media.Prompts
	}
	return prompts.Default()
}

// openMedia takes a port pair and builds the SDP offer for call.
func (c *Carrier) openMedia(call carrier.Call) (*mediaCall, []byte, error) {
	m := c.cfg.Media
	if call.OnAnswer == carrier.RunDialplan {
		if call.Dialplan == nil {
			return nil, nil, &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseFailed, Err: errors.New("voice call without a dialplan")}
		}
		if err := c.promptSet().Check(call.Dialplan); err != nil {
			return nil, nil, &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: err}
		}
	}
	sess, err := m.Ports.Open()
	if err != nil {
		// this node's range is full: another route (or node) may have room
		return nil, nil, &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: carrier.CauseFailed, Err: err}
	}
	offer, err := media.Offer(m.Address, sess.Port(), uint64(c.now().Unix()))
	if err != nil {
		sess.Close()
		return nil, nil, &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseFailed, Err: err}
	}
	return &mediaCall{sess: sess, hung: make(chan struct{})}, offer, nil
}

// answeredMedia runs an answered call with audio: ACK, the SDP answer,
// machine detection, the dialplan, then BYE (unless the far end hung up
// first). It reports the answer with its verdict and the end.
func (o *outcall) answeredMedia(res *sip.Response) {
	o.accepted()
	c, m := o.c, o.media
	defer m.sess.Close()
	bg := context.WithoutCancel(c.ctx)
	actx, cancel := context.WithTimeout(bg, 5*time.Second)
	if err := o.sess.Ack(actx); err != nil {
		c.log.Warn("sip ACK", slog.String("call", o.call.ID), slog.Any("err", err))
	}
	cancel()
	ans, err := media.ParseAnswer(res.Body())
	if err != nil {
		// The far end answered with nothing ringgate can play: end the
		// call and fail the step, saying why on the wire and in the log.
		c.log.Warn("sip: answer has no usable media; hanging up", slog.String("call", o.call.ID), slog.Any("err", err))
		o.bye(488, err.Error())
		o.event(carrier.Event{Kind: carrier.EventEnded, Cause: carrier.CauseNoMedia, SIPStatus: 488})
		return
	}
	maxDur := c.cfg.Media.MaxDuration
	if maxDur <= 0 {
		maxDur = DefaultMaxDuration
	}
	// o.ctx ends with EndCall (the step is over) and with Close.
	ctx, hangup := context.WithCancelCause(o.ctx)
	defer hangup(nil)
	ctx, stop := context.WithTimeoutCause(ctx, maxDur, errMaxDuration)
	defer stop()
	go func() { // a BYE may have come in already, before this call was set up
		select {
		case <-m.hung:
			hangup(errFarEndBye)
		case <-ctx.Done():
		}
	}()
	run := m.run
	by := ""
	run.OnAnswered = func(v string) {
		by = v
		o.event(carrier.Event{Kind: carrier.EventAnswered, AnsweredBy: v, SIPStatus: res.StatusCode})
	}
	m.sess.Start(media.Config{
		Answer:  ans,
		InBand:  c.cfg.Media.InBand,
		OnDigit: func(k byte, _ string) { run.Key(k) },
		OnAudio: run.Audio,
		Stats:   c.cfg.Media.Stats,
	})
	out, err := run.Run(ctx)
	cause := carrier.CauseCompleted
	if out.AnsweredBy == amd.Machine && out.Spoken == 0 {
		cause = carrier.CauseMachine // detected, and hung up on without a word
	}
	switch {
	case err == nil:
		o.bye(0, "")
	case context.Cause(ctx) == errFarEndBye:
		// answered already by ReadBye
	case context.Cause(ctx) == errEnded:
		cause = carrier.CauseCanceled
		o.bye(0, "")
	default: // maximum duration, or the carrier closing
		o.bye(0, "")
	}
	if by == "" { // ended before a verdict
		o.event(carrier.Event{Kind: carrier.EventAnswered, AnsweredBy: carrier.AnsweredUnknown, SIPStatus: res.StatusCode})
	}
	o.end(cause, res.StatusCode)
}

// bye hangs up; a status gives the BYE a Reason header (RFC 3326) saying
// why the call is ended.
func (o *outcall) bye(status int, text string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(o.c.ctx), 5*time.Second)
	defer cancel()
	var err error
	if status == 0 {
		err = o.sess.Bye(ctx)
	} else {
		bye := newBye(o.sess.InviteRequest, o.sess.InviteResponse)
		bye.AppendHeader(sip.NewHeader("Reason", fmt.Sprintf("SIP;cause=%d;text=%q", status, strings.ReplaceAll(text, `"`, "'"))))
		err = o.sess.WriteBye(ctx, bye)
	}
	if err != nil {
		o.c.log.Warn("sip BYE", slog.String("call", o.call.ID), slog.Any("err", err))
	}
}

// inDialog handles a request inside one of our answered calls with media:
// the far end's BYE, DTMF by SIP INFO, a re-INVITE (refused: the media
// stays as negotiated). It reports whether req belonged to such a call.
// A dialog is named by its Call-ID and both tags, which only the two ends
// know.
func (c *Carrier) inDialog(req *sip.Request, tx sip.ServerTransaction) bool {
	to, from, cid := req.To(), req.From(), req.CallID()
	if to == nil || from == nil || cid == nil {
		return false
	}
	toTag, _ := to.Params.Get("tag")
	fromTag, _ := from.Params.Get("tag")
	if toTag == "" || fromTag == "" {
		return false
	}
	c.mu.Lock()
	var o *outcall
	for _, x := range c.live {
		if x.media != nil && x.req.CallID().Value() == cid.Value() {
			o = x
			break
		}
	}
	c.mu.Unlock()
	if o == nil || o.sess.InviteResponse == nil {
		return false
	}
	ourTag, _ := o.req.From().Params.Get("tag")
	theirTag, _ := o.sess.InviteResponse.To().Params.Get("tag")
	if toTag != ourTag || fromTag != theirTag {
		return false
	}
	respond := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		tx.Respond(res)
	}
	switch req.Method {
	case sip.BYE:
		if err := o.sess.ReadBye(req, tx); err != nil {
			c.log.Debug("sip BYE in", slog.Any("err", err))
		}
		o.media.byeOnce.Do(func() { close(o.media.hung) })
	case sip.INFO:
		k, ok := infoDigit(req)
		if !ok {
			respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
			return true
		}
		respond(200, "OK")
		if c.cfg.Media.Stats != nil {
			c.cfg.Media.Stats.Digits.Add(1)
		}
		o.media.run.Key(k)
	case sip.INVITE:
		respond(488, "Not Acceptable Here", sip.NewHeader("Warning", `399 ringgate "re-INVITE not supported: the media stays as negotiated"`))
	default:
		respond(405, "Method Not Allowed", sip.NewHeader("Allow", allow))
	}
	return true
}

// infoDigit reads a key from a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5").
func infoDigit(req *sip.Request) (byte, bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	body := string(req.Body())
	if len(body) > 1024 {
		return 0, false
	}
	var v string
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(body, "\n") {
			k, val, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(val)
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		v = strings.TrimSpace(body)
	default:
		return 0, false
	}
	if len(v) != 1 || !strings.ContainsAny(v, "0123456789*#ABCDabcd") {
		return 0, false
	}
	return strings.ToUpper(v)[0], true
}

// newBye builds the BYE of our dialog (to the far end's Contact, our From,
// its To with its tag, the INVITE's Call-ID), for a BYE that carries a
// Reason; the dialog session numbers its CSeq when sending.
func newBye(inv *sip.Request, res *sip.Response) *sip.Request {
	to := inv.Recipient
	if ct := res.Contact(); ct != nil {
		to = ct.Address
	}
	bye := sip.NewRequest(sip.BYE, *to.Clone())
	mf := sip.MaxForwardsHeader(70)
	bye.AppendHeader(&mf)
	bye.AppendHeader(sip.HeaderClone(inv.From()))
	bye.AppendHeader(sip.HeaderClone(res.To()))
	bye.AppendHeader(sip.HeaderClone(inv.CallID()))
	cseq := sip.HeaderClone(inv.CSeq()).(*sip.CSeqHeader)
	cseq.MethodName = sip.BYE
	bye.AppendHeader(cseq)
	bye.SetTransport(inv.Transport())
	bye.SetSource(inv.Source())
	return bye
}

// mediaMetrics are the trunk's RTP figures (with rtp_ports).
func (c *Carrier) mediaMetrics() []carrier.Metric {
	m := c.cfg.Media
	if m == nil {
		return nil
	}
	st := m.Stats
	if st == nil {
		st = &media.Stats{}
		m.Stats = st
	}
	count := func(v *atomic.Int64) func() float64 { return func() float64 { return float64(v.Load()) } }
	return []carrier.Metric{
		{Name: "ringgate_rtp_sent_total", Help: "RTP packets sent (prompts and silence).", Value: count(&st.Sent)},
		{Name: "ringgate_rtp_received_total", Help: "RTP packets accepted from the far end.", Value: count(&st.Received)},
		{Name: "ringgate_rtp_malformed_total", Help: "Datagrams to an RTP port that were not RTP (dropped).", Value: count(&st.Malformed)},
		{Name: "ringgate_rtp_stray_total", Help: "RTP packets from a source other than the call's far end, or of a payload type not negotiated (dropped).", Value: count(&st.Stray)},
		{Name: "ringgate_rtcp_received_total", Help: "RTCP packets received.", Value: count(&st.RTCP)},
		{Name: "ringgate_rtcp_sent_total", Help: "RTCP sender reports sent (one every 5 s of a call).", Value: count(&st.RTCPSent)},
		{Name: "ringgate_dtmf_digits_total", Help: "Key presses detected on calls with media (RFC 4733, in-band, SIP INFO).", Value: count(&st.Digits)},
		{Name: "ringgate_rtp_ports_in_use", Help: "RTP/RTCP port pairs held by calls with media.", Gauge: true, Value: func() float64 { return float64(m.Ports.InUse()) }},
	}
}
