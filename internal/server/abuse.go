package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// abusePolicy turns the config's abuse section into the service's policy.
func abusePolicy(c config.Abuse) (*verify.AbusePolicy, error) {
	p := &verify.AbusePolicy{
		PrefixDigits: c.PrefixDigits, DenyPrefixes: c.DenyPrefixes,
		Pumping: verify.PumpingPolicy{
			MinStarts: c.Pumping.MinStarts, MinConversion: c.Pumping.MinConversion,
			Window: c.Pumping.Window, BlockFor: c.Pumping.BlockFor,
		},
		ResendInterval: c.ResendInterval, MaxResends: c.MaxResends, DialCooldown: c.DialCooldown,
		CallsPerCaller: c.CallsPerCaller.Max, CallerWindow: c.CallsPerCaller.Window,
	}
	for _, l := range c.RateLimits {
		p.Limits = append(p.Limits, verify.RateLimit{Scope: l.Scope, Max: l.Max, WindowS: int(l.Window / time.Second)})
	}
	if err := verify.CheckRateLimits(p.Limits); err != nil {
		return nil, fmt.Errorf("config: abuse.rate_limits: %w", err)
	}
	return p, nil
}

// abuseMetrics counts what the abuse controls did.
type abuseMetrics struct {
	refused *prometheus.CounterVec
	blocks  prometheus.Counter
	risk    *prometheus.CounterVec
}

func newAbuseMetrics(reg prometheus.Registerer) *abuseMetrics {
	m := &abuseMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringgate_abuse_refused_total",
			Help: "Starts and resends refused by an abuse control, by problem code and limit scope (rate_limited:phone, prefix_blocked:, country_not_allowed:, …).",
		}, []string{"code", "scope"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringgate_fraud_prefix_blocked_total", Help: "Prefixes the SMS-pumping guard blocked.",
		}),
		risk: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringgate_risk_hook_total", Help: "Risk-hook calls that denied a start or failed (a failure is then fail-open or fail-closed per app).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.refused, m.blocks, m.risk)
	return m
}

func (m *abuseMetrics) on(kind, limit string) {
	switch kind {
	case verify.AbuseRefused:
		code, scope, _ := strings.Cut(limit, ":")
		m.refused.WithLabelValues(code, scope).Inc()
	case verify.AbuseRiskError:
		m.risk.WithLabelValues("error").Inc()
	case verify.AbuseRiskDenied:
		m.risk.WithLabelValues("denied").Inc()
	}
}

// riskClient calls apps' risk hooks: a signed POST (Standard Webhooks,
// with the app's webhook secret) through the SSRF-safe client.
type riskClient struct {
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ verify.RiskChecker = (*riskClient)(nil)

// maxRiskBody bounds what is read of a hook's answer.
const maxRiskBody = 16 << 10

func (r *riskClient) CheckRisk(ctx context.Context, app verify.App, hook verify.RiskHook, req verify.RiskRequest) (verify.RiskDecision, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	body, err := json.Marshal(struct {
		Type      string             `json:"type"`
		Timestamp time.Time          `json:"timestamp"`
		Data      verify.RiskRequest `json:"data"`
	}{"risk.check", r.now().UTC(), req})
	if err != nil {
		return verify.RiskDecision{}, err
	}
	hr, err := webhook.NewRequest(ctx, hook.URL, app.WebhookSecret, verify.NewID("risk_"), r.now(), body)
	if err != nil {
		return verify.RiskDecision{}, err
	}
	resp, err := r.client.Do(hr)
	if err != nil {
		return verify.RiskDecision{}, fmt.Errorf("risk hook: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRiskBody+1))
	if err != nil {
		return verify.RiskDecision{}, fmt.Errorf("risk hook: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return verify.RiskDecision{}, fmt.Errorf("risk hook answered %d", resp.StatusCode)
	}
	return ParseRiskDecision(b)
}

// ParseRiskDecision reads a risk hook's answer: {"decision": "allow" |
// "deny", "reason": "…"}. Anything else is an error (and the app's
// fail-open or fail-closed choice applies), never a silent allow.
func ParseRiskDecision(b []byte) (verify.RiskDecision, error) {
	if len(b) > maxRiskBody {
		return verify.RiskDecision{}, errors.New("risk hook: answer is longer than 16 KiB")
	}
	var a struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&a); err != nil {
		return verify.RiskDecision{}, fmt.Errorf("risk hook: answer is not JSON: %w", err)
	}
	if len(a.Reason) > 200 {
		a.Reason = a.Reason[:200]
	}
	switch a.Decision {
	case "allow":
		return verify.RiskDecision{Allow: true, Reason: a.Reason}, nil
	case "deny":
		return verify.RiskDecision{Reason: a.Reason}, nil
	}
	return verify.RiskDecision{}, fmt.Errorf("risk hook: decision %q is not allow or deny", a.Decision)
}

// pruneCounters deletes spent rate-limit counters now and then.
func (s *Server) pruneCounters(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := s.op.PruneCounters(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prune counters", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
