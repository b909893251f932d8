package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// ClaimDeliveries leases due deliveries in one UPDATE … RETURNING, so
// choosing and leasing are atomic. The candidates are locked with SKIP LOCKED
// where the dialect has it, so concurrent claimers on PostgreSQL pass over
// each other's rows instead of queueing; the outer WHERE repeats the
// conditions so a row another claimer leased between snapshot and lock is
// re-checked and dropped. A limit of 0 or less claims nothing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]webhook.Claimed, error) {
	if limit <= 0 {
		return nil, nil
	}
	if lease < time.Millisecond {
		// A lease that ends as it starts would let the next claimer take
		// the delivery at once: two holders.
		return nil, fmt.Errorf("claim deliveries: lease %v is shorter than a millisecond", lease)
	}
	q := s.d.Rebind(claimSQL(s.d, limit))
	nowMs, until := millis(now), millis(now.Add(lease))
	args := []any{nowMs, until, until, until, until, until, until, nowMs}
	var out []webhook.Claimed
	err := s.autocommit(ctx, func(db querier) error {
		var err error
		out, err = s.claim(ctx, db, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING order is unspecified on both databases.
	slices.SortFunc(out, func(a, b webhook.Claimed) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// claimSQL is ClaimDeliveries' statement. A pending delivery is due when
// due_at (the later of next_attempt_at and lease_until, kept with every
// change to either; migration 0010) has come, so the candidates are a range
// read from the start of the partial index webhook_deliveries_due_at
// (due_at, id) WHERE status = 'pending': rows that wait for later, however
// many, are never read.
//
// The candidates are a MATERIALIZED CTE, chosen and locked once: PostgreSQL
// may otherwise run an IN (subquery) again for each outer row, and a rerun
// skips the rows this UPDATE has just changed and locks the next ones,
// claiming past the LIMIT. They are locked with SKIP LOCKED where the
// dialect has it, so concurrent claimers on PostgreSQL pass over each
// other's rows instead of queueing; the outer WHERE repeats the conditions
// so a row another claimer leased between snapshot and lock is re-checked
// and dropped.
//
// The re-check is written in a form no index serves (status || ”,
// due_at + 0), so that the planner finds the rows by primary key. Written
// plainly, SQLite walked the due index instead and tested every due row
// against the candidates (83% of the process's CPU in a sipbench profile).
//
// The lease is now+lease, or just after the row's previous lease if that is
// as late: lease_until identifies the claim (SettleDelivery matches on it),
// so no two claims of a row may share one. Arguments: now, then the lease
// (until) six times, then now. The limit is in the text (limitSQL).
func claimSQL(d Dialect, limit int) string {
	const leaseExpr = `CASE WHEN last_lease_until >= ? THEN last_lease_until + 1 ELSE ? END`
	return `WITH candidates AS MATERIALIZED (SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND due_at <= ?
			ORDER BY due_at, id` + limitSQL(limit) + d.ForUpdateSkipLocked() + `)
		UPDATE webhook_deliveries SET lease_until = ` + leaseExpr + `, last_lease_until = ` + leaseExpr + `,
			due_at = ` + leaseExpr + `
		WHERE id IN (SELECT id FROM candidates)
		AND status || '' = 'pending' AND due_at + 0 <= ?
		RETURNING ` + deliveryCols + `, lease_until,
			(SELECT webhook_secret FROM apps WHERE apps.id = webhook_deliveries.app_id)`
}

// nextDueSQL is NextDeliveryDue's statement: the first entry of the partial
// index webhook_deliveries_due_at, one index read (NULL with none pending).
const nextDueSQL = `SELECT (SELECT due_at FROM webhook_deliveries WHERE status = 'pending' ORDER BY due_at LIMIT 1)`

// OutboxQueries gives the outbox's hot statements (and the expiry sweep's
// next-due read, shaped the same) as the store runs them, by name, for
// tests that pin their query plans.
func OutboxQueries(d Dialect) map[string]string {
	return map[string]string{
		"ClaimDeliveries": d.Rebind(claimSQL(d, 8)),
		"NextDeliveryDue": d.Rebind(nextDueSQL),
		"NextExpiry":      d.Rebind(nextExpirySQL),
	}
}

func (s *Store) claim(ctx context.Context, db querier, q string, args ...any) ([]webhook.Claimed, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []webhook.Claimed
	for rows.Next() {
		var lease int64
		var secret sql.NullString
		d, err := scanDelivery(rows, &lease, &secret)
		if err != nil {
			return nil, err
		}
		plain, err := s.box.open(d.AppID, secret.String)
		if err != nil {
			return nil, err
		}
		d.LeaseUntil = fromMillis(lease)
		out = append(out, webhook.Claimed{Delivery: d, Secret: plain})
	}
	return out, rows.Err()
}

// Settling is keyed on the lease the claim holds: a dispatcher whose lease
// ran out and was taken over (or requeued) matches no row and changes
// nothing. The lease ends, so the row is due at its next attempt. Two statements rather than a CASE, so that DeliveredAt keeps the
// last delivery's time when a later attempt is not a delivery, without a
// typed-parameter CASE PostgreSQL cannot infer.
const (
	settleSQL = `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?,
		next_attempt_at = ?, due_at = ?, last_status_code = ?, last_error = ?, lease_until = 0
		WHERE id = ? AND lease_until = ?`
	settleDeliveredSQL = `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?,
		next_attempt_at = ?, due_at = ?, last_status_code = ?, last_error = ?, lease_until = 0, delivered_at = ?
		WHERE id = ? AND lease_until = ?`
)

// SettleDelivery records an attempt's outcome if c still holds its lease.
func (s *Store) SettleDelivery(ctx context.Context, c webhook.Claimed, a webhook.Attempt) error {
	if c.LeaseUntil.IsZero() {
		// lease_until = 0 is every unleased row: settling would hit a
		// delivery nobody claimed.
		return fmt.Errorf("settle delivery %s: not claimed (no lease)", c.ID)
	}
	switch a.Status {
	case verify.DeliveryPending, verify.DeliveryDelivered, verify.DeliveryFailed:
	default:
		return fmt.Errorf("settle delivery %s: unknown status %q", c.ID, a.Status)
	}
	q := settleSQL
	args := []any{a.Status, millis(a.NextAttemptAt), millis(a.NextAttemptAt), int64(a.StatusCode), a.Error}
	if a.Status == verify.DeliveryDelivered {
		q = settleDeliveredSQL
		args = append(args, millis(a.At))
	}
	args = append(args, c.ID, millis(c.LeaseUntil))
	err := s.autocommit(ctx, func(db querier) error {
		_, err := db.ExecContext(ctx, s.d.Rebind(q), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("settle delivery %s: %w", c.ID, err)
	}
	return nil
}

// SettleDeliveries records several attempts' outcomes in one statement,
// each exactly as SettleDelivery would (a row no longer held under its
// claim's lease is left alone). The dispatcher settles the attempts that
// finish together this way: one statement (and on PostgreSQL one round
// trip) instead of one each.
func (s *Store) SettleDeliveries(ctx context.Context, ss []webhook.Settlement) error {
	if len(ss) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`WITH v (id, lease, status, next_at, code, err, at) AS (VALUES `)
	args := make([]any, 0, 7*len(ss))
	for i, st := range ss {
		c, a := st.Claimed, st.Attempt
		if c.LeaseUntil.IsZero() {
			return fmt.Errorf("settle delivery %s: not claimed (no lease)", c.ID)
		}
		switch a.Status {
		case verify.DeliveryPending, verify.DeliveryDelivered, verify.DeliveryFailed:
		default:
			return fmt.Errorf("settle delivery %s: unknown status %q", c.ID, a.Status)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		// Typed, so that PostgreSQL need not guess the VALUES' types.
		q.WriteString(`(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))`)
		args = append(args, c.ID, millis(c.LeaseUntil), a.Status, millis(a.NextAttemptAt), int64(a.StatusCode), a.Error, millis(a.At))
	}
	q.WriteString(`)
		UPDATE webhook_deliveries SET attempts = attempts + 1, status = v.status,
			next_attempt_at = v.next_at, due_at = v.next_at, last_status_code = v.code, last_error = v.err, lease_until = 0,
			delivered_at = CASE WHEN v.status = 'delivered' THEN v.at ELSE webhook_deliveries.delivered_at END
		FROM v WHERE webhook_deliveries.id = v.id AND webhook_deliveries.lease_until = v.lease`)
	err := s.autocommit(ctx, func(db querier) error {
		_, err := db.ExecContext(ctx, s.d.Rebind(q.String()), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("settle %d deliveries: %w", len(ss), err)
	}
	return nil
}

// NextDeliveryDue is when the dispatcher should next look: the earliest time
// a pending delivery is both due and free of its lease.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	return s.nullableTime(ctx, "next delivery due", nextDueSQL)
}

// autocommit runs one statement that needs no transaction of its own. With
// group commit it joins the writer's next batch, so that the dispatcher's
// claims and settles share commits with everything else (a commit each made
// up most of a delivery's cost); otherwise it runs on the pool, retried like
// a transaction.
func (s *Store) autocommit(ctx context.Context, fn func(db querier) error) error {
	if s.group != nil {
		return s.Tx(ctx, func(tx verify.Tx) error { return fn(tx.(txn).db) })
	}
	return s.retry(ctx, func() error { return fn(s.wq) })
}

// WebhookSecrets reads the current webhook secret of each app in appIDs,
// for deliveries handed to the dispatcher without a claim (which reads the
// secret with the rows it leases). An app that no longer exists has none.
func (s *Store) WebhookSecrets(ctx context.Context, appIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(appIDs))
	for _, id := range appIDs {
		if _, ok := out[id]; ok {
			continue
		}
		var sealed sql.NullString
		err := s.db.QueryRowContext(ctx, s.d.Rebind(`SELECT webhook_secret FROM apps WHERE id = ?`), id).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("webhook secret of %s: %w", id, err)
		}
		plain, err := s.box.open(id, sealed.String)
		if err != nil {
			return nil, fmt.Errorf("webhook secret of %s: %w", id, err)
		}
		out[id] = plain
	}
	return out, nil
}
