package carrier

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Route sends one slice of traffic to carriers in order of preference. An
// empty or "*" App, Country or Channel matches any.
type Route struct {
	App      string
	Country  string
	Channel  string // flash_call, answer_call, voice_otp, sms_otp
	Carriers []string
}

func (r Route) matches(app, country, channel string) bool {
	m := func(want, got string) bool { return want == "" || want == "*" || strings.EqualFold(want, got) }
	return m(r.App, app) && m(r.Country, country) && m(r.Channel, channel)
}

// Receipt says which carrier took a command, and its id for it.
type Receipt struct {
	Carrier string
	Ref     string
}

// Router picks the carriers for each command by app, country and channel
// (the first route that matches, in the order configured), and fails over
// to the next carrier of the route when one fails with a retryable error. A
// terminal error (the number does not exist) stops there: another carrier
// would only fail the same way, at a cost. Sandbox commands go to the
// sandbox sender whatever the routes say.
type Router struct {
	senders   map[string]Sender
	routes    []Route
	sandbox   Sender
	observers []Observer
}

// Observer learns of every command a configured carrier failed: op is
// "call", "sms" or "hangup". The sandbox sender is not observed, nor an
// attempt whose context ended (the failure is then ringgate's, not the
// carrier's). Observers count; they must not block.
type Observer func(carrierName, op string, err error)

// NewRouter checks that every route names known senders.
func NewRouter(senders []Sender, routes []Route, sandbox Sender, observers ...Observer) (*Router, error) {
	r := &Router{senders: make(map[string]Sender, len(senders)), routes: routes, sandbox: sandbox, observers: observers}
	for _, s := range senders {
		if _, dup := r.senders[s.Name()]; dup {
			return nil, fmt.Errorf("two carriers are named %q", s.Name())
		}
		r.senders[s.Name()] = s
	}
	for i, rt := range routes {
		if len(rt.Carriers) == 0 {
			return nil, fmt.Errorf("route %d names no carrier", i+1)
		}
		for _, name := range rt.Carriers {
			if _, ok := r.senders[name]; !ok {
				return nil, fmt.Errorf("route %d names carrier %q, which is not configured", i+1, name)
			}
		}
	}
	return r, nil
}

// Pick returns the carriers for a command, in order; none if no route matches.
func (r *Router) Pick(app, country, channel string, sandbox bool) []Sender {
	if sandbox && r.sandbox != nil {
		return []Sender{r.sandbox}
	}
	for _, rt := range r.routes {
		if rt.matches(app, country, channel) {
			out := make([]Sender, len(rt.Carriers))
			for i, name := range rt.Carriers {
				out[i] = r.senders[name]
			}
			return out
		}
	}
	return nil
}

// Routable reports whether some carrier serves the channel.
func (r *Router) Routable(app, country, channel string, sandbox bool) bool {
	return len(r.Pick(app, country, channel, sandbox)) > 0
}

// PlaceCall places c through the first carrier of its route that takes it.
func (r *Router) PlaceCall(ctx context.Context, c Call) (Receipt, error) {
	return r.try(r.Pick(c.AppID, c.Country, c.Channel, c.Sandbox), func(s Sender) (string, error) {
		ref, err := s.PlaceCall(ctx, c)
		r.observe(ctx, s, "call", err)
		return ref, err
	})
}

// SendSMS sends m through the first carrier of its route that takes it.
func (r *Router) SendSMS(ctx context.Context, m SMS) (Receipt, error) {
	return r.try(r.Pick(m.AppID, m.Country, "sms_otp", m.Sandbox), func(s Sender) (string, error) {
		ref, err := s.SendSMS(ctx, m)
		r.observe(ctx, s, "sms", err)
		return ref, err
	})
}

// EndCall ends a call through the carrier that placed it, named as the
// Receipt named it: never another one, since only the carrier that placed
// a call knows its ref.
func (r *Router) EndCall(ctx context.Context, name string, c CallEnd) error {
	s := r.senders[name]
	if s == nil && r.sandbox != nil && r.sandbox.Name() == name {
		s = r.sandbox
	}
	if s == nil {
		return &Error{Carrier: name, Code: "no_route", Err: fmt.Errorf("no carrier named %q is configured to end call %s", name, c.ID)}
	}
	e, ok := s.(CallEnder)
	if !ok {
		return &Error{Carrier: name, Code: "unsupported", Err: fmt.Errorf("carrier %q cannot end calls", name)}
	}
	err := e.EndCall(ctx, c)
	r.observe(ctx, s, "hangup", err)
	var ce *Error
	if err != nil && !errors.As(err, &ce) {
		err = &Error{Carrier: name, Retryable: true, Code: "failed", Err: err}
	}
	return err
}

// observe tells the observers of a configured carrier's failure.
func (r *Router) observe(ctx context.Context, s Sender, op string, err error) {
	if err == nil || ctx.Err() != nil || s == r.sandbox {
		return
	}
	for _, o := range r.observers {
		o(s.Name(), op, err)
	}
}

func (r *Router) try(senders []Sender, do func(Sender) (string, error)) (Receipt, error) {
	if len(senders) == 0 {
		return Receipt{}, &Error{Carrier: "router", Code: "no_route", Err: errors.New("no carrier route matches")}
	}
	var errs []error
	for _, s := range senders {
		ref, err := do(s)
		if err == nil {
			return Receipt{Carrier: s.Name(), Ref: ref}, nil
		}
		var ce *Error
		if !errors.As(err, &ce) {
			err = &Error{Carrier: s.Name(), Retryable: true, Code: "failed", Err: err}
		}
		errs = append(errs, err)
		if !Retryable(err) {
			break
		}
	}
	last := errs[len(errs)-1].(*Error)
	if len(errs) == 1 {
		return Receipt{Carrier: last.Carrier}, last
	}
	// The last carrier's verdict decides; the message keeps every failure.
	return Receipt{Carrier: last.Carrier}, &Error{Carrier: last.Carrier, Retryable: last.Retryable, Code: last.Code, Err: errors.Join(errs...)}
}
