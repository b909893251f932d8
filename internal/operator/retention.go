package operator

import (
	"context"
	"fmt"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// PurgeEnded deletes, in batches of batch, the verifications of every app
// that ended before now-retain, with their events, jobs, webhook
// deliveries and calls, and calls no verification claimed that old.
// Nothing in flight is touched: a pending verification, a job pending or
// running, a webhook delivery still pending keeps its verification (and
// so all its rows) until it settles. Safe on several nodes at once.
func (s *Service) PurgeEnded(ctx context.Context, retain time.Duration, batch int) (verify.Purged, error) {
	var total verify.Purged
	if retain <= 0 || batch <= 0 {
		return total, nil
	}
	before := s.Now().Add(-retain)
	for ctx.Err() == nil {
		var p verify.Purged
		err := s.store.Tx(ctx, func(tx verify.Tx) error {
			var err error
			p, err = tx.PurgeEnded(ctx, before, batch)
			return err
		})
		if err != nil {
			return total, err
		}
		total.Add(p)
		if p.Verifications < batch && p.Calls < batch && p.Deliveries < batch {
			break
		}
	}
	return total, ctx.Err()
}

// ErasePhone deletes everything the app holds about one phone number:
// its verifications (pending ones too: they end unreported), their events,
// outbound jobs, webhook deliveries, and the calls. The erasure is
// audited, naming the number only masked.
func (s *Service) ErasePhone(ctx context.Context, t verify.Tenant, number string) (verify.Purged, error) {
	if err := t.ForbidSandbox("erasing a phone number's data"); err != nil {
		return verify.Purged{}, err
	}
	appID := t.AppID
	n, err := phone.ParseE164(number)
	if err != nil {
		return verify.Purged{}, &verify.Error{Code: verify.CodeInvalidPhone, Field: "phone", Message: err.Error(), Err: err}
	}
	var p verify.Purged
	err = s.store.Tx(ctx, func(tx verify.Tx) error {
		var err error
		if p, err = tx.ErasePhone(ctx, appID, n.E164); err != nil {
			return fmt.Errorf("erase phone: %w", err)
		}
		return s.audit(ctx, tx, t, verify.AuditPhoneErased, phone.Mask(n.E164), p)
	})
	return p, err
}

// PruneCounters deletes counters whose windows have passed.
func (s *Service) PruneCounters(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		var err error
		n, err = tx.PruneCounters(ctx, s.Now())
		return err
	})
	return n, err
}
