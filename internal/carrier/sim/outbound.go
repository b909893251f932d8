package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// Call states, as PhoneView shows them.
const (
	StateRinging  = "ringing"
	StateAnswered = "answered"
	StateEnded    = "ended"
)

// Errors of the phone-side commands (Answer, DTMF, Hangup), for the HTTP
// layer to map: ErrNoCall to 404, ErrCallState to 409, ErrInvalidArgument
// (wrapped with the detail) to 400, *InvalidNumberError to its problem.
var (
	ErrNoCall          = errors.New("sim: the phone has no call in progress")
	ErrCallState       = errors.New("sim: the phone's call is not in a state that allows this")
	ErrInvalidArgument = errors.New("sim: invalid argument")
)

// Causes of the *carrier.Error the simulator returns for PlaceCall and
// SendSMS, besides carrier.CauseFailed and carrier.CauseUnreachable.
var (
	ErrDown   = errors.New("simulated outage")
	ErrClosed = errors.New("simulator closed")
)

// maxTranscript bounds the prompts kept per call.
const maxTranscript = 200

// PhoneView is what a simulated phone has received, oldest first.
type PhoneView struct {
	Number   string        `json:"number"`
	Calls    []CallView    `json:"calls"`
	Messages []MessageView `json:"messages"`
}

// CallView is one call a phone received.
type CallView struct {
	ID         string       `json:"id"` // carrier.Call.ID
	From       string       `json:"from"`
	To         string       `json:"to"`
	State      string       `json:"state"`              // StateRinging, StateAnswered, StateEnded
	Cause      string       `json:"cause,omitempty"`    // why it ended (carrier.Cause*), once StateEnded
	StartedAt  verify.Stamp `json:"started_at"`         // milliseconds, as the API writes times
	Transcript []string     `json:"transcript"`         // what the call said, in order
	Language   string       `json:"language,omitempty"` // the TTS language it spoke in ("fr-FR"), once it spoke
}

// MessageView is one text a phone received.
type MessageView struct {
	ID         string       `json:"-"` // carrier.SMS.ID
	From       string       `json:"from"`
	Text       string       `json:"text"`
	ReceivedAt verify.Stamp `json:"received_at"`
}

type simPhone struct {
	number string
	calls  []*simCall
	msgs   []*simMessage
}

type simCall struct {
	phone      *simPhone
	cmd        carrier.Call
	ref        string
	state      string
	startedAt  time.Time
	transcript []string
	language   string
	answeredBy string
	cause      string // why it ended
	session    *ivr.Session
	timer      *time.Timer
	gen        int // bumped whenever a timer is stopped, so a late one is ignored
}

type simMessage struct {
	cmd        carrier.SMS
	ref        string
	receivedAt time.Time
}

func (call *simCall) stopTimer() {
	if call.timer != nil {
		call.timer.Stop()
		call.timer = nil
	}
	call.gen++
}

func (call *simCall) live() bool { return call.state != StateEnded }

// ---- event queues ----

// queue holds a call's or message's pending deliveries (events and Check
// calls), run in order by one goroutine at a time. A held queue does not
// start until the command that filled it has returned.
type queue struct {
	items   []func(context.Context)
	held    bool
	running bool
}

func (c *Carrier) holdLocked(key string) {
	q := c.queues[key]
	if q == nil {
		q = &queue{}
		c.queues[key] = q
	}
	q.held = true
}

func (c *Carrier) releaseLocked(key string) {
	if q := c.queues[key]; q != nil {
		q.held = false
		c.startLocked(key, q)
	}
}

func (c *Carrier) enqueueLocked(key string, f func(context.Context)) {
	if c.closed {
		return
	}
	q := c.queues[key]
	if q == nil {
		q = &queue{}
		c.queues[key] = q
	}
	q.items = append(q.items, f)
	c.startLocked(key, q)
}

func (c *Carrier) startLocked(key string, q *queue) {
	if q.running || q.held {
		return
	}
	if len(q.items) == 0 || c.closed {
		delete(c.queues, key)
		return
	}
	q.running = true
	c.wg.Add(1)
	go c.drain(key, q)
}

