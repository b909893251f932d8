package carrier

import (
	"context"
	"net/http"
)

// A carrier is a part with one lifecycle, in the spirit of Caddy's
// modules: the server builds every configured carrier through one factory
// table (internal/carrier/parts), each from the same Host, and then asks
// each, through the optional interfaces below, for what it offers. A part
// is always a Sender (the router hands it commands by name); everything
// else is optional and found by type assertion, so an adapter implements
// only what it has and declares it with interface guards.

// Starter is a part with work to start once the server runs: listeners
// (SIP), binds (SMPP). Start must not block; a part started is closed.
type Starter interface {
	Start(ctx context.Context) error
}

// Closer is a part holding resources to release when the server stops, or
// when building a later part fails.
type Closer interface {
	Close() error
}

// WebhookHandler is a part that receives its provider's webhooks. The
// server mounts it at /carriers/{name}/ with that prefix stripped.
type WebhookHandler interface {
	Sender
	http.Handler
}

// Metric is one figure a part exports, as a Prometheus counter or gauge
// labelled carrier=<name>. Value is read at scrape time.
type Metric struct {
	Name  string
	Help  string
	Gauge bool // else a counter
	Value func() float64
}

// MetricsReporter is a part with figures of its own to export.
type MetricsReporter interface {
	Metrics() []Metric
}
