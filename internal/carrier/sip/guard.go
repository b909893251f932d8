package sip

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Online guessing of the trunk's digest password. A peer that answers the
// challenge right is believed about the caller (P-Asserted-Identity or
// From), so whoever guesses the password can verify any number. Each wrong
// digest is one guess; guessGuard bounds them, as fail2ban or Kamailio's
// pike do in front of other SIP servers:
//
//   - per source: guessBurst wrong digests, then one per guessEvery. A
//     source past its budget is not heard at all (403 without checking the
//     digest), so its right guess then gains nothing either;
//   - in all: globalGuessBurst, then one per globalGuessEvery, against many
//     sources guessing together. While that budget is spent, only sources
//     that authenticated in the last provenFor are heard: the trunk that
//     was working keeps working through the attack, a new source waits.
//
// Wrong digests in a victim's name cannot spend its budget: a nonce is
// good only from the source it was sent to (Carrier.nonce), and an
// off-path attacker forging the victim's UDP source never sees the
// victim's nonces.
const (
	guessBurst       = 10
	guessEvery       = time.Minute
	globalGuessBurst = 100
	globalGuessEvery = 6 * time.Second // 10 a minute
	provenFor        = 24 * time.Hour
	maxProven        = 1024
	// minPassword is the length below which Start warns: the budgets
	// above still allow about 15,000 guesses a day.
	minPassword = 16
)

type guessGuard struct {
	perSource *sourceLimiter
	all       *rate.Limiter

	mu     sync.Mutex
	proven map[netip.Addr]time.Time // source → when it last authenticated
}

func newGuessGuard() guessGuard {
	return guessGuard{
		perSource: &sourceLimiter{rate: rate.Every(guessEvery), burst: guessBurst},
		all:       rate.NewLimiter(rate.Every(globalGuessEvery), globalGuessBurst),
		proven:    map[netip.Addr]time.Time{},
	}
}

// mayTry reports whether src's digest is checked at all.
func (g *guessGuard) mayTry(src netip.Addr, now time.Time) bool {
	if !g.perSource.has(src, now) {
		return false
	}
	return g.all.TokensAt(now) >= 1 || g.isProven(src, now)
}

// failed spends one guess of src's and one of the global budget.
func (g *guessGuard) failed(src netip.Addr, now time.Time) {
	g.perSource.allow(src, now)
	g.all.AllowN(now, 1)
}

// succeeded remembers src as a source that knows the password.
func (g *guessGuard) succeeded(src netip.Addr, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.proven[src]; !ok && len(g.proven) >= maxProven {
		oldest, at := netip.Addr{}, now
		for k, t := range g.proven {
			if t.Before(at) {
				oldest, at = k, t
			}
		}
		delete(g.proven, oldest)
	}
	g.proven[src] = now
}

func (g *guessGuard) isProven(src netip.Addr, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.proven[src]
	return ok && now.Sub(t) < provenFor
}
