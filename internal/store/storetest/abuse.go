package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// AbuseTests are the conformance tests of the abuse controls' methods
// (counters, prefix blocks, recent dial numbers, unmatched callers).
var abuseTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"Counters", testCounters},
	{"CountersConcurrent", testCountersConcurrent},
	{"SharedCounters", testSharedCounters},
	{"AddCounters", testAddCounters},
	{"PrefixBlocks", testPrefixBlocks},
	{"RecentDialNumbers", testRecentDialNumbers},
	{"UnmatchedCallers", testUnmatchedCallers},
}

func addCounter(t *testing.T, s Store, h verify.CounterHit) int64 {
	t.Helper()
	var n int64
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		n, err = tx.AddCounter(ctx(t), h)
		return err
	})
	return n
}

func testCounters(t *testing.T, s Store) {
	w1, w2 := t0.Truncate(time.Hour), t0.Truncate(time.Hour).Add(time.Hour)
	h := verify.CounterHit{Key: "rl|app|phone|3600|+447700900001", Window: w1, Expires: w2, Delta: 1}
	n, err := s.Counter(ctx(t), h.Key, w1)
	check(t, err, "Counter of nothing")
	equal(t, n, int64(0), "a counter never written")
	for want := int64(1); want <= 3; want++ {
		equal(t, addCounter(t, s, h), want, "AddCounter")
	}
	h.Delta = 5
	equal(t, addCounter(t, s, h), int64(8), "AddCounter by 5")
	other := h
	other.Window, other.Expires, other.Delta = w2, w2.Add(time.Hour), 1
	equal(t, addCounter(t, s, other), int64(1), "the next window starts again")
	n, _ = s.Counter(ctx(t), h.Key, w1)
	equal(t, n, int64(8), "Counter of the first window")

	// A rolled-back transaction counts nothing.
	_ = s.Tx(ctx(t), func(tx verify.Tx) error {
		if _, err := tx.AddCounter(ctx(t), h); err != nil {
			return err
		}
		return verify.ErrConflict
	})
	n, _ = s.Counter(ctx(t), h.Key, w1)
	equal(t, n, int64(8), "after a rollback")

	var pruned int64
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		pruned, err = tx.PruneCounters(ctx(t), w2.Add(time.Millisecond))
		return err
	})
	equal(t, pruned, int64(1), "PruneCounters deletes only expired windows")
	n, _ = s.Counter(ctx(t), h.Key, w1)
	equal(t, n, int64(0), "a pruned counter")
	n, _ = s.Counter(ctx(t), h.Key, w2)
	equal(t, n, int64(1), "the live window survives pruning")
}

// Parallel transactions adding to one counter lose no count: the store's
// promise that lets several nodes share one limit.
func testCountersConcurrent(t *testing.T, s Store) {
	h := verify.CounterHit{Key: "rl|app|app|3600|app", Window: t0, Expires: at(time.Hour), Delta: 1}
	const n = 40
	errs := parallel(n, func(int) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error {
			_, err := tx.AddCounter(ctx(t), h)
			return err
		})
	})
	for _, err := range errs {
		check(t, err, "parallel AddCounter")
	}
	got, err := s.Counter(ctx(t), h.Key, t0)
	check(t, err, "Counter")
	equal(t, got, int64(n), "count after parallel adds")
}

// A shared counter (an app-wide limit) may be spread over rows, but its
// value is still every committed add: one after another each add sees all
// before it, and parallel adds lose none.
func testSharedCounters(t *testing.T, s Store) {
	h := verify.CounterHit{Key: "rl|app|app|3600|shared", Window: t0, Expires: at(time.Hour), Delta: 1, Shared: true}
	for want := int64(1); want <= 20; want++ {
		equal(t, addCounter(t, s, h), want, "AddCounter of a shared counter")
	}
	const n = 40
	errs := parallel(n, func(int) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error {
			_, err := tx.AddCounters(ctx(t), []verify.CounterHit{h, {Key: "rl|app|phone|3600|+447700900009", Window: t0, Expires: at(time.Hour), Delta: 1}})
			return err
		})
	})
	for _, err := range errs {
		check(t, err, "parallel AddCounters")
	}
	got, err := s.Counter(ctx(t), h.Key, t0)
	check(t, err, "Counter")
	equal(t, got, int64(20+n), "shared count after parallel adds")
	equal(t, addCounter(t, s, h), int64(20+n+1), "the next add sees every committed one")
	got, _ = s.Counter(ctx(t), "rl|app|phone|3600|+447700900009", t0)
	equal(t, got, int64(n), "the exact counter beside it")
}

