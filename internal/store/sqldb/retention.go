package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Retention and erasure: deleting what ringgate keeps about phone numbers.
// Children go first (events, jobs, deliveries, calls), then the
// verifications, so that foreign keys hold at every step.

// PurgeEnded deletes up to limit verifications that ended before before,
// with everything recorded about them. A verification still pending, with
// an outbound job pending or running, or with a webhook delivery still
// pending (due now or later) is left alone: nothing in flight is lost. On
// PostgreSQL the batch is locked with SKIP LOCKED, so nodes purging at once
// split the work instead of queueing behind each other.
func (t txn) PurgeEnded(ctx context.Context, before time.Time, limit int) (verify.Purged, error) {
	if limit <= 0 {
		return verify.Purged{}, nil
	}
	cut := millis(before)
	ids, err := t.ids(ctx, "purge: select ended",
		`SELECT id FROM verifications v
		WHERE v.status <> 'pending' AND v.created_at < ? AND v.updated_at < ?
		AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.verification_id = v.id AND j.status IN ('pending', 'running'))
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.verification_id = v.id AND d.status = 'pending')
		ORDER BY v.created_at, v.id LIMIT ?`+t.d.ForUpdateSkipLocked(),
		cut, cut, int64(limit))
	if err != nil {
		return verify.Purged{}, err
	}
	p, err := t.deleteVerifications(ctx, ids, "", "")
	if err != nil {
		return p, err
	}
	// Calls no verification claimed, and deliveries of no verification
	// (test events), once they are as old and settled.
	n, err := t.exec(ctx, "purge: unmatched calls",
		`DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE verification_id = '' AND received_at < ? LIMIT ?)`,
		cut, int64(limit))
	if err != nil {
		return p, err
	}
	p.Calls += n
	n, err = t.exec(ctx, "purge: settled deliveries",
		`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
		WHERE verification_id = '' AND status <> 'pending' AND created_at < ? LIMIT ?)`,
		cut, int64(limit))
	p.Deliveries += n
	return p, err
}

// ErasePhone deletes every verification of the app for phone, pending ones
// too, with their events, jobs, deliveries and calls, and the app's calls
// from phone.
func (t txn) ErasePhone(ctx context.Context, appID, phone string) (verify.Purged, error) {
	ids, err := t.ids(ctx, "erase: select",
		`SELECT id FROM verifications WHERE app_id = ? AND phone = ? ORDER BY id`+t.d.ForUpdate(), appID, phone)
	if err != nil {
		return verify.Purged{}, err
	}
	return t.deleteVerifications(ctx, ids, appID, phone)
}

func (t txn) ids(ctx context.Context, what, query string, args ...any) ([]any, error) {
	rows, err := t.db.QueryContext(ctx, t.d.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func (t txn) exec(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := t.db.ExecContext(ctx, t.d.Rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(n), nil
}

// deleteVerifications deletes ids and what hangs off them; with appID and
// phone set, also the app's calls from phone that no verification claimed.
func (t txn) deleteVerifications(ctx context.Context, ids []any, appID, phone string) (verify.Purged, error) {
	var p verify.Purged
	if appID != "" {
		n, err := t.exec(ctx, "erase: calls", `DELETE FROM calls WHERE app_id = ? AND from_number = ?`, appID, phone)
		if err != nil {
			return p, err
		}
		p.Calls += n
	}
	if len(ids) == 0 {
		return p, nil
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	for _, st := range []struct {
		table string
		count *int
	}{
		{"events", &p.Events}, {"jobs", &p.Jobs}, {"webhook_deliveries", &p.Deliveries}, {"calls", &p.Calls},
	} {
		n, err := t.exec(ctx, "delete "+st.table, `DELETE FROM `+st.table+` WHERE verification_id IN `+in, ids...)
		if err != nil {
			return p, err
		}
		*st.count += n
	}
	// The compatible APIs' records of them (migration 0008) hold the phone
	// too: they go with the verification.
	for _, table := range []string{"compat_twilio_verifications", "compat_vonage_requests", "compat_callbacks"} {
		if _, err := t.exec(ctx, "delete "+table, `DELETE FROM `+table+` WHERE verification_id IN `+in, ids...); err != nil {
			return p, err
		}
	}
	n, err := t.exec(ctx, "delete verifications", `DELETE FROM verifications WHERE id IN `+in, ids...)
	p.Verifications = n
	return p, err
}

// PendingDeliveries counts the webhook deliveries still to deliver, for
// the backlog gauge.
func (s *Store) PendingDeliveries(ctx context.Context) (int, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pending deliveries: %w", err)
	}
	return int(n), nil
}
