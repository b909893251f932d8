package verify

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
)

// Abuse controls (docs/abuse.md). This file is the pure half: which
// counters a start touches, window arithmetic, and the decisions. The
// counters themselves live in the store (Tx.AddCounter), written in the
// start's own transaction, so a refused start counts nothing and a restart
// or another node sees the same numbers.

// Rate-limit scopes: what a limit counts by. Every scope is also scoped to
// the app, so one tenant's traffic never uses up another's allowance.
const (
	ScopePhone   = "phone"   // the destination number
	ScopePrefix  = "prefix"  // the destination's prefix (calling code + PrefixDigits)
	ScopeCountry = "country" // the destination's country
	ScopeIP      = "ip"      // the end user's address (client_ip, else the request's)
	ScopeApp     = "app"     // every start of the app
	ScopeAPIKey  = "api_key" // every start made with one key
)

var scopes = []string{ScopePhone, ScopePrefix, ScopeCountry, ScopeIP, ScopeApp, ScopeAPIKey}

// RateLimit allows Max new verifications per Window for each value of
// Scope (each number, each prefix, …). Max 0 turns the limit off.
type RateLimit struct {
	Scope   string `json:"scope" yaml:"scope"`
	Max     int    `json:"max" yaml:"max"`
	WindowS int    `json:"window_s" yaml:"window_s"`
}

// Name is how a refusal names the limit: "phone_per_3600s".
func (l RateLimit) Name() string { return fmt.Sprintf("%s_per_%ds", l.Scope, l.WindowS) }

func (l RateLimit) window() time.Duration { return time.Duration(l.WindowS) * time.Second }

// CheckRateLimits validates limits from a config file or an app's settings.
func CheckRateLimits(ls []RateLimit) error {
	for _, l := range ls {
		switch {
		case !slices.Contains(scopes, l.Scope):
			return fmt.Errorf("rate limit scope %q is not one of %s", l.Scope, strings.Join(scopes, ", "))
		case l.Max < 0:
			return fmt.Errorf("rate limit %s: max must not be negative", l.Name())
		case l.WindowS < 1 || l.WindowS > 31*24*3600:
			return fmt.Errorf("rate limit %s: window_s must be from 1 to %d", l.Name(), 31*24*3600)
		}
	}
	return nil
}

// PumpingPolicy is the SMS-pumping guard: a prefix whose starts reach
// MinStarts within Window while the share of them verified stays below
// MinConversion is blocked for BlockFor. Pumped numbers never verify (the
// texts go to numbers the fraudster is paid per message for), while real
// users convert well above any sane threshold.
type PumpingPolicy struct {
	MinStarts     int           `yaml:"min_starts"`
	MinConversion float64       `yaml:"min_conversion"`
	Window        time.Duration `yaml:"window"`
	BlockFor      time.Duration `yaml:"block_for"`
}

// AbusePolicy is every fraud control's server-wide setting; apps may
// override rate limits and add deny prefixes in their Settings.
type AbusePolicy struct {
	// Limits are the default rate limits; an app's own limit for the same
	// scope and window replaces one of these.
	Limits []RateLimit
	// PrefixDigits is how many national digits after the calling code make
	// a prefix for ScopePrefix and the pumping guard.
	PrefixDigits int
	// DenyPrefixes are E.164 prefixes never sent to ("+882", "+4470"):
	// premium and satellite ranges that only fraud asks for.
	DenyPrefixes []string
	Pumping      PumpingPolicy
	// ResendInterval is the least time between two outbound messages or
	// calls of one verification (POST …/next); MaxResends caps them.
	ResendInterval time.Duration
	MaxResends     int
	// DialCooldown: a missed-call pool number shown to a phone is not shown
	// to the same phone again within it while the pool has another (and the
	// number its previous attempt was shown never is, pool permitting).
	DialCooldown time.Duration
	// CallsPerCaller inbound calls from one caller ID are handled per
	// CallerWindow, across every pool number and app; calls beyond are
	// refused before answer and match nothing. 0 turns the limit off.
	CallsPerCaller int
	CallerWindow   time.Duration
}

// MaxWrongNumberCallsCap is the most an app may set
// Settings.MaxWrongNumberCalls to: each wrong-number call a verification
// survives is another blind guess at its pool number.
const MaxWrongNumberCallsCap = 3

// wrongNumberCap is how many wrong-number calls end a verification of app.
func wrongNumberCap(st Settings) int {
	if st.MaxWrongNumberCalls <= 0 {
		return 1
	}
	return min(st.MaxWrongNumberCalls, MaxWrongNumberCallsCap)
}