func (c *Carrier) drain(key string, q *queue) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if len(q.items) == 0 || c.ctx.Err() != nil {
			q.running = false
			q.items = nil
			if !q.held && c.queues[key] == q {
				delete(c.queues, key)
			}
			c.mu.Unlock()
			return
		}
		f := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		c.mu.Unlock()
		f(c.ctx)
	}
}

func callKey(id string) string { return "call:" + id }
func smsKey(id string) string  { return "sms:" + id }

func (c *Carrier) emitLocked(key string, e carrier.Event) {
	if c.events == nil {
		return
	}
	e.Carrier, e.At = c.name, c.now()
	if call := c.calls[e.ID]; call != nil && e.Ref == "" && e.Kind != carrier.EventSMSDelivered && e.Kind != carrier.EventSMSFailed {
		e.Ref = call.ref // a call event names the call it is about, as PlaceCall returned it
	}
	h := c.events
	c.enqueueLocked(key, func(ctx context.Context) {
		if err := h.CarrierEvent(ctx, e); err != nil {
			c.log.Warn("sim: event handler failed", slog.String("carrier", c.name),
				slog.String("kind", string(e.Kind)), slog.String("id", e.ID), slog.Any("err", err))
		}
	})
}

func (c *Carrier) checkLocked(key, verificationID, cli, code string) {
	if c.check == nil {
		return
	}
	check := c.check
	c.enqueueLocked(key, func(ctx context.Context) {
		if err := check(ctx, verificationID, cli, code); err != nil {
			c.log.Warn("sim: check failed", slog.String("carrier", c.name),
				slog.String("verification", verificationID), slog.Any("err", err))
		}
	})
}

// ---- commands ----

func (c *Carrier) refuseLocked() error {
	switch {
	case c.closed:
		return &carrier.Error{Carrier: c.name, Retryable: true, Code: "closed", Err: ErrClosed}
	case c.down:
		return &carrier.Error{Carrier: c.name, Retryable: true, Code: "unavailable", Err: ErrDown}
	}
	return nil
}

// admitLocked is what the network checks of every command before it
// carries it: that it is up, that the command has an id, and that the
// number exists (or is the magic one whose carrier always fails).
func (c *Carrier) admitLocked(what, id, to string) error {
	if err := c.refuseLocked(); err != nil {
		return err
	}
	if id == "" {
		return c.terminal(carrier.CauseFailed, errors.New(what+" has no ID"))
	}
	if _, err := phone.ParseE164(to); err != nil {
		return c.terminal(carrier.CauseUnreachable, &InvalidNumberError{Field: "to", Err: err})
	}
	if to == NumberCarrierError {
		return c.terminal(carrier.CauseFailed, errors.New("simulated carrier error"))
	}
	return nil
}

func (c *Carrier) terminal(code string, err error) error {
	return &carrier.Error{Carrier: c.name, Retryable: false, Code: code, Err: err}
}

func (c *Carrier) nextRef(prefix string) string {
	c.seq++
	return prefix + strconv.FormatUint(c.seq, 10)
}

// PlaceCall puts a call through to the phone at m.To. It returns at once;
// the phone rings (EventRinging) and what happens next arrives as events.
// A command with an ID seen before returns the first call's ref.
func (c *Carrier) PlaceCall(ctx context.Context, cmd carrier.Call) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.calls[cmd.ID]; prev != nil && !c.closed && !c.down {
		return prev.ref, nil
	}
	if err := c.admitLocked("call", cmd.ID, cmd.To); err != nil {
		return "", err
	}
	key := callKey(cmd.ID)
	c.holdLocked(key)
	defer c.releaseLocked(key) // runs before the unlock: events start after we return
	p := c.phoneLocked(cmd.To)
	call := &simCall{phone: p, cmd: cmd, ref: c.nextRef("simcall-"), state: StateRinging, startedAt: c.now()}
	c.calls[cmd.ID] = call
	p.calls = append(p.calls, call)
	if len(p.calls) > c.maxPerPhone {
		c.forgetCallLocked(p.calls[0])
		p.calls = p.calls[1:]
	}

	if cmd.To == NumberBusy {
		c.endLocked(call, carrier.CauseBusy, 486)
		return call.ref, nil
	}
	c.emitLocked(key, carrier.Event{Kind: carrier.EventRinging, ID: cmd.ID, SIPStatus: 180})
	if cmd.DropOnRing {
		c.endLocked(call, carrier.CauseDropped, 0)
		if cmd.To == NumberSelfVerify {
			c.checkLocked(key, cmd.VerificationID, cmd.From, "")
		}
		return call.ref, nil
	}
	switch cmd.To {
	case NumberSelfVerify:
		c.answerLocked(call, carrier.AnsweredHuman)
	case NumberMachine:
		c.answerLocked(call, carrier.AnsweredMachine)
	default:
		d := cmd.RingTimeout
		if d <= 0 {
			d = c.ringTimeout
		}
		c.startTimerLocked(call, d, func() { c.endLocked(call, carrier.CauseNoAnswer, 0) })
	}
	return call.ref, nil
}