func testPrefixBlocks(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	b := verify.PrefixBlock{AppID: "app_a", Prefix: "+88212", Reason: "pumping", Started: 60, Verified: 1, BlockedAt: t0, Until: at(time.Hour)}
	_, err := s.PrefixBlock(ctx(t), "app_a", "+88212")
	wantErr(t, err, verify.ErrNotFound, "PrefixBlock before any")
	mustTx(t, s, func(tx verify.Tx) error { return tx.PutPrefixBlock(ctx(t), b) })
	got, err := s.PrefixBlock(ctx(t), "app_a", "+88212")
	check(t, err, "PrefixBlock")
	equal(t, got, b, "PrefixBlock round trip")
	_, err = s.PrefixBlock(ctx(t), "app_b", "+88212")
	wantErr(t, err, verify.ErrNotFound, "another app's block")

	b2 := b
	b2.Started, b2.Until = 90, at(2*time.Hour)
	mustTx(t, s, func(tx verify.Tx) error { return tx.PutPrefixBlock(ctx(t), b2) })
	got, _ = s.PrefixBlock(ctx(t), "app_a", "+88212")
	equal(t, got, b2, "PutPrefixBlock replaces")

	lapsed := verify.PrefixBlock{AppID: "app_a", Prefix: "+44791", Reason: "x", BlockedAt: at(-2 * time.Hour), Until: at(-time.Hour)}
	mustTx(t, s, func(tx verify.Tx) error { return tx.PutPrefixBlock(ctx(t), lapsed) })
	list, err := s.PrefixBlocks(ctx(t), "app_a", t0)
	check(t, err, "PrefixBlocks")
	equal(t, ids(list, func(b verify.PrefixBlock) string { return b.Prefix }), []string{"+88212"}, "blocks in force")

	mustTx(t, s, func(tx verify.Tx) error { return tx.DeletePrefixBlock(ctx(t), "app_a", "+88212") })
	_, err = s.PrefixBlock(ctx(t), "app_a", "+88212")
	wantErr(t, err, verify.ErrNotFound, "after DeletePrefixBlock")
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.DeletePrefixBlock(ctx(t), "app_a", "+88212") })
	wantErr(t, err, verify.ErrNotFound, "DeletePrefixBlock twice")
}

func testRecentDialNumbers(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	old := ended(newVerification("vf_1", "app_a", "+447700900001"), verify.StatusExpired)
	old.DialNumber, old.CreatedAt = "+442079460001", at(-time.Hour)
	recent := ended(newVerification("vf_2", "app_a", "+447700900001"), verify.StatusExpired)
	recent.DialNumber, recent.CreatedAt = "+442079460002", at(-time.Minute)
	sms := ended(newVerification("vf_3", "app_a", "+447700900001"), verify.StatusExpired)
	sms.DialNumber, sms.Channel = "", verify.ChannelSMSOTP
	otherApp := newVerification("vf_4", "app_b", "+447700900001")
	otherApp.DialNumber = "+442079460004"
	otherPhone := newVerification("vf_5", "app_a", "+447700900002")
	otherPhone.DialNumber = "+442079460005"
	insertVerifications(t, s, old, recent, sms, otherApp, otherPhone)
	got, err := s.RecentDialNumbers(ctx(t), "app_a", "+447700900001", at(-10*time.Minute))
	check(t, err, "RecentDialNumbers")
	equal(t, got, []string{"+442079460002"}, "numbers shown to the phone in the window")
	// Most recently shown first, each once: the first is the number the
	// phone's previous attempt was shown.
	again := ended(newVerification("vf_6", "app_a", "+447700900001"), verify.StatusExpired)
	again.DialNumber, again.CreatedAt = "+442079460001", at(-30*time.Second)
	insertVerifications(t, s, again)
	got, err = s.RecentDialNumbers(ctx(t), "app_a", "+447700900001", time.UnixMilli(0))
	check(t, err, "RecentDialNumbers since the epoch")
	equal(t, got, []string{"+442079460001", "+442079460002"}, "numbers shown to the phone, most recent first")

	// DialChoices is PoolNumbers and RecentDialNumbers together, in and
	// out of a transaction, and in a transaction after a held write.
	for _, n := range []verify.Number{
		{AppID: "app_a", Number: "+442079460002", Country: "GB", CreatedAt: t0},
		{AppID: "app_a", Number: "+442079460001", Country: "GB", CreatedAt: t0},
		{AppID: "app_a", Number: "+12025550100", Country: verify.AnyCountry, CreatedAt: t0},
	} {
		mustTx(t, s, func(tx verify.Tx) error { return tx.InsertNumber(ctx(t), n) })
	}
	dial := func(r interface {
		DialChoices(context.Context, string, string, string, time.Time) ([]verify.Number, []string, error)
	}, what string) {
		for _, c := range []struct {
			country string
			since   time.Time
		}{{"GB", at(-10 * time.Minute)}, {"FR", time.UnixMilli(0)}} {
			pool, recent, err := r.DialChoices(ctx(t), "app_a", c.country, "+447700900001", c.since)
			check(t, err, what)
			wantPool, err := s.PoolNumbers(ctx(t), "app_a", c.country)
			check(t, err, "PoolNumbers")
			wantRecent, err := s.RecentDialNumbers(ctx(t), "app_a", "+447700900001", c.since)
			check(t, err, "RecentDialNumbers")
			equal(t, pool, wantPool, what+": pool for "+c.country)
			equal(t, recent, wantRecent, what+": recent numbers since "+c.since.String())
		}
	}
	dial(s, "DialChoices")
	mustTx(t, s, func(tx verify.Tx) error {
		dial(tx, "DialChoices in a transaction")
		check(t, tx.Deferred().InsertApp(ctx(t), newApp("app_c")), "deferred InsertApp")
		dial(tx, "DialChoices after a held write")
		_, err := tx.App(ctx(t), "app_c")
		check(t, err, "App written before DialChoices")

		// With the counters: AddCounters and DialChoices.
		hits := []verify.CounterHit{
			{Key: "dial|a", Window: t0, Expires: at(time.Hour), Delta: 1},
			{Key: "dial|b", Window: t0, Expires: at(time.Hour), Delta: 2, Shared: true},
			{Key: "dial|a", Window: t0, Expires: at(time.Hour), Delta: 1},
		}
		for round, want := range [][]int64{{2, 2, 2}, {4, 4, 4}} {
			check(t, tx.Deferred().InsertApp(ctx(t), newApp(fmt.Sprint("app_d", round))), "deferred InsertApp")
			ns, pool, recent, err := tx.AddCountersDialChoices(ctx(t), hits, "app_a", "GB", "+447700900001", at(-10*time.Minute))
			check(t, err, "AddCountersDialChoices")
			equal(t, ns, want, fmt.Sprint("AddCountersDialChoices counts, round ", round))
			wantPool, wantRecent, err := tx.DialChoices(ctx(t), "app_a", "GB", "+447700900001", at(-10*time.Minute))
			check(t, err, "DialChoices")
			equal(t, pool, wantPool, "AddCountersDialChoices pool")
			equal(t, recent, wantRecent, "AddCountersDialChoices recent numbers")
		}
		n, err := tx.Counter(ctx(t), "dial|b", t0)
		check(t, err, "Counter")
		equal(t, n, int64(4), "counter added to by AddCountersDialChoices")
		_, pool, _, err := tx.AddCountersDialChoices(ctx(t), nil, "app_a", "GB", "+447700900001", at(-10*time.Minute))
		check(t, err, "AddCountersDialChoices without counters")
		equal(t, len(pool), 2, "pool read without counters")
		return nil
	})
}

