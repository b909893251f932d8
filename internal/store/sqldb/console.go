package sqldb

import (
	"context"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Queries for the operator console.

func (r reader) Apps(ctx context.Context) ([]verify.App, error) {
	return many(ctx, r, r.scanApp, "list apps", `SELECT `+appCols+` FROM apps ORDER BY id`)
}

func scanStatRow(s scanner) (verify.StatRow, error) {
	var v verify.StatRow
	var created, completed int64
	var sandbox int64
	if err := s.Scan(&v.AppID, &v.Channel, &v.Country, &v.Status, &created, &completed, &sandbox); err != nil {
		return v, err
	}
	v.Sandbox = sandbox != 0
	v.CreatedAt = fromMillis(created)
	if completed != 0 {
		v.CompletedAt = fromMillis(completed)
	}
	return v, nil
}

func (r reader) VerificationStats(ctx context.Context, since time.Time, limit int) ([]verify.StatRow, error) {
	q := `SELECT app_id, channel, country, status, created_at, completed_at, sandbox FROM verifications
		WHERE created_at >= ? ORDER BY created_at, id`
	args := []any{millis(since)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, int64(limit))
	}
	return many(ctx, r, scanStatRow, "verification stats", q, args...)
}
