package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/compat/otpapi"
	cotwilio "github.com/ringgate/ringgate/internal/compat/twilio"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// compatAPIs are the provider-compatible APIs (internal/compat), mounted
// beside the native API on the same listener.
type compatAPIs struct {
	twilio    *cotwilio.Handler
	otp       *otpapi.Handler
	callbacks *otpapi.Dispatcher // the missed-call API's callbacks
}

// newCompat builds the compatible APIs when the store keeps their records
// (every sqldb store does).
func newCompat(st Store, svc *verify.Service, policy webhook.Policy, cfg config.Config, log *slog.Logger) (*compat.Keeper, *compatAPIs) {
	cs, ok := st.(compat.Store)
	if !ok {
		return nil, nil
	}
	k := &compat.Keeper{Store: cs, Now: svc.Now}
	return k, &compatAPIs{
		twilio: cotwilio.New(cotwilio.Config{Verifier: svc, Keeper: *k, Store: cs, Logger: log}),
		otp:    otpapi.New(otpapi.Config{Verifier: svc, Store: cs, CheckURL: policy.CheckURLResolving(nil), Logger: log}),
		callbacks: otpapi.NewDispatcher(otpapi.Dispatcher{
			Verifier: svc, Store: cs, Client: policy.Client(cfg.Webhooks.Timeout), Logger: log,
			Poll: cfg.Expiry.Interval, RetryBase: cfg.Webhooks.RetryBase,
		}),
	}
}

// withCompat sends the compatible APIs' paths to them, everything else to
// next. Their paths are the providers' own (/v2/Services…), which the
// native API (/v1/…) never uses.
func withCompat(next http.Handler, c *compatAPIs) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case cotwilio.Owns(p):
			c.twilio.ServeHTTP(w, r)
		case otpapi.Owns(p):
			c.otp.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// runCompat runs the compatible APIs' loops (the missed-call API's
// callbacks) until ctx ends.
func (s *Server) runCompat(ctx context.Context) {
	if s.compat != nil {
		s.compat.callbacks.Run(ctx)
	}
}

// kickCompat wakes them after a change.
func (s *Server) kickCompat() {
	if s.compat != nil {
		s.compat.callbacks.Kick()
	}
}
