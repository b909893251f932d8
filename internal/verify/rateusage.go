package verify

import (
	"context"
	"sync"
	"time"
)

// RateUse is one rate limit a request was counted against: its name
// ("phone_per_3600s"), its maximum and window, how many the window has
// left, and when it resets.
type RateUse struct {
	Name      string
	Max       int
	Window    time.Duration
	Remaining int
	Reset     time.Duration
}

// RateUsage collects the rate limits a start or resend counted, for the
// API to report as RateLimit-* headers on its success. The caller asks
// for it with WithRateUsage; the service fills it in the transaction that
// counts (a transaction run again replaces what an earlier run set).
type RateUsage struct {
	mu   sync.Mutex
	uses []RateUse
}

// Uses returns what was counted (nil when no limit applied).
func (u *RateUsage) Uses() []RateUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]RateUse(nil), u.uses...)
}

func (u *RateUsage) set(uses []RateUse) {
	u.mu.Lock()
	u.uses = uses
	u.mu.Unlock()
}

type rateUsageKey struct{}

// WithRateUsage returns a context whose start or resend records the rate
// limits it counted into the returned RateUsage.
func WithRateUsage(ctx context.Context) (context.Context, *RateUsage) {
	u := &RateUsage{}
	return context.WithValue(ctx, rateUsageKey{}, u), u
}

func rateUsageOf(ctx context.Context) *RateUsage {
	u, _ := ctx.Value(rateUsageKey{}).(*RateUsage)
	return u
}
