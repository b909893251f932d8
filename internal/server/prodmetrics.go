package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/verify"
)

// prodMetrics are the operator's metrics the dashboard and alert rules in
// deploy/monitoring read: verifications by channel and outcome, time to
// verify, the webhook backlog, carrier errors.
type prodMetrics struct {
	completed     *prometheus.CounterVec
	timeToVerify  *prometheus.HistogramVec
	carrierErrors *prometheus.CounterVec
}

// backlogCounter is a store that can count the webhooks still to deliver.
type backlogCounter interface {
	PendingDeliveries(ctx context.Context) (int, error)
}

func newProdMetrics(reg *prometheus.Registry, st any) *prodMetrics {
	m := &prodMetrics{
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringgate_verifications_completed_total",
			Help: "Verifications that ended, by the channel of their last step and their status (verified, expired, failed, canceled).",
		}, []string{"channel", "status"}),
		timeToVerify: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ringgate_time_to_verify_seconds",
			Help:    "From a verification's start to verified, by the channel that verified it.",
			Buckets: []float64{1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600},
		}, []string{"channel"}),
		carrierErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringgate_carrier_errors_total",
			Help: "Outbound calls and texts a carrier refused or failed to take, by carrier and kind (call, sms).",
		}, []string{"carrier", "kind"}),
	}
	reg.MustRegister(m.completed, m.timeToVerify, m.carrierErrors)
	if bc, ok := st.(backlogCounter); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringgate_webhook_backlog",
			Help: "Webhook deliveries still to deliver (pending, due now or retrying later), all nodes together.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := bc.PendingDeliveries(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return m
}

var endStatus = map[string]verify.Status{
	verify.EventVerified: verify.StatusVerified, verify.EventExpired: verify.StatusExpired,
	verify.EventFailed: verify.StatusFailed, verify.EventCanceled: verify.StatusCanceled,
}

// observe counts a verification's end from its notice.
func (m *prodMetrics) observe(n verify.Notice) {
	st, ok := endStatus[n.Type]
	if !ok || n.Channel == "" {
		return
	}
	m.completed.WithLabelValues(string(n.Channel), string(st)).Inc()
	if st == verify.StatusVerified && !n.StartedAt.IsZero() && !n.At.IsZero() {
		m.timeToVerify.WithLabelValues(string(n.Channel)).Observe(n.At.Sub(n.StartedAt).Seconds())
	}
}

// countCarrierError is the router's observer: it counts each command a
// carrier refused or failed to take (a failover counts each carrier that
// failed), by carrier and kind (call, sms, hangup).
func (m *prodMetrics) countCarrierError(carrierName, op string, _ error) {
	m.carrierErrors.WithLabelValues(carrierName, op).Inc()
}
