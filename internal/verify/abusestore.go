package verify

import (
	"context"
	"time"
)

// AbuseReader is the store's half of the abuse controls that reads.
type AbuseReader interface {
	// Counter is the value of counter key in the window starting at
	// window; 0 when it was never counted.
	Counter(ctx context.Context, key string, window time.Time) (int64, error)
	// PrefixBlock finds an app's block of prefix, lapsed or not.
	PrefixBlock(ctx context.Context, appID, prefix string) (PrefixBlock, error)
	// PrefixBlocks lists an app's blocks still in force at now, newest first.
	PrefixBlocks(ctx context.Context, appID string, now time.Time) ([]PrefixBlock, error)
	// RecentDialNumbers lists the missed-call numbers the app showed phone
	// on verifications created at or after since, each once, the most
	// recently shown first.
	RecentDialNumbers(ctx context.Context, appID, phone string, since time.Time) ([]string, error)
	// DialChoices is PoolNumbers(appID, country) and
	// RecentDialNumbers(appID, phone, since) together, in one round trip
	// where the store can.
	DialChoices(ctx context.Context, appID, country, phone string, since time.Time) (pool []Number, recent []string, err error)
	// UnmatchedCallers counts, per caller, the inbound calls received at or
	// after since that verified nothing (no_match, wrong_number, rate_limited), most
	// first, at most limit callers.
	UnmatchedCallers(ctx context.Context, since time.Time, limit int) ([]CallerStat, error)
}

// AbuseTx is the store's half of the abuse controls that writes.
type AbuseTx interface {
	// AddCounter adds h.Delta to counter (h.Key, h.Window), creating it
	// with h.Expires, and returns the new value. Concurrent transactions
	// adding to the same counter serialise on it: neither loses a count.
	AddCounter(ctx context.Context, h CounterHit) (int64, error)
	// AddCounters is AddCounter for several counters in one statement; it
	// returns their new values in the order of hs. A (Key, Window) given
	// twice is added to twice.
	AddCounters(ctx context.Context, hs []CounterHit) ([]int64, error)
	// AddCountersDialChoices is AddCounters(hs) and DialChoices(appID,
	// country, phone, since) together, in one round trip where the store
	// can: a missed-call start counts, then draws its number.
	AddCountersDialChoices(ctx context.Context, hs []CounterHit, appID, country, phone string, since time.Time) (ns []int64, pool []Number, recent []string, err error)
	// PruneCounters deletes counters whose Expires is before now, and says
	// how many.
	PruneCounters(ctx context.Context, now time.Time) (int64, error)
	// PutPrefixBlock creates or replaces the app's block of b.Prefix.
	PutPrefixBlock(ctx context.Context, b PrefixBlock) error
	// DeletePrefixBlock removes a block; ErrNotFound if there is none.
	DeletePrefixBlock(ctx context.Context, appID, prefix string) error
}

// PrefixBlock is a number prefix the SMS-pumping guard (or an operator)
// stopped sending to, until Until.
type PrefixBlock struct {
	AppID     string
	Prefix    string
	Reason    string
	Started   int64 // starts seen when it was blocked
	Verified  int64 // of which verified
	BlockedAt time.Time
	Until     time.Time
}

// CallerStat is how often one caller ID called and matched nothing.
type CallerStat struct {
	From  string
	Calls int64
	Last  time.Time
}
