package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Abuse configures the fraud controls (docs/abuse.md): rate limits, the
// deny list, the SMS-pumping guard, resend limits, pool-number rotation
// and the risk hook's timeout. Apps may override limits and add to the
// deny list in their settings.
type Abuse struct {
	// RateLimits are the server's limits on new verifications; an app's
	// limit of the same scope and window replaces one. Setting the list in
	// a file replaces the whole default list.
	RateLimits []RateLimit `yaml:"rate_limits"`
	// PrefixDigits: national digits after the calling code that make a
	// number's prefix (the prefix limit and the pumping guard).
	PrefixDigits int `yaml:"prefix_digits"`
	// DenyPrefixes are E.164 prefixes never sent to (premium, satellite).
	DenyPrefixes []string `yaml:"deny_prefixes"`
	// TrustedProxies are CIDRs of reverse proxies whose X-Forwarded-For is
	// believed; only the right-most hop that is not one of them counts.
	TrustedProxies []string `yaml:"trusted_proxies"`
	Pumping        Pumping  `yaml:"pumping"`
	// ResendInterval is the least time between two texts or calls of one
	// verification (POST …/next); MaxResends caps the moves.
	ResendInterval time.Duration `yaml:"resend_interval"`
	MaxResends     int           `yaml:"max_resends"`
	// DialCooldown: a missed-call number shown to a phone is not shown to
	// it again within this while the pool has another.
	DialCooldown time.Duration `yaml:"dial_cooldown"`
	// RiskTimeout bounds one call of an app's risk hook.
	RiskTimeout time.Duration `yaml:"risk_timeout"`
	// CallsPerCaller limits inbound calls from one caller ID, across every
	// pool number and app: calls beyond Max per Window are refused before
	// answer and verify nothing. Max 0 turns it off.
	CallsPerCaller CallerLimit `yaml:"calls_per_caller"`
}

// CallerLimit is abuse.calls_per_caller.
type CallerLimit struct {
	Max    int           `yaml:"max"`
	Window time.Duration `yaml:"window"`
}

// RateLimit allows Max new verifications per Window for each value of
// Scope: phone, prefix, country, ip, app or api_key. Max 0 turns it off.
type RateLimit struct {
	Scope  string        `yaml:"scope"`
	Max    int           `yaml:"max"`
	Window time.Duration `yaml:"window"`
}

// Pumping is the SMS-pumping guard: a prefix with at least MinStarts
// outbound starts in Window (and the window before) of which fewer than
// MinConversion verified is blocked for BlockFor. MinStarts 0 turns it off.
type Pumping struct {
	MinStarts     int           `yaml:"min_starts"`
	MinConversion float64       `yaml:"min_conversion"`
	Window        time.Duration `yaml:"window"`
	BlockFor      time.Duration `yaml:"block_for"`
}

// DefaultAbuse is the abuse configuration before file and environment.
func DefaultAbuse() Abuse {
	return Abuse{
		RateLimits: []RateLimit{
			{"phone", 5, time.Hour}, {"phone", 10, 24 * time.Hour},
			{"prefix", 100, time.Hour}, {"country", 1000, time.Hour},
			{"ip", 100, time.Hour},
			{"app", 10000, time.Hour}, {"api_key", 10000, time.Hour},
		},
		PrefixDigits:   3,
		Pumping:        Pumping{MinStarts: 50, MinConversion: 0.1, Window: time.Hour, BlockFor: time.Hour},
		ResendInterval: 10 * time.Second,
		MaxResends:     3,
		DialCooldown:   10 * time.Minute,
		RiskTimeout:    2 * time.Second,
		CallsPerCaller: CallerLimit{Max: 10, Window: time.Hour},
	}
}

// Proxies parses TrustedProxies.
func (a Abuse) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range a.TrustedProxies {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			a, aerr := netip.ParseAddr(strings.TrimSpace(s))
			if aerr != nil {
				return nil, fmt.Errorf("abuse.trusted_proxies: %q is not a CIDR prefix or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (a Abuse) validate() []error {
	var errs []error
	for _, l := range a.RateLimits {
		switch l.Scope {
		case "phone", "prefix", "country", "ip", "app", "api_key":
		default:
			errs = append(errs, fmt.Errorf("abuse.rate_limits: scope %q is not phone, prefix, country, ip, app or api_key", l.Scope))
		}
		if l.Max < 0 || l.Window < time.Second || l.Window%time.Second != 0 {
			errs = append(errs, fmt.Errorf("abuse.rate_limits: %s: max must be ≥ 0 and window whole seconds ≥ 1s", l.Scope))
		}
	}
	if a.PrefixDigits < 0 || a.PrefixDigits > 8 {
		errs = append(errs, errors.New("abuse.prefix_digits must be from 0 to 8"))
	}
	for _, p := range a.DenyPrefixes {
		if len(p) < 2 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
			errs = append(errs, fmt.Errorf("abuse.deny_prefixes: %q is not + and digits", p))
		}
	}
	if _, err := a.Proxies(); err != nil {
		errs = append(errs, err)
	}
	p := a.Pumping
	if p.MinStarts < 0 || p.MinConversion < 0 || p.MinConversion > 1 || (p.MinStarts > 0 && (p.Window <= 0 || p.BlockFor <= 0)) {
		errs = append(errs, errors.New("abuse.pumping: min_starts ≥ 0, min_conversion from 0 to 1, and window and block_for positive"))
	}
	if a.ResendInterval < 0 || a.MaxResends < 0 || a.DialCooldown < 0 || a.RiskTimeout <= 0 {
		errs = append(errs, errors.New("abuse: resend_interval, max_resends and dial_cooldown must not be negative, risk_timeout must be positive"))
	}
	if c := a.CallsPerCaller; c.Max < 0 || (c.Max > 0 && (c.Window < time.Second || c.Window%time.Second != 0)) {
		errs = append(errs, errors.New("abuse.calls_per_caller: max must be ≥ 0 and window whole seconds ≥ 1s"))
	}
	return errs
}
