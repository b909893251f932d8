package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ringgate/ringgate/internal/verify"
)

// audit records an admin action in tx, so it commits with the action.
func (s *Service) audit(ctx context.Context, tx verify.Tx, t verify.Tenant, action, target string, detail any) error {
	raw := json.RawMessage(`{}`)
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	e := verify.AuditEntry{ID: verify.NewID("aud_"), AppID: t.AppID, At: s.Now(), Actor: verify.ActorOf(ctx), Action: action, Target: target, Detail: raw, Sandbox: t.Sandbox}
	if err := tx.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Audit returns a page of the app's audit log, newest first, and the next
// page's cursor ("" at the end).
func (s *Service) Audit(ctx context.Context, f verify.AuditFilter) ([]verify.AuditEntry, string, error) {
	if f.Tenant.AppID == "" {
		return nil, "", errors.New("audit: no app")
	}
	want := verify.ClampPage(f.Limit)
	f.Limit = want + 1 // one more tells whether there is a next page
	es, err := s.store.AuditEntries(ctx, f)
	return page(es, err, want, func(e verify.AuditEntry) string { return e.ID })
}
