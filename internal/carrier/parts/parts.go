// Package parts builds ringgate's carriers as parts with one lifecycle
// (carrier.Starter, carrier.Closer, carrier.WebhookHandler,
// carrier.MetricsReporter): every adapter is made by the factory of its
// type (table.go) from one Host, the server keeps one Set of them, starts
// and closes them in one place, mounts their webhooks under
// /carriers/{name}/ and registers their metrics one way.
//
// Adding a carrier type touches its own package and the table; its
// options live in internal/config (config.Carrier).
package parts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
	"github.com/ringgate/ringgate/internal/carrier/sim"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/ivr"
)

// Host is what every adapter is given.
type Host struct {
	Logger *slog.Logger
	// Inbound and Events are the domain side: calls arriving, and what
	// the network reports about commands.
	Inbound carrier.InboundHandler
	Events  carrier.EventHandler
	// Secret is the server secret: HTTP carriers derive from it (and
	// their name) the key sealing state into their own callback URLs.
	Secret []byte
	// PublicURL is the top-level public_url; a carrier's own
	// http.public_url overrides it.
	PublicURL string
	// Sim is the one simulated network: carriers of type sim are
	// gateways into it (sandbox traffic reaches it whatever the routes).
	Sim *sim.Carrier
	// Metrics receives every part's metrics (Set.Register).
	Metrics prometheus.Registerer
}

// Factory builds the part a config entry describes. It must connect and
// listen on nothing: that is Start's job.
type Factory func(c config.Carrier, h Host) (carrier.Sender, error)

// Set is the server's list of built carriers, in config order.
type Set struct {
	parts   []carrier.Sender
	started []carrier.Starter
}

// Build makes every configured carrier with the factory of its type. On
// error the parts built so far are closed.
func Build(cs []config.Carrier, h Host) (_ *Set, err error) {
	s := &Set{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, c := range cs {
		f, ok := Factories[c.Type]
		if !ok {
			return nil, fmt.Errorf("config: carrier %s: type %q is not supported", c.Name, c.Type)
		}
		p, err := f(c, h)
		if err != nil {
			return nil, fmt.Errorf("config: carrier %s: %w", c.Name, err)
		}
		s.parts = append(s.parts, p)
	}
	if h.Metrics != nil {
		if err := s.register(h.Metrics); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Senders lists every part, for the router.
func (s *Set) Senders() []carrier.Sender { return append([]carrier.Sender(nil), s.parts...) }

// Each calls f with every part, in config order; the server asks the
// parts of one kind for what only they have (SIP addresses, SMPP binds).
func (s *Set) Each(f func(carrier.Sender)) {
	for _, p := range s.parts {
		f(p)
	}
}

// Start starts every carrier.Starter in order. When one fails, those
// started are left for Close.
func (s *Set) Start(ctx context.Context) error {
	for _, p := range s.parts {
		if st, ok := p.(carrier.Starter); ok {
			if err := st.Start(ctx); err != nil {
				return fmt.Errorf("carrier %s: %w", p.Name(), err)
			}
		}
	}
	return nil
}

// Close closes every carrier.Closer, last built first. A part is closed
// whether or not it started (closing one never started releases what
// building it took); closing twice is the parts' own business (each
// returns nil the second time).
func (s *Set) Close() error {
	var errs []error
	for i := len(s.parts) - 1; i >= 0; i-- {
		if c, ok := s.parts[i].(carrier.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// register exports every carrier.MetricsReporter's figures, labelled
// carrier=<name>.
func (s *Set) register(reg prometheus.Registerer) error {
	for _, p := range s.parts {
		mr, ok := p.(carrier.MetricsReporter)
		if !ok {
			continue
		}
		for _, m := range mr.Metrics() {
			var c prometheus.Collector
			labels := prometheus.Labels{"carrier": p.Name()}
			if m.Gauge {
				c = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: labels}, m.Value)
			} else {
				c = prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.Name, Help: m.Help, ConstLabels: labels}, m.Value)
			}
			if err := reg.Register(c); err != nil {
				return fmt.Errorf("carrier %s: metric %s: %w", p.Name(), m.Name, err)
			}
		}
	}
	return nil
}

// Webhooks serves every carrier.WebhookHandler at /carriers/{name}/ with
// that prefix stripped. They are the providers' formats, not ringgate's
// API, so they stay out of its routes table and OpenAPI document; an
// unknown carrier, or a carrier's name without the slash after it, gets
// problem JSON 404 (never a redirect).
func (s *Set) Webhooks() http.Handler {
	byName := map[string]http.Handler{}
	for _, p := range s.parts {
		if wh, ok := p.(carrier.WebhookHandler); ok {
			byName[p.Name()] = http.StripPrefix("/carriers/"+p.Name(), wh)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, _ := strings.CutPrefix(r.URL.Path, "/carriers/")
		name, _, _ := strings.Cut(rest, "/")
		h, ok := byName[name]
		if !ok || !strings.HasPrefix(rest, name+"/") {
			httpcarrier.Problem(w, http.StatusNotFound, "no_such_route", "no carrier webhook at "+r.URL.Path)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CheckDialplan asks every part that speaks dialplans itself (a SIP trunk
// with media: recorded prompts, perhaps no TTS) whether it can speak d; the
// first refusal is returned. The operator's settings are checked with it,
// so a dialplan no trunk could say is refused when it is set, not when a
// call fails.
func (s *Set) CheckDialplan(d *ivr.Dialplan) error {
	for _, p := range s.parts {
		if c, ok := p.(interface{ CheckDialplan(*ivr.Dialplan) error }); ok {
			if err := c.CheckDialplan(d); err != nil {
				return err
			}
		}
	}
	return nil
}
