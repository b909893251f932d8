package sqldb

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// The abuse controls' tables (migration 0003): counters and prefix_blocks.

func (r reader) Counter(ctx context.Context, key string, window time.Time) (int64, error) {
	var n int64
	err := r.db.QueryRowContext(ctx, r.d.Rebind(`SELECT COALESCE(SUM(value), 0) FROM counters WHERE key = ? AND win_start = ?`),
		key, millis(window)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read counter %s: %w", key, err)
	}
	return n, nil
}

const prefixBlockCols = `app_id, prefix, reason, started, verified, blocked_at, blocked_until`

func scanPrefixBlock(s scanner) (verify.PrefixBlock, error) {
	var b verify.PrefixBlock
	var at, until int64
	err := s.Scan(&b.AppID, &b.Prefix, &b.Reason, &b.Started, &b.Verified, &at, &until)
	b.BlockedAt, b.Until = fromMillis(at), fromMillis(until)
	return b, err
}

func (r reader) PrefixBlock(ctx context.Context, appID, prefix string) (verify.PrefixBlock, error) {
	return one(ctx, r, scanPrefixBlock, "prefix block "+prefix,
		`SELECT `+prefixBlockCols+` FROM prefix_blocks WHERE app_id = ? AND prefix = ?`, appID, prefix)
}

func (r reader) PrefixBlocks(ctx context.Context, appID string, now time.Time) ([]verify.PrefixBlock, error) {
	return many(ctx, r, scanPrefixBlock, "prefix blocks",
		`SELECT `+prefixBlockCols+` FROM prefix_blocks WHERE app_id = ? AND blocked_until > ?
		 ORDER BY blocked_at DESC, prefix`, appID, millis(now))
}

const recentDialNumbersSQL = `SELECT dial_number FROM verifications
		 WHERE app_id = ? AND phone = ? AND created_at >= ? AND dial_number <> ''
		 GROUP BY dial_number ORDER BY MAX(created_at) DESC, dial_number`

func scanString(s scanner) (string, error) {
	var v string
	return v, s.Scan(&v)
}

func (r reader) RecentDialNumbers(ctx context.Context, appID, phone string, since time.Time) ([]string, error) {
	return many(ctx, r, scanString, "recent dial numbers", recentDialNumbersSQL, appID, phone, millis(since))
}

func (r reader) UnmatchedCallers(ctx context.Context, since time.Time, limit int) ([]verify.CallerStat, error) {
	return many(ctx, r, func(s scanner) (verify.CallerStat, error) {
		var c verify.CallerStat
		var last int64
		err := s.Scan(&c.From, &c.Calls, &last)
		c.Last = fromMillis(last)
		return c, err
	}, "unmatched callers",
		`SELECT from_number, COUNT(*), MAX(received_at) FROM calls
		 WHERE received_at >= ? AND outcome IN (?, ?, ?)
		 GROUP BY from_number ORDER BY COUNT(*) DESC, from_number LIMIT ?`,
		millis(since), verify.CallNoMatch, verify.CallWrongNumber, verify.CallRateLimited, limit)
}

func (t txn) AddCounter(ctx context.Context, h verify.CounterHit) (int64, error) {
	ns, err := t.AddCounters(ctx, []verify.CounterHit{h})
	if err != nil {
		return 0, err
	}
	return ns[0], nil
}

// counterSharder is a Dialect that spreads shared counters over rows
// (PostgreSQL, where concurrent transactions would otherwise queue on an
// app-wide counter's row lock until commit). SQLite, with one writer, does
// not: every counter is shard 0 and exact.
type counterSharder interface {
	// CounterShards is how many rows a shared counter is spread over.
	CounterShards() int
}

// AddCounters upserts every counter in one statement: a start touches six
// or so, and one round trip for all of them costs little more than one.
// Hits for the same counter are summed first, since one statement may not
// update a row twice (PostgreSQL refuses).
//
// A shared hit (verify.CounterHit.Shared) on a sharding dialect goes to
// one shard of its counter, and its value is that shard's new value plus
// the other shards' committed values, read in the same statement. All the
// shared hits of one call use the same shard, and calls take shards in
// turn (nextShard), so that transactions in flight together on one node
// use different rows: with a shard drawn at random for each of a start's
// five shared counters, most starts still met another on one of them.
// nextShard hands out counter shards in turn within this process.
var nextShard atomic.Uint32

func (t txn) AddCounters(ctx context.Context, hs []verify.CounterHit) ([]int64, error) {
	st, read := t.counterStmt(hs)
	if st.Query == "" {
		return nil, nil
	}
	rows, err := t.db.QueryContext(ctx, t.d.Rebind(st.Query), st.Args...)
	if err != nil {
		return nil, t.fail("count "+hs[0].Key, err)
	}
	defer rows.Close()
	return read(rows)
}

