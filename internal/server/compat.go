package server

import (
	"log/slog"
	"net/http"

	"github.com/ringgate/ringgate/internal/compat"
	cotwilio "github.com/ringgate/ringgate/internal/compat/twilio"
	"github.com/ringgate/ringgate/internal/verify"
)

// compatAPIs are the provider-compatible APIs (internal/compat), mounted
// beside the native API on the same listener.
type compatAPIs struct {
	twilio *cotwilio.Handler
}

// newCompat builds the compatible APIs when the store keeps their records
// (every sqldb store does).
func newCompat(st Store, svc *verify.Service, log *slog.Logger) (*compat.Keeper, *compatAPIs) {
	cs, ok := st.(compat.Store)
	if !ok {
		return nil, nil
	}
	k := &compat.Keeper{Store: cs, Now: svc.Now}
	return k, &compatAPIs{
		twilio: cotwilio.New(cotwilio.Config{Verifier: svc, Keeper: *k, Store: cs, Logger: log}),
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
		default:
			next.ServeHTTP(w, r)
		}
	})
}
