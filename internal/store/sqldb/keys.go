package sqldb

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// API keys beyond lookup by hash, and the audit log (migration 0006).

func (r reader) APIKeys(ctx context.Context, appID string) ([]verify.APIKey, error) {
	return many(ctx, r, scanAPIKey, "api keys of "+appID,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE app_id = ? ORDER BY created_at, id`, appID)
}

const auditCols = `id, app_id, at, actor, action, target, detail, sandbox`

func scanAudit(s scanner) (verify.AuditEntry, error) {
	var e verify.AuditEntry
	var at, sandbox int64
	var detail string
	if err := s.Scan(&e.ID, &e.AppID, &at, &e.Actor, &e.Action, &e.Target, &detail, &sandbox); err != nil {
		return verify.AuditEntry{}, err
	}
	e.At, e.Detail, e.Sandbox = fromMillis(at), json.RawMessage(detail), sandbox != 0
	return e, nil
}

func (r reader) AuditEntries(ctx context.Context, af verify.AuditFilter) ([]verify.AuditEntry, error) {
	// The tenant is always a condition: an empty AppID matches nothing
	// rather than every app's entries.
	var f filter
	f.tenant(af.Tenant, false)
	f.eq("action", af.Action)
	f.before("id", af.BeforeID)
	q, args := f.newestFirst(`SELECT `+auditCols+` FROM audit_log`, af.Limit)
	return many(ctx, r, scanAudit, "audit log", q, args...)
}

func (t txn) RevokeAPIKey(ctx context.Context, appID, id string, at time.Time) error {
	return t.update(ctx, "revoke api key "+id,
		`UPDATE api_keys SET revoked_at = ? WHERE app_id = ? AND id = ? AND revoked_at = 0`, millis(at), appID, id)
}

func (t txn) TouchAPIKey(ctx context.Context, id string, at, notAfter time.Time) error {
	_, err := t.db.ExecContext(ctx, t.d.Rebind(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`),
		millis(at), id, millis(notAfter))
	if err != nil {
		return t.fail("touch api key "+id, err)
	}
	return nil
}

func (t txn) InsertAudit(ctx context.Context, e verify.AuditEntry) error {
	detail := string(e.Detail)
	if detail == "" {
		detail = "{}"
	}
	return t.insert(ctx, "insert audit entry "+e.ID,
		`INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, e.AppID, millis(e.At), e.Actor, e.Action, e.Target, detail, boolInt(e.Sandbox))
}
