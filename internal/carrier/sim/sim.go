// Package sim is the simulator carrier: a telephone network that exists only
// inside ringgate, for dev mode and sandbox keys. A simulated call takes
// exactly the path a SIP or HTTP carrier's call takes (carrier.InboundCall
// into the same handler; carrier.Sender commands out, carrier.Events back),
// so what works against the simulator works against a trunk.
//
// Outbound, the network is a set of simulated phones keyed by E.164
// number. A call or text to any valid number lands on its phone, where a
// person (the HTTP layer's /sim endpoints, or a test) answers, presses
// keys and hangs up through Answer, DTMF and Hangup, and reads what arrived
// through Phone. A few magic numbers (MagicNumbers) behave on their own.
//
// Events are delivered on goroutines of the simulator, in order per call
// or message, and never before the command that caused them has returned.
package sim

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/phone"
)

// Name is the default instance name, under which calls are recorded.
const Name = "sim"

// Defaults for Config's zero values.
const (
	DefaultRingTimeout = 60 * time.Second
	DefaultMaxPhones   = 10000
	DefaultMaxPerPhone = 50
)

// CheckFunc is how a phone's "app" submits what it received, as a user would
// type it into the customer's app: the caller ID of a flash call (code ""),
// or a code heard in a voice call or read in a text (cli "").
type CheckFunc func(ctx context.Context, verificationID, cli, code string) error

// Config builds a Carrier. Every field is optional.
type Config struct {
	// Name is the instance name reported by Name and in events ("sim").
	Name string
	// Inbound receives calls placed with Call.
	Inbound carrier.InboundHandler
	// Events receives outbound events; nil drops them.
	Events carrier.EventHandler
	// Check is called by the self-verifying magic number; nil: nothing.
	Check CheckFunc
	// Now is the clock for timestamps (time.Now).
	Now func() time.Time
	// Down starts the carrier in a simulated outage (see SetDown).
	Down bool
	// RingTimeout applies to calls whose RingTimeout is 0 (60 s).
	RingTimeout time.Duration
	// GatherScale multiplies the dialplan's gather timeouts, so tests need
	// not wait 3.5 s for a timeout; 0 means 1.
	GatherScale float64
	// MaxPhones and MaxPerPhone bound memory: the least recently used phone
	// is forgotten beyond MaxPhones (10,000), a phone's oldest calls and
	// texts beyond MaxPerPhone (50) each. A call still going when it is
	// forgotten ends with CauseFailed.
	MaxPhones   int
	MaxPerPhone int
	// Logger reports handler and Check errors (slog.Default()).
	Logger *slog.Logger
}

// Carrier is the simulated network. It implements carrier.Sender.
type Carrier struct {
	name        string
	inbound     carrier.InboundHandler
	events      carrier.EventHandler
	check       CheckFunc
	now         func() time.Time
	ringTimeout time.Duration
	gatherScale float64
	maxPhones   int
	maxPerPhone int
	log         *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // event and Check goroutines

	mu     sync.Mutex
	closed bool
	down   bool
	seq    uint64
	phones map[string]*list.Element // number → element of lru holding *simPhone
	lru    *list.List               // front: most recently used
	calls  map[string]*simCall      // by carrier.Call.ID
	msgs   map[string]*simMessage   // by carrier.SMS.ID
	queues map[string]*queue        // per call/message event queues
}

var _ carrier.Sender = (*Carrier)(nil)

// New returns a simulator.
func New(cfg Config) *Carrier {
	c := &Carrier{
		name: cfg.Name, inbound: cfg.Inbound, events: cfg.Events, check: cfg.Check, now: cfg.Now,
		ringTimeout: cfg.RingTimeout, gatherScale: cfg.GatherScale,
		maxPhones: cfg.MaxPhones, maxPerPhone: cfg.MaxPerPhone, log: cfg.Logger, down: cfg.Down,
		phones: map[string]*list.Element{}, lru: list.New(),
		calls: map[string]*simCall{}, msgs: map[string]*simMessage{}, queues: map[string]*queue{},
	}
	if c.name == "" {
		c.name = Name
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ringTimeout <= 0 {
		c.ringTimeout = DefaultRingTimeout
	}
	if c.gatherScale <= 0 {
		c.gatherScale = 1
	}
	if c.maxPhones <= 0 {
		c.maxPhones = DefaultMaxPhones
	}
	if c.maxPerPhone <= 0 {
		c.maxPerPhone = DefaultMaxPerPhone
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Name is the instance name.
func (c *Carrier) Name() string { return c.name }

// SetDown starts (true) or ends a simulated outage: while it lasts,
// PlaceCall and SendSMS fail with a retryable *carrier.Error (Code
// "unavailable"), so a router fails over to another carrier. Calls and
// texts already on the network carry on.
func (c *Carrier) SetDown(down bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

// Close stops every timer, cancels the context handlers are called with,
// drops events not yet delivered and waits for the handler calls in
// progress. Commands fail afterwards.
func (c *Carrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, call := range c.calls {
		call.stopTimer()
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// CallResult is what the simulated network did with a call.
type CallResult struct {
	Disposition    string  `json:"disposition"` // "rejected": verification calls are never answered
	SIPStatus      int     `json:"sip_status"`
	VerificationID *string `json:"verification_id"`
}

// InvalidNumberError says which number of a simulated call, text or phone
// command is not a valid E.164 number.
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
	if c.inbound == nil {
		return CallResult{}, errors.New("sim: no inbound handler")
	}
	d, err := c.inbound.InboundCall(ctx, carrier.InboundCall{From: from, To: to, Carrier: c.name, At: c.now()})
	if err != nil {
		return CallResult{}, err
	}
	res := CallResult{Disposition: "rejected", SIPStatus: d.SIPStatus}
	if d.VerificationID != "" {
		res.VerificationID = &d.VerificationID
	}
	return res, nil
}

// Gateway is a named way into the simulated network. Several sim carriers
// in a config (a primary and a backup, one of them with a simulated outage)
// reach the same phones, so a failover test sees the text on the phone
// whichever carrier took it.
type Gateway struct {
	net  *Carrier
	name string
	down bool
}

var _ carrier.Sender = (*Gateway)(nil)

// Gateway returns a sender into c's network named name; down refuses every
// command with a retryable error, as a carrier in an outage would.
func (c *Carrier) Gateway(name string, down bool) *Gateway {
	return &Gateway{net: c, name: name, down: down}
}

// Name is the gateway's configured name.
func (g *Gateway) Name() string { return g.name }

func (g *Gateway) refuse() error {
	return &carrier.Error{Carrier: g.name, Retryable: true, Code: "unavailable", Err: ErrDown}
}

// PlaceCall places the call on the network, unless the gateway is down.
func (g *Gateway) PlaceCall(ctx context.Context, cmd carrier.Call) (string, error) {
	if g.down {
		return "", g.refuse()
	}
	return g.net.PlaceCall(ctx, cmd)
}

// SendSMS sends the text on the network, unless the gateway is down.
func (g *Gateway) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	if g.down {
		return "", g.refuse()
	}
	return g.net.SendSMS(ctx, m)
}

var _ carrier.CallEnder = (*Gateway)(nil)

// EndCall ends a call placed through the gateway (a down gateway placed
// none, so it has nothing to refuse).
func (g *Gateway) EndCall(ctx context.Context, e carrier.CallEnd) error {
	return g.net.EndCall(ctx, e)
}