func testUnmatchedCallers(t *testing.T, s Store) {
	insert := func(id, from, outcome string, when time.Duration) {
		mustTx(t, s, func(tx verify.Tx) error {
			return tx.InsertCall(ctx(t), verify.Call{ID: id, Carrier: "sim", From: from, To: "+442079460000", Outcome: outcome, ReceivedAt: at(when)})
		})
	}
	insert("c1", "+447700900666", verify.CallNoMatch, 0)
	insert("c2", "+447700900666", verify.CallWrongNumber, time.Second)
	insert("c3", "+447700900666", verify.CallRateLimited, 2*time.Second) // over calls_per_caller
	insert("c4", "+447700900001", verify.CallNoMatch, time.Second)
	insert("c5", "+447700900001", verify.CallVerified, 3*time.Second)
	insert("c6", "+447700900777", verify.CallNoMatch, -time.Hour) // before the window
	got, err := s.UnmatchedCallers(ctx(t), at(-time.Minute), 10)
	check(t, err, "UnmatchedCallers")
	want := []verify.CallerStat{{From: "+447700900666", Calls: 3, Last: at(2 * time.Second)}, {From: "+447700900001", Calls: 1, Last: at(time.Second)}}
	equal(t, got, want, "unmatched callers, most first")
	got, _ = s.UnmatchedCallers(ctx(t), at(-time.Minute), 1)
	equal(t, len(got), 1, "limit")
}

func testAddCounters(t *testing.T, s Store) {
	w := t0.Truncate(time.Hour)
	hit := func(k string, d int64) verify.CounterHit {
		return verify.CounterHit{Key: k, Window: w, Expires: w.Add(time.Hour), Delta: d}
	}
	equal(t, addCounter(t, s, hit("b", 4)), int64(4), "AddCounter b")
	var got []int64
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		got, err = tx.AddCounters(ctx(t), []verify.CounterHit{hit("a", 1), hit("b", 1), hit("c", 2), hit("a", 1)})
		return err
	})
	equal(t, got, []int64{2, 5, 2, 2}, "AddCounters: new values in the order given, a twice")
	mustTx(t, s, func(tx verify.Tx) error {
		var err error
		got, err = tx.AddCounters(ctx(t), nil)
		return err
	})
	equal(t, len(got), 0, "AddCounters of nothing")
	// In parallel, on overlapping keys in the same order: nothing lost.
	errs := parallel(20, func(int) error {
		return s.Tx(ctx(t), func(tx verify.Tx) error {
			_, err := tx.AddCounters(ctx(t), []verify.CounterHit{hit("a", 1), hit("b", 1), hit("d", 1)})
			return err
		})
	})
	for _, err := range errs {
		check(t, err, "parallel AddCounters")
	}
	for k, want := range map[string]int64{"a": 22, "b": 25, "c": 2, "d": 20} {
		n, err := s.Counter(ctx(t), k, w)
		check(t, err, "Counter "+k)
		equal(t, n, want, "counter "+k)
	}
}