var _ carrier.CallEnder = (*Carrier)(nil)

// EndCall is the network hanging up a call ringgate placed: a ringing
// call is cancelled (SIP 487), an answered one hung up; either ends with
// CauseCanceled, and the phone can no longer answer it, press keys on it
// or hear anything from it. A call that is over or forgotten is left as
// it is.
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refuseLocked(); err != nil {
		return err
	}
	call := c.calls[e.ID]
	if call == nil || (e.Ref != "" && call.ref != e.Ref) || !call.live() {
		return nil
	}
	sip := 0
	if call.state == StateRinging {
		sip = 487
	}
	c.endLocked(call, carrier.CauseCanceled, sip)
	return nil
}

// startTimerLocked runs f under the lock after d, unless the call's timer
// is stopped (or replaced) first or the carrier is closed.
func (c *Carrier) startTimerLocked(call *simCall, d time.Duration, f func()) {
	call.stopTimer()
	gen := call.gen
	call.timer = time.AfterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed || call.gen != gen || !call.live() {
			return
		}
		call.timer = nil
		f()
	})
}

func (c *Carrier) endLocked(call *simCall, cause string, sip int) {
	if !call.live() {
		return
	}
	call.stopTimer()
	call.state, call.session, call.cause = StateEnded, nil, cause
	c.emitLocked(callKey(call.cmd.ID), carrier.Event{Kind: carrier.EventEnded, ID: call.cmd.ID, Cause: cause, SIPStatus: sip})
}

func (c *Carrier) answerLocked(call *simCall, by string) {
	call.stopTimer()
	call.state, call.answeredBy = StateAnswered, by
	c.emitLocked(callKey(call.cmd.ID), carrier.Event{Kind: carrier.EventAnswered, ID: call.cmd.ID, AnsweredBy: by, SIPStatus: 200})
	if call.cmd.OnAnswer != carrier.RunDialplan {
		cause := carrier.CauseCompleted
		if by == carrier.AnsweredMachine {
			cause = carrier.CauseMachine
		}
		c.endLocked(call, cause, 0)
		return
	}
	plan := call.cmd.Dialplan
	if plan == nil {
		plan = ivr.Default()
	}
	call.session = plan.Start(call.cmd.Vars)
	c.applyLocked(call, call.session.Answered(by))
}

// applyLocked performs the dialplan's actions on the call.
func (c *Carrier) applyLocked(call *simCall, acts []ivr.Action) {
	key := callKey(call.cmd.ID)
	var heard string
	for _, a := range acts {
		if !call.live() {
			return
		}
		switch a.Kind {
		case ivr.Say:
			if len(call.transcript) < maxTranscript {
				call.transcript = append(call.transcript, a.Text)
			}
			call.language = a.Language
			c.emitLocked(key, carrier.Event{Kind: carrier.EventPrompt, ID: call.cmd.ID, Text: a.Text})
			if heard == "" {
				heard = spokenCode(a.Text)
			}
		case ivr.Gather:
			d := time.Duration(float64(a.Timeout) * c.gatherScale)
			if d < time.Millisecond {
				d = time.Millisecond
			}
			c.startTimerLocked(call, d, func() {
				if call.session != nil {
					c.applyLocked(call, call.session.Timeout())
				}
			})
		case ivr.HangUp:
			cause := carrier.CauseCompleted
			if call.answeredBy == carrier.AnsweredMachine {
				cause = carrier.CauseMachine
			}
			c.endLocked(call, cause, 0)
		}
	}
	// The self-verifying phone types the code it heard into its app, then
	// hangs up.
	if call.cmd.To == NumberSelfVerify && heard != "" && call.live() {
		c.checkLocked(key, call.cmd.VerificationID, "", heard)
		c.endLocked(call, carrier.CauseCompleted, 0)
	}
}

