// Package sim is the simulator carrier: a telephone network that exists only
// inside ringgate, for dev mode and sandbox keys. A simulated call takes
// exactly the path a SIP or HTTP carrier's call takes (carrier.InboundCall
// into the same handler), so what works against the simulator works against
// a trunk.
package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/phone"
)

// Name is the carrier name the simulator records calls under.
const Name = "sim"

// Carrier is the simulated network.
type Carrier struct {
	inbound carrier.InboundHandler
	now     func() time.Time
}

// New returns a simulator delivering inbound calls to h.
func New(h carrier.InboundHandler, now func() time.Time) *Carrier {
	if now == nil {
		now = time.Now
	}
	return &Carrier{inbound: h, now: now}
}

// CallResult is what the simulated network did with a call.
type CallResult struct {
	Disposition    string  `json:"disposition"` // "rejected": verification calls are never answered
	SIPStatus      int     `json:"sip_status"`
	VerificationID *string `json:"verification_id"`
}

// InvalidNumberError says which side of a simulated call is not a number.
type InvalidNumberError struct {
	Field string
	Err   error
}

func (e *InvalidNumberError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *InvalidNumberError) Unwrap() error { return e.Err }

// Call places a call from one E.164 number to another, as a phone on the
// simulated network would. Unlike a real trunk, it refuses numbers that are
// not E.164, because a mistyped number in a test should fail loudly.
func (c *Carrier) Call(ctx context.Context, from, to string) (CallResult, error) {
	if _, err := phone.ParseE164(from); err != nil {
		return CallResult{}, &InvalidNumberError{Field: "from", Err: err}
	}
	if _, err := phone.ParseE164(to); err != nil {
		return CallResult{}, &InvalidNumberError{Field: "to", Err: err}
	}
	d, err := c.inbound.InboundCall(ctx, carrier.InboundCall{From: from, To: to, Carrier: Name, At: c.now()})
	if err != nil {
		return CallResult{}, err
	}
	res := CallResult{Disposition: "rejected", SIPStatus: d.SIPStatus}
	if d.VerificationID != "" {
		res.VerificationID = &d.VerificationID
	}
	return res, nil
}