// AddCountersDialChoices sends the counters' upsert and DialChoices' two
// reads in one batch: on PostgreSQL one round trip for what a missed-call
// start reads and counts after its first statement.
func (t txn) AddCountersDialChoices(ctx context.Context, hs []verify.CounterHit, appID, country, phone string, since time.Time) ([]int64, []verify.Number, []string, error) {
	st, read := t.counterStmt(hs)
	if st.Query == "" {
		pool, recent, err := t.DialChoices(ctx, appID, country, phone, since)
		return nil, pool, recent, err
	}
	var ns []int64
	var pool []verify.Number
	var recent []string
	err := t.queryBatch(ctx, []Stmt{st,
		{poolNumbersSQL, []any{appID, country, verify.AnyCountry, appID, country}},
		{recentDialNumbersSQL, []any{appID, phone, millis(since)}},
	}, func(i int, rows Rows) error {
		var err error
		switch i {
		case 0:
			ns, err = read(rows)
		case 1:
			pool, err = scanAll(rows, scanNumber)
		default:
			recent, err = scanAll(rows, scanString)
		}
		return err
	})
	if err != nil {
		return nil, nil, nil, t.fail("count "+hs[0].Key+" and read dial choices", err)
	}
	return ns, pool, recent, nil
}

// counterStmt is AddCounters' statement ("?" form; Query "" when hs is
// empty) and the reader of its rows, which returns the value of each hit.
func (t txn) counterStmt(hs []verify.CounterHit) (Stmt, func(Rows) ([]int64, error)) {
	type key struct {
		k string
		w int64
	}
	type sum struct {
		delta, expires int64
		shared         bool
	}
	sums := map[key]*sum{}
	var order []key
	for _, h := range hs {
		k := key{h.Key, millis(h.Window)}
		s := sums[k]
		if s == nil {
			s = &sum{}
			sums[k] = s
			order = append(order, k)
		}
		s.delta += h.Delta
		s.expires = max(s.expires, millis(h.Expires))
		s.shared = s.shared || h.Shared
	}
	if len(order) == 0 {
		return Stmt{}, nil
	}
	shards := 1
	if cs, ok := t.d.(counterSharder); ok {
		shards = max(cs.CounterShards(), 1)
	}
	spread, shard := false, 0
	if shards > 1 {
		shard = int(nextShard.Add(1) % uint32(shards))
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO counters (key, win_start, shard, value, expires_at) VALUES `)
	args := make([]any, 0, 5*len(order))
	for i, k := range order {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		s := sums[k]
		row := 0
		if s.shared && shards > 1 {
			row, spread = shard, true
		}
		args = append(args, k.k, k.w, row, s.delta, s.expires)
	}
	q.WriteString(` ON CONFLICT (key, win_start, shard) DO UPDATE SET value = counters.value + excluded.value`)
	stmt := q.String() + ` RETURNING key, win_start, value`
	if spread {
		// The outer SELECT sees the snapshot from before the INSERT: the
		// other shards as committed, this one from RETURNING.
		stmt = `WITH up AS (` + q.String() + ` RETURNING key, win_start, shard, value)
			SELECT up.key, up.win_start, up.value + COALESCE((SELECT SUM(c.value) FROM counters c
				WHERE c.key = up.key AND c.win_start = up.win_start AND c.shard <> up.shard), 0)
			FROM up`
	}
	read := func(rows Rows) ([]int64, error) {
		got := map[key]int64{}
		for rows.Next() {
			var k key
			var n int64
			if err := rows.Scan(&k.k, &k.w, &n); err != nil {
				return nil, fmt.Errorf("count: %w", err)
			}
			got[k] = n
		}
		if err := rows.Err(); err != nil {
			return nil, t.fail("count "+order[0].k, err)
		}
		out := make([]int64, len(hs))
		for i, h := range hs {
			n, ok := got[key{h.Key, millis(h.Window)}]
			if !ok {
				return nil, fmt.Errorf("count %s: no value returned", h.Key)
			}
			out[i] = n
		}
		return out, nil
	}
	return Stmt{Query: stmt, Args: args}, read
}

func (t txn) PruneCounters(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.db.ExecContext(ctx, t.d.Rebind(`DELETE FROM counters WHERE expires_at < ?`), millis(now))
	if err != nil {
		return 0, fmt.Errorf("prune counters: %w", err)
	}
	return res.RowsAffected()
}

func (t txn) PutPrefixBlock(ctx context.Context, b verify.PrefixBlock) error {
	_, err := t.db.ExecContext(ctx, t.d.Rebind(
		`INSERT INTO prefix_blocks (`+prefixBlockCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (app_id, prefix) DO UPDATE SET reason = excluded.reason, started = excluded.started,
		 verified = excluded.verified, blocked_at = excluded.blocked_at, blocked_until = excluded.blocked_until`),
		b.AppID, b.Prefix, b.Reason, b.Started, b.Verified, millis(b.BlockedAt), millis(b.Until))
	if err != nil {
		return t.fail("block prefix "+b.Prefix, err)
	}
	return nil
}

func (t txn) DeletePrefixBlock(ctx context.Context, appID, prefix string) error {
	return t.update(ctx, "unblock prefix "+prefix, `DELETE FROM prefix_blocks WHERE app_id = ? AND prefix = ?`, appID, prefix)
}
