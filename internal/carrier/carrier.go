// Package carrier defines how ringgate talks to telephone networks: the
// normalised events an adapter reports (a call arrived, was answered, ended; an
// SMS was delivered) and the handler that receives them. Each network gets its
// own sub-package (sim, sip, smpp, twilio, …) that turns what its wire says
// into these types, so the domain never learns a protocol.
//
// Lifecycle of an inbound adapter: it is constructed with an InboundHandler,
// started by the server, and for every call attempt it calls
// InboundHandler.InboundCall exactly once per distinct CallID (retransmissions
// of the same attempt reuse the CallID, and the handler answers them with the
// disposition it gave the first time).
package carrier

import (
	"context"
	"time"
)

// InboundCall is a call attempt arriving on one of the operator's numbers.
// Adapters must fill From and To as they received them; normalising them to
// E.164 is the handler's job (using Country for national-format numbers).
type InboundCall struct {
	From    string // caller ID (P-Asserted-Identity on trusted trunks, else From)
	To      string // the dialled number
	Country string // ISO region for numbers the carrier sends in national form; "" if E.164
	Carrier string // adapter instance name: "sim", "sip:trunk-a", "twilio"
	CallID  string // the carrier's id for this attempt; "" if it has none
	At      time.Time
	// Diverted: the call was forwarded to the dialled number (SIP Diversion
	// or History-Info), so From is whoever called the forwarding number,
	// perhaps tricked into it. The handler records it and verifies nothing.
	Diverted bool
	// Tenant, when set, limits what the call may match to one app's sandbox
	// or live verifications: a simulated call placed with an API key
	// reaches only that key's own traffic. Real carriers leave it nil.
	Tenant *CallTenant
}

// CallTenant is one app's sandbox (test keys) or live traffic.
type CallTenant struct {
	AppID   string
	Sandbox bool
}

// Action is what the adapter must do with an inbound call.
type Action string

// Reject is the only action for verification calls: refuse before answer so
// the caller is never charged (seed 001: "disconnected … before getting
// answered").
const Reject Action = "reject"

// Disposition tells the adapter how to end an inbound call.
type Disposition struct {
	Action    Action
	SIPStatus int // 603 Decline by default; adapters map it to their own vocabulary
	// VerificationID is the verification the call matched, "" when none did.
	VerificationID string
}

// InboundHandler receives inbound calls. It returns an error only when it
// could not decide (the store is down): adapters then reject with a 5xx so
// the carrier may retry, never answer.
type InboundHandler interface {
	InboundCall(ctx context.Context, call InboundCall) (Disposition, error)
}
