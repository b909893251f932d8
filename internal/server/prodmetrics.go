package server

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier"
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

// countErrors wraps each sender so that its refusals are counted.
func countErrors(senders []carrier.Sender, errs *prometheus.CounterVec) []carrier.Sender {
	out := make([]carrier.Sender, len(senders))
	for i, s := range senders {
		out[i] = errorCounting{Sender: s, errs: errs}
	}
	return out
}

var _ carrier.CallEnder = errorCounting{}

type errorCounting struct {
	carrier.Sender
	errs *prometheus.CounterVec
}

func (e errorCounting) PlaceCall(ctx context.Context, c carrier.Call) (string, error) {
	ref, err := e.Sender.PlaceCall(ctx, c)
	if err != nil && ctx.Err() == nil {
		e.errs.WithLabelValues(e.Name(), "call").Inc()
	}
	return ref, err
}

// EndCall passes the hang-up of a call whose step is over to the sender,
// which the router asks for through carrier.CallEnder: the wrapper must not
// hide it, or a superseded call rings on.
func (e errorCounting) EndCall(ctx context.Context, c carrier.CallEnd) error {
	ender, ok := e.Sender.(carrier.CallEnder)
	if !ok {
		return &carrier.Error{Carrier: e.Name(), Code: "unsupported", Err: fmt.Errorf("carrier %q cannot end calls", e.Name())}
	}
	err := ender.EndCall(ctx, c)
	if err != nil && ctx.Err() == nil {
		e.errs.WithLabelValues(e.Name(), "hangup").Inc()
	}
	return err
}

func (e errorCounting) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	ref, err := e.Sender.SendSMS(ctx, m)
	if err != nil && ctx.Err() == nil {
		e.errs.WithLabelValues(e.Name(), "sms").Inc()
	}
	return ref, err
}
