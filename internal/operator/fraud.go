package operator

import (
	"context"
	"errors"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// BlockedPrefixes lists the app's prefixes the pumping guard has blocked
// and that are still blocked.
func (s *Service) BlockedPrefixes(ctx context.Context, appID string) ([]verify.PrefixBlock, error) {
	return s.store.PrefixBlocks(ctx, appID, s.Now())
}

// UnblockPrefix lifts a block before its cool-off ends (an operator who
// has looked at the traffic). The prefix's counts stay, so a prefix still
// being pumped is blocked again by its next start.
// A test key may not: the block guards live traffic.
func (s *Service) UnblockPrefix(ctx context.Context, t verify.Tenant, prefix string) error {
	if err := t.ForbidSandbox("unblocking a prefix"); err != nil {
		return err
	}
	appID := t.AppID
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		if err := tx.DeletePrefixBlock(ctx, appID, prefix); err != nil {
			return err
		}
		return s.audit(ctx, tx, t, verify.AuditPrefixUnblocked, prefix, nil)
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.Errorf(verify.CodeNotFound, "app %s has no block on prefix %q", appID, prefix)
	}
	return err
}

// UnmatchedCallers lists caller IDs whose calls matched no verification
// since since, most first: a spoofing run or a scan of the pool shows up
// here (and in ringgate_inbound_calls_total{outcome="no_match"}).
func (s *Service) UnmatchedCallers(ctx context.Context, since time.Time, limit int) ([]verify.CallerStat, error) {
	return s.store.UnmatchedCallers(ctx, since, verify.ClampPage(limit))
}
