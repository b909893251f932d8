package httpcarrier

import (
	"sync"
	"time"
)

// Ledger remembers ids a carrier may send only once (Plivo's signature
// nonces, the jti of Vonage's webhook tokens) for as long as a captured
// request carrying them would otherwise be accepted, so that a replay
// inside that window is refused. It is bounded: at most Max ids are held;
// an id whose window has passed is forgotten, and when the ledger is full
// of live ids a new one is refused (Seen reports it as seen), so a replay
// can never slip in by evicting its original. Safe for concurrent use.
//
// The ledger is in memory, per process: on several nodes behind a load
// balancer a replay sent to another node than the original is not caught
// here (docs/carriers.md says what else stops it).
type Ledger struct {
	// Max bounds the ids held; 0 is DefaultLedgerMax.
	Max int

	mu   sync.Mutex
	ids  map[string]time.Time // id → when it may be forgotten
	ring []ledgerEntry        // ids in the order they were added
	head int                  // ring[head:] are not yet checked for expiry
}

type ledgerEntry struct {
	id    string
	until time.Time
}

// DefaultLedgerMax is the ids a Ledger holds by default: a minute of a
// thousand webhooks a second, far above what one account sends.
const DefaultLedgerMax = 100_000

// Seen records id as seen until until, and reports whether it had been
// seen before (or cannot be recorded because the ledger is full). An
// empty id is always "seen": the caller asked for a once-only id and got
// none.
func (l *Ledger) Seen(id string, now, until time.Time) bool {
	if id == "" {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = map[string]time.Time{}
	}
	// Forget what has expired, oldest first (ids are added with windows
	// of the same length per carrier, so the ring is close to expiry order).
	for l.head < len(l.ring) && !l.ring[l.head].until.After(now) {
		e := l.ring[l.head]
		if u, ok := l.ids[e.id]; ok && !u.After(now) {
			delete(l.ids, e.id)
		}
		l.ring[l.head] = ledgerEntry{}
		l.head++
	}
	if l.head > len(l.ring)/2 && l.head > 1024 {
		l.ring = append(l.ring[:0:0], l.ring[l.head:]...)
		l.head = 0
	}
	if u, ok := l.ids[id]; ok && u.After(now) {
		return true
	}
	max := l.Max
	if max <= 0 {
		max = DefaultLedgerMax
	}
	if len(l.ids) >= max {
		return true
	}
	l.ids[id] = until
	l.ring = append(l.ring, ledgerEntry{id: id, until: until})
	return false
}

// Forget drops id (a request that could not be handled releases its
// once-only id, so that the provider's retry of it is accepted).
func (l *Ledger) Forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ids, id)
}

// Len is how many ids the ledger holds.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

// PlusDigits writes a number that Vonage or Plivo sent in E.164 without
// its '+' ("447700900123", as both document their webhooks) as E.164:
// all digits, 8 to 15 of them, not starting with 0, get the '+'. Anything
// else (already E.164, a national number with a trunk 0, a short code, a
// name) is returned as it came, for the handler to read with the
// carrier's country.
func PlusDigits(n string) string {
	if len(n) < 8 || len(n) > 15 || n[0] == '0' {
		return n
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return n
		}
	}
	return "+" + n
}
