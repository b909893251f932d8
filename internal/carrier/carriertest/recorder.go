// Package carriertest is the kit every carrier adapter's tests share, as
// storetest is for the stores: a Recorder standing in for the domain (it
// keeps what the carrier reports and answers inbound calls), and Run, the
// conformance suite every HTTP carrier (twilio, telnyx, vonage, plivo)
// passes with its own signer.
package carriertest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/ringgate/ringgate/internal/carrier"
)

// Recorder is the domain side of a carrier under test: an
// InboundHandler and EventHandler that keeps what it is given. Safe for
// concurrent use; the zero value is ready.
type Recorder struct {
	mu       sync.Mutex
	events   []carrier.Event
	inbound  []carrier.InboundCall
	dispo    carrier.Disposition
	fail     error
	failNext error
}

var (
	_ carrier.InboundHandler = (*Recorder)(nil)
	_ carrier.EventHandler   = (*Recorder)(nil)
)

// CarrierEvent records e, or returns the error set by Fail (recording
// nothing, as a store that is down would).
func (r *Recorder) CarrierEvent(_ context.Context, e carrier.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, e)
	return nil
}

// InboundCall answers with the disposition set by Answer (Reject with 603
// until then). An error set by FailNext is returned once, one set by Fail
// every time; a call that fails is not recorded (a store that is down
// records nothing).
func (r *Recorder) InboundCall(_ context.Context, c carrier.InboundCall) (carrier.Disposition, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.failNext; err != nil {
		r.failNext = nil
		return carrier.Disposition{}, err
	}
	if r.fail != nil {
		return carrier.Disposition{}, r.fail
	}
	r.inbound = append(r.inbound, c)
	if r.dispo.Action == "" {
		return carrier.Disposition{Action: carrier.Reject, SIPStatus: 603}, nil
	}
	return r.dispo, nil
}

// Answer sets the disposition of the inbound calls to come.
func (r *Recorder) Answer(d carrier.Disposition) {
	r.mu.Lock()
	r.dispo = d
	r.mu.Unlock()
}

// Fail makes every handler call from now on return err (nil: succeed).
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

// FailNext makes the next inbound call fail with err.
func (r *Recorder) FailNext(err error) {
	r.mu.Lock()
	r.failNext = err
	r.mu.Unlock()
}

// Events are the events recorded, in order.
func (r *Recorder) Events() []carrier.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Inbound are the inbound calls recorded, in order.
func (r *Recorder) Inbound() []carrier.InboundCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.inbound)
}

// Kinds summarises events in order, space-separated: each kind, and after
// a colon what says how it went (who answered, the digits, the cause).
func Kinds(events []carrier.Event) string {
	var s []string
	for _, ev := range events {
		x := string(ev.Kind)
		switch ev.Kind {
		case carrier.EventAnswered:
			x += ":" + ev.AnsweredBy
		case carrier.EventDTMF:
			x += ":" + ev.Digits
		case carrier.EventEnded, carrier.EventSMSFailed:
			x += ":" + ev.Cause
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

// Reset forgets the events recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}