var (
	spokenRun = regexp.MustCompile(`(?:^|[^0-9])([0-9](?: [0-9]){3,9})(?:[^0-9]|$)`)
	digitRun  = regexp.MustCompile(`(?:^|[^0-9])([0-9]{4,10})(?:[^0-9]|$)`)
)

// spokenCode finds a code read out digit by digit ("2 5 1 7"), or written
// as one run of 4–10 digits.
func spokenCode(text string) string {
	if m := spokenRun.FindStringSubmatch(text); m != nil {
		return strings.ReplaceAll(m[1], " ", "")
	}
	return textCode(text)
}

// textCode is the first run of 4–10 digits in a text.
func textCode(text string) string {
	if m := digitRun.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// SendSMS delivers a text to the phone at m.To. It returns at once;
// EventSMSDelivered (or EventSMSFailed) follows. A command with an ID seen
// before returns the first message's ref.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.msgs[m.ID]; prev != nil && !c.closed && !c.down {
		return prev.ref, nil
	}
	if err := c.admitLocked("message", m.ID, m.To); err != nil {
		return "", err
	}
	key := smsKey(m.ID)
	c.holdLocked(key)
	defer c.releaseLocked(key)
	ref := c.nextRef("simsms-")
	if m.To == NumberSMSUndelivered {
		c.emitLocked(key, carrier.Event{Kind: carrier.EventSMSFailed, ID: m.ID, Cause: carrier.CauseUndelivered})
		return ref, nil
	}
	p := c.phoneLocked(m.To)
	msg := &simMessage{cmd: m, ref: ref, receivedAt: c.now()}
	c.msgs[m.ID] = msg
	p.msgs = append(p.msgs, msg)
	if len(p.msgs) > c.maxPerPhone {
		delete(c.msgs, p.msgs[0].cmd.ID)
		p.msgs = p.msgs[1:]
	}
	c.emitLocked(key, carrier.Event{Kind: carrier.EventSMSDelivered, ID: m.ID})
	if m.To == NumberSelfVerify {
		if code := textCode(m.Text); code != "" {
			c.checkLocked(key, m.VerificationID, "", code)
		}
	}
	return ref, nil
}

// ---- phones ----

// phoneLocked returns the phone for number, creating it, and marks it the
// most recently used; beyond maxPhones the least recently used is
// forgotten.
func (c *Carrier) phoneLocked(number string) *simPhone {
	if el := c.phones[number]; el != nil {
		c.lru.MoveToFront(el)
		return el.Value.(*simPhone)
	}
	p := &simPhone{number: number}
	c.phones[number] = c.lru.PushFront(p)
	for c.lru.Len() > c.maxPhones {
		old := c.lru.Back()
		op := old.Value.(*simPhone)
		c.lru.Remove(old)
		delete(c.phones, op.number)
		for _, call := range op.calls {
			c.forgetCallLocked(call)
		}
		for _, m := range op.msgs {
			delete(c.msgs, m.cmd.ID)
		}
	}
	return p
}

// forgetCallLocked drops a call from the index, ending it first if it is
// still going, so that the domain hears the end of every call it placed.
func (c *Carrier) forgetCallLocked(call *simCall) {
	c.endLocked(call, carrier.CauseFailed, 0)
	if c.calls[call.cmd.ID] == call {
		delete(c.calls, call.cmd.ID)
	}
}

func (c *Carrier) lookupLocked(number string) *simPhone {
	if el := c.phones[number]; el != nil {
		return el.Value.(*simPhone)
	}
	return nil
}

// Phone returns what the phone at number has received. Any number has a
// phone; one that received nothing (or was forgotten) is empty.
func (c *Carrier) Phone(number string) PhoneView { return c.PhoneIn(Everyone, number) }

