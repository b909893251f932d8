package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
	"github.com/ringgate/ringgate/internal/carrier/plivo"
	"github.com/ringgate/ringgate/internal/carrier/telnyx"
	"github.com/ringgate/ringgate/internal/carrier/twilio"
	"github.com/ringgate/ringgate/internal/carrier/vonage"
	"github.com/ringgate/ringgate/internal/config"
)

// httpCarrier is what the server needs of a provider's HTTP adapter
// (twilio, telnyx, vonage, plivo): a sender, the handler of its webhooks
// (mounted at /carriers/{name}/ with that prefix stripped), and the count
// of webhooks it refused for a bad or missing signature.
type httpCarrier interface {
	carrier.Sender
	http.Handler
	Rejected() uint64
}

// newHTTPCarriers builds the config's HTTP carriers. secret keys the
// state they seal into their own callback URLs (each derives its own key
// from it and its name).
func newHTTPCarriers(cfg config.Config, side carrierSide, secret []byte, log *slog.Logger) ([]httpCarrier, error) {
	var out []httpCarrier
	for _, c := range cfg.Carriers {
		if !config.HTTPCarrierTypes[c.Type] {
			continue
		}
		h := c.HTTP
		pub := h.EffectivePublicURL(cfg.PublicURL)
		var (
			hc  httpCarrier
			err error
		)
		switch c.Type {
		case "twilio":
			hc, err = twilio.New(twilio.Config{
				Name: c.Name, AccountSID: h.AccountID, AuthToken: h.AuthToken, APIBase: h.APIBase, PublicURL: pub,
				From: h.From, Country: h.Country, Secret: secret, Inbound: side, Events: side, Logger: log,
			})
		case "telnyx":
			hc, err = telnyx.New(telnyx.Config{
				Name: c.Name, APIKey: h.APIKey, PublicKey: h.PublicKey, ConnectionID: h.ConnectionID,
				MessagingProfileID: h.MessagingProfileID, APIBase: h.APIBase, PublicURL: pub,
				From: h.From, Country: h.Country, Secret: secret, Inbound: side, Events: side, Logger: log,
			})
		case "vonage":
			var key []byte
			if key, err = os.ReadFile(h.PrivateKeyFile); err == nil {
				hc, err = vonage.New(vonage.Config{
					Name: c.Name, APIKey: h.APIKey, APISecret: h.APISecret, ApplicationID: h.ApplicationID,
					PrivateKey: key, SignatureSecret: h.SignatureSecret, APIBase: h.APIBase, PublicURL: pub,
					From: h.From, Country: h.Country, Secret: secret, Inbound: side, Events: side, Logger: log,
				})
			}
		case "plivo":
			hc, err = plivo.New(plivo.Config{
				Name: c.Name, AuthID: h.AccountID, AuthToken: h.AuthToken, APIBase: h.APIBase, PublicURL: pub,
				From: h.From, Country: h.Country, Secret: secret, Inbound: side, Events: side, Logger: log,
			})
		default:
			err = fmt.Errorf("type %s has no HTTP adapter", c.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("config: carrier %s: %w", c.Name, err)
		}
		out = append(out, hc)
	}
	return out, nil
}

// registerHTTPCarrierMetrics exports each HTTP carrier's refused webhooks.
func registerHTTPCarrierMetrics(reg *prometheus.Registry, cs []httpCarrier) {
	for _, c := range cs {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "ringgate_carrier_webhooks_refused_total",
			Help:        "Carrier webhooks refused with 403 for a missing or bad signature.",
			ConstLabels: prometheus.Labels{"carrier": c.Name()},
		}, func() float64 { return float64(c.Rejected()) }))
	}
}

// withCarriers serves the HTTP carriers' webhooks at /carriers/{name}/
// in front of the API. They are the providers' formats, not ringgate's
// API, so they stay out of its routes table and OpenAPI document; an
// unknown carrier gets problem JSON like any unknown path.
func withCarriers(api http.Handler, cs []httpCarrier) http.Handler {
	if len(cs) == 0 {
		return api
	}
	byName := make(map[string]http.Handler, len(cs))
	for _, c := range cs {
		byName[c.Name()] = http.StripPrefix("/carriers/"+c.Name(), c)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/carriers/")
		if !ok {
			api.ServeHTTP(w, r)
			return
		}
		name, _, _ := strings.Cut(rest, "/")
		h, ok := byName[name]
		if !ok || !strings.HasPrefix(rest, name+"/") {
			httpcarrier.Problem(w, http.StatusNotFound, "no_such_route", "no carrier webhook at "+r.URL.Path)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// asSenders lists carriers of one kind as senders, for newRouter.
func asSenders[T carrier.Sender](cs []T) []carrier.Sender {
	out := make([]carrier.Sender, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
