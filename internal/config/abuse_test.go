package config

import (
	"strings"
	"testing"
	"time"
)

// An abuse section in a file replaces the default limits whole and keeps
// the other defaults.
func TestAbuseFromFile(t *testing.T) {
	p := write(t, `secret: "`+strings.Repeat("ab", 32)+`"
database: {url: "sqlite:/tmp/x.db"}
abuse:
  rate_limits:
    - {scope: phone, max: 3, window: 10m}
  deny_prefixes: ["+882"]
  trusted_proxies: [10.0.0.0/8, 192.0.2.1]
  pumping: {min_starts: 20, min_conversion: 0.2, window: 30m, block_for: 2h}
  calls_per_caller: {max: 4, window: 15m}
`)
	c, err := Load(ModeServe, p, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a := c.Abuse
	if len(a.RateLimits) != 1 || a.RateLimits[0] != (RateLimit{"phone", 3, 10 * time.Minute}) {
		t.Fatalf("rate limits %v", a.RateLimits)
	}
	if a.CallsPerCaller != (CallerLimit{Max: 4, Window: 15 * time.Minute}) {
		t.Fatalf("calls_per_caller %+v", a.CallsPerCaller)
	}
	if a.Pumping.MinStarts != 20 || a.Pumping.BlockFor != 2*time.Hour || a.ResendInterval != 10*time.Second || a.RiskTimeout != 2*time.Second {
		t.Fatalf("abuse %+v", a)
	}
	ps, err := a.Proxies()
	if err != nil || len(ps) != 2 || ps[1].String() != "192.0.2.1/32" {
		t.Fatalf("proxies %v %v", ps, err)
	}
}

func TestAbuseValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(a *Abuse)
		want string
	}{
		{"scope", func(a *Abuse) { a.RateLimits = []RateLimit{{"planet", 1, time.Hour}} }, "scope"},
		{"window", func(a *Abuse) { a.RateLimits = []RateLimit{{"phone", 1, 1500 * time.Millisecond}} }, "window"},
		{"deny", func(a *Abuse) { a.DenyPrefixes = []string{"882"} }, "deny_prefixes"},
		{"proxy", func(a *Abuse) { a.TrustedProxies = []string{"not-a-net"} }, "trusted_proxies"},
		{"conversion", func(a *Abuse) { a.Pumping.MinConversion = 2 }, "pumping"},
		{"risk", func(a *Abuse) { a.RiskTimeout = 0 }, "risk_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults(ModeDev)
			tc.mut(&c.Abuse)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %s", err, tc.want)
			}
		})
	}
	c := Defaults(ModeDev)
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