// PhoneIn is Phone as v sees it: only the calls and texts of v's traffic.
func (c *Carrier) PhoneIn(view View, number string) PhoneView {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := PhoneView{Number: number, Calls: []CallView{}, Messages: []MessageView{}}
	p := c.lookupLocked(number)
	if p == nil {
		return v
	}
	for _, call := range p.calls {
		if !view.sees(call.cmd.AppID, call.cmd.Sandbox) {
			continue
		}
		v.Calls = append(v.Calls, CallView{
			ID: call.cmd.ID, From: call.cmd.From, To: call.cmd.To, State: call.state,
			Cause: call.cause, StartedAt: verify.StampOf(call.startedAt), Transcript: append([]string{}, call.transcript...),
			Language: call.language,
		})
	}
	for _, m := range p.msgs {
		if !view.sees(m.cmd.AppID, m.cmd.Sandbox) {
			continue
		}
		from := m.cmd.From
		if from == "" {
			from = m.cmd.AppName // what a handset shows for an alphanumeric sender
		}
		v.Messages = append(v.Messages, MessageView{ID: m.cmd.ID, From: from, Text: m.cmd.Text, ReceivedAt: verify.StampOf(m.receivedAt)})
	}
	return v
}

func checkNumber(number string) error {
	if _, err := phone.ParseE164(number); err != nil {
		return &InvalidNumberError{Field: "number", Err: err}
	}
	return nil
}

// newest returns the phone's most recent call in a live state, of v's
// traffic, for which ok holds; ErrNoCall when no such call is live,
// ErrCallState when none fits.
func (c *Carrier) newestLocked(v View, number string, ok func(*simCall) bool) (*simCall, error) {
	p := c.lookupLocked(number)
	if p == nil {
		return nil, ErrNoCall
	}
	var live bool
	for i := len(p.calls) - 1; i >= 0; i-- {
		call := p.calls[i]
		if !call.live() || !v.sees(call.cmd.AppID, call.cmd.Sandbox) {
			continue
		}
		live = true
		if ok(call) {
			return call, nil
		}
	}
	if live {
		return nil, ErrCallState
	}
	return nil, ErrNoCall
}

// Answer picks up the phone's newest ringing call, as a person (as
// "human") or an answering machine ("machine").
func (c *Carrier) Answer(ctx context.Context, number, as string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNumber(number); err != nil {
		return err
	}
	if as != carrier.AnsweredHuman && as != carrier.AnsweredMachine {
		return fmt.Errorf("%w: answer as %q: want \"human\" or \"machine\"", ErrInvalidArgument, as)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	call, err := c.newestLocked(viewOf(ctx), number, func(call *simCall) bool { return call.state == StateRinging })
	if err != nil {
		return err
	}
	c.answerLocked(call, as)
	return nil
}

// maxDTMF bounds the keys one DTMF command may carry.
const maxDTMF = 32

// DTMF presses keys (0-9 * #) on the phone's newest answered call that is
// waiting for them.
func (c *Carrier) DTMF(ctx context.Context, number, digits string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNumber(number); err != nil {
		return err
	}
	if digits == "" || len(digits) > maxDTMF || strings.Trim(digits, "0123456789*#") != "" {
		return fmt.Errorf("%w: digits %q: want 1 to %d of 0-9, * and #", ErrInvalidArgument, digits, maxDTMF)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	call, err := c.newestLocked(viewOf(ctx), number, func(call *simCall) bool {
		if call.state != StateAnswered || call.session == nil {
			return false
		}
		_, waiting := call.session.Waiting()
		return waiting
	})
	if err != nil {
		return err
	}
	call.stopTimer()
	c.emitLocked(callKey(call.cmd.ID), carrier.Event{Kind: carrier.EventDTMF, ID: call.cmd.ID, Digits: digits})
	c.applyLocked(call, call.session.Digits(digits))
	return nil
}

// Hangup ends the phone's newest live call: CauseCompleted if it was
// answered, CauseRejected (SIP 603) if it was still ringing.
func (c *Carrier) Hangup(ctx context.Context, number string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNumber(number); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	call, err := c.newestLocked(viewOf(ctx), number, func(*simCall) bool { return true })
	if err != nil {
		return err
	}
	if call.state == StateRinging {
		c.endLocked(call, carrier.CauseRejected, 603)
	} else {
		c.endLocked(call, carrier.CauseCompleted, 0)
	}
	return nil
}