// DefaultAbusePolicy is what a server runs with unless configured
// (config.DefaultAbuse holds the same values; a server test keeps them equal).
func DefaultAbusePolicy() AbusePolicy {
	return AbusePolicy{
		Limits: []RateLimit{
			{ScopePhone, 5, 3600}, {ScopePhone, 10, 86400},
			{ScopePrefix, 100, 3600}, {ScopeCountry, 1000, 3600},
			{ScopeIP, 100, 3600},
			{ScopeApp, 10000, 3600}, {ScopeAPIKey, 10000, 3600},
		},
		PrefixDigits:   3,
		Pumping:        PumpingPolicy{MinStarts: 50, MinConversion: 0.1, Window: time.Hour, BlockFor: time.Hour},
		ResendInterval: 10 * time.Second,
		MaxResends:     3,
		DialCooldown:   10 * time.Minute,
		CallsPerCaller: 10,
		CallerWindow:   time.Hour,
	}
}

// effectiveLimits is the defaults with the app's own limits in place of
// the defaults of the same scope and window, and the app's others added.
func effectiveLimits(defaults, own []RateLimit) []RateLimit {
	out := slices.Clone(defaults)
	for _, o := range own {
		i := slices.IndexFunc(out, func(d RateLimit) bool { return d.Scope == o.Scope && d.WindowS == o.WindowS })
		if i >= 0 {
			out[i] = o
		} else {
			out = append(out, o)
		}
	}
	return out
}

// CounterHit is one increment of a persisted counter: Key in the fixed
// window that starts at Window, kept until Expires.
type CounterHit struct {
	Key     string
	Window  time.Time
	Expires time.Time
	Delta   int64
	// Shared marks a counter that many concurrent starts add to (an
	// app's, a key's, a country's or a prefix's limit), as opposed to one
	// end user's (a phone's, an address's). The store may spread a shared
	// counter over several rows so that those starts do not queue on one
	// row lock; the value AddCounters returns is then this transaction's
	// add plus what others have committed, so a burst may pass such a
	// limit by the starts in flight at once (on PostgreSQL at most a
	// connection pool's worth per node), so only limits of SpreadMin or
	// more are marked. The limits per phone and per address, which stop
	// one victim being flooded and one client flooding, stay exact.
	Shared bool
}

// SpreadMin is the smallest limit whose counter may be spread over rows
// (CounterHit.Shared). A spread limit can be passed by the starts in flight
// when it is reached, a few dozen at most: a small part of a limit of 1,000
// or more (the defaults for app, key and country), too much of a limit of
// 10, which stays exact. A limit that small also caps the scope's starts so
// low that its row is never hot.
const SpreadMin = 1000

// sharedScope reports whether many concurrent starts count on the scope's
// one counter: all but the end user's own (phone, address).
func sharedScope(scope string) bool { return scope != ScopePhone && scope != ScopeIP }

// windowOf is the fixed window of length w that holds now: windows start at
// whole multiples of w since the Unix epoch, so every node agrees on them.
func windowOf(now time.Time, w time.Duration) (start, end time.Time) {
	ms, wm := now.UnixMilli(), w.Milliseconds()
	s := ms - ms%wm
	return time.UnixMilli(s).UTC(), time.UnixMilli(s + wm).UTC()
}

// subject is what a start is counted by.
type subject struct {
	App, Key, Phone, Country, IP string
}

func (s subject) value(scope string, prefixDigits int) string {
	switch scope {
	case ScopePhone:
		return s.Phone
	case ScopePrefix:
		return phone.Prefix(s.Phone, prefixDigits)
	case ScopeCountry:
		return s.Country
	case ScopeIP:
		return s.IP
	case ScopeApp:
		return s.App
	case ScopeAPIKey:
		return s.Key
	}
	return ""
}

// limitHit is a rate limit's counter for one subject.
type limitHit struct {
	Limit RateLimit
	Hit   CounterHit
	End   time.Time
}

// limitHits lists the counters a start of sub increments, in key order so
// that concurrent transactions lock them in the same order (no deadlock).
func limitHits(limits []RateLimit, sub subject, prefixDigits int, now time.Time, only ...string) []limitHit {
	var out []limitHit
	for _, l := range limits {
		if l.Max <= 0 || l.WindowS <= 0 || (len(only) > 0 && !slices.Contains(only, l.Scope)) {
			continue
		}
		val := sub.value(l.Scope, prefixDigits)
		if val == "" {
			continue // e.g. no address known: nothing to count by
		}
		start, end := windowOf(now, l.window())
		key := fmt.Sprintf("rl|%s|%s|%d|%s", sub.App, l.Scope, l.WindowS, val)
		out = append(out, limitHit{Limit: l, End: end, Hit: CounterHit{Key: key, Window: start, Expires: end, Delta: 1, Shared: sharedScope(l.Scope) && l.Max >= SpreadMin}})
	}
	slices.SortFunc(out, func(a, b limitHit) int { return strings.Compare(a.Hit.Key, b.Hit.Key) })
	return out
}

// RateLimited is the error of a start or resend refused by a limit.
func rateLimited(name string, retry time.Duration, format string, args ...any) *Error {
	e := Errorf(CodeRateLimited, format, args...)
	e.Limit, e.RetryAfter = name, max(time.Second, retry)
	return e
}

