package webhook

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome classifies one delivery attempt.
type Outcome string

// Outcomes of an attempt.
const (
	OutcomeDelivered   Outcome = "delivered"   // the receiver answered 2xx
	OutcomeRejected    Outcome = "rejected"    // the receiver answered something else (3xx included)
	OutcomeTimeout     Outcome = "timeout"     // no complete answer in time
	OutcomeUnreachable Outcome = "unreachable" // DNS, connection or TLS failure
	OutcomeRefused     Outcome = "refused"     // the address policy refused the destination
	OutcomeError       Outcome = "error"       // the request could not be built (URL, secret)
)

var outcomes = [...]Outcome{OutcomeDelivered, OutcomeRejected, OutcomeTimeout, OutcomeUnreachable, OutcomeRefused, OutcomeError}

// Metrics receives what the dispatcher does. Implementations must be safe
// for concurrent use and quick: they are called on the delivery path.
type Metrics interface {
	// Attempted is called once per attempt, with how long the request took.
	Attempted(o Outcome, took time.Duration)
	// GaveUp is called when a delivery is marked failed after its last
	// attempt.
	GaveUp()
}

// PromMetrics is Metrics as Prometheus collectors.
type PromMetrics struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
	gaveUp   prometheus.Counter
}

// NewPromMetrics creates the webhook collectors and registers them on reg.
func NewPromMetrics(reg prometheus.Registerer) (*PromMetrics, error) {
	m := &PromMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringgate_webhook_attempts_total",
			Help: "Webhook delivery attempts, by outcome.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ringgate_webhook_attempt_duration_seconds",
			Help: "Time from sending a webhook to the end of the receiver's answer (or the failure).",
			// From a fast local receiver to the request timeout.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		gaveUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringgate_webhook_deliveries_failed_total",
			Help: "Webhook deliveries marked failed after their retries ran out.",
		}),
	}
	cs := []prometheus.Collector{m.attempts, m.latency, m.gaveUp}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done) // all or nothing, so a retry can succeed
			}
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	// Export every outcome from the start, so rate() works before the
	// first failure of a kind.
	for _, o := range outcomes {
		m.attempts.WithLabelValues(string(o))
	}
	return m, nil
}

// Attempted implements Metrics.
func (m *PromMetrics) Attempted(o Outcome, took time.Duration) {
	m.attempts.WithLabelValues(string(o)).Inc()
	m.latency.Observe(took.Seconds())
}

// GaveUp implements Metrics.
func (m *PromMetrics) GaveUp() { m.gaveUp.Inc() }