// pumpingKeys are the started and verified counters of prefix in the
// window holding now and the one before, which together are the guard's
// sliding view (a burst just after a window boundary is still seen).
func pumpingKeys(app, prefix string, w time.Duration, now time.Time) (started, verified string, cur, prev time.Time, end time.Time) {
	cur, end = windowOf(now, w)
	prev = cur.Add(-w)
	base := "pump|" + app + "|" + prefix + "|"
	return base + "started", base + "verified", cur, prev, end
}

// Pumping reports whether a prefix with started starts and verified
// verifications looks pumped under p.
func (p PumpingPolicy) Pumping(started, verified int64) bool {
	if p.MinStarts <= 0 || started < int64(p.MinStarts) {
		return false
	}
	return float64(verified) < p.MinConversion*float64(started)
}

// deniedPrefix returns the first of prefixes that e164 starts with.
func deniedPrefix(e164 string, lists ...[]string) (string, bool) {
	for _, l := range lists {
		for _, p := range l {
			if p != "" && strings.HasPrefix(e164, p) {
				return p, true
			}
		}
	}
	return "", false
}

// CheckPrefixes validates deny prefixes: "+" and 1 to 15 digits.
func CheckPrefixes(ps []string) error {
	for _, p := range ps {
		if len(p) < 2 || len(p) > 16 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
			return fmt.Errorf("prefix %q must be + and 1 to 15 digits", p)
		}
	}
	return nil
}

// countryAllowed applies an app's geo permissions: allowed maps a channel
// (or "*" for channels not listed) to the countries it may reach; no entry
// for either means every country.
func countryAllowed(allowed map[string][]string, ch Channel, country string) bool {
	list, ok := allowed[string(ch)]
	if !ok {
		list, ok = allowed[AnyCountry]
	}
	return !ok || slices.Contains(list, country) || slices.Contains(list, AnyCountry)
}

// CheckAllowedCountries validates and normalises geo permissions.
func CheckAllowedCountries(m map[string][]string) error {
	for ch, list := range m {
		if ch != AnyCountry && !Channel(ch).Known() {
			return fmt.Errorf("allowed_countries: %q is not a channel (or %q for all)", ch, AnyCountry)
		}
		for i, c := range list {
			c = strings.ToUpper(strings.TrimSpace(c))
			if c != AnyCountry && !phone.ValidCountry(c) {
				return fmt.Errorf("allowed_countries[%s]: unknown country %q (ISO 3166-1 alpha-2)", ch, list[i])
			}
			list[i] = c
		}
	}
	return nil
}

// pickDialNumber chooses a missed-call number from pool, avoiding those in
// recent (shown to the same phone within the cool-down) while another is
// free. draw picks an index uniformly.
//
// Why: a call is matched by (caller ID, dialled number). If a phone were
// shown the same number twice in a row, a late or replayed call from its
// previous attempt, or someone who saw the last number and spoofs the
// caller ID, would verify the new attempt. Rotating the number per attempt
// (what commercial missed-call and flash-call providers do with their
// number pools) makes every attempt need a number only its own session was
// shown.
//
// last is the number the phone's previous attempt was shown, however long
// ago: it is never shown again while the pool has another, even when every
// number is in the cool-down (a pool smaller than the starts a phone may
// make within it), so two attempts in a row never share a number.
func pickDialNumber(pool []Number, recent []string, last string, draw func(n int) int) Number {
	var fresh, notLast []Number
	for _, n := range pool {
		if n.Number != last {
			notLast = append(notLast, n)
			if !slices.Contains(recent, n.Number) {
				fresh = append(fresh, n)
			}
		}
	}
	switch {
	case len(fresh) > 0:
	case len(notLast) > 0:
		fresh = notLast // every number is in the cool-down: avoid the last one
	default:
		fresh = pool // a pool of one: nothing to rotate to
	}
	return fresh[draw(len(fresh))]
}

// PoolTooSmall reports whether a pool of n numbers is too small for the
// per-phone limits: a phone may start more missed calls within the dial
// cool-down than the pool has numbers (so rotation must re-show one), or
// the pool cannot rotate at all. need is the size that would do.
func (p AbusePolicy) PoolTooSmall(n int) (need int, small bool) {
	need = math.MaxInt
	for _, l := range p.Limits {
		if l.Scope == ScopePhone && l.Max > 0 && l.WindowS > 0 {
			need = min(need, perCooldown(l, p.DialCooldown))
		}
	}
	if need == math.MaxInt {
		need = 2 // no per-phone limit: at least rotate
	}
	need = max(need, 2)
	return need, n < need
}

// perCooldown bounds the starts limit l allows within cooldown: Max per
// window, and at most twice Max across a fixed window's boundary.
func perCooldown(l RateLimit, cooldown time.Duration) int {
	if cooldown <= 0 {
		return 1
	}
	w := l.window()
	if w >= cooldown {
		return l.Max
	}
	return l.Max * int((cooldown+w-1)/w)
}

// RetryAfterSeconds rounds a wait up to whole seconds for a Retry-After
// header: at least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
