package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Querier runs sqldb's statements: *sql.DB and *sql.Tx through sqlQuerier,
// the statement caches, or a transaction a dialect runs itself (TxRunner),
// so that the same reads run inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) Row
}

// Result is what sqldb reads of an executed statement (sql.Result has it).
type Result interface {
	RowsAffected() (int64, error)
}

// Rows is what sqldb reads of a query's rows (*sql.Rows has it).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is one row of a query (*sql.Row has it). Scan reports no row as an
// error matching sql.ErrNoRows.
type Row interface {
	Scan(dest ...any) error
}

// querier is sqldb's own name for Querier.
type querier = Querier

// stdQuerier is what *sql.DB and *sql.Tx have in common.
type stdQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlQuerier is a *sql.DB or *sql.Tx as a Querier.
type sqlQuerier struct{ q stdQuerier }

func (s sqlQuerier) ExecContext(ctx context.Context, query string, args ...any) (Result, error) {
	return s.q.ExecContext(ctx, query, args...)
}

func (s sqlQuerier) QueryContext(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err // not a nil *sql.Rows in a non-nil Rows
	}
	return rows, nil
}

func (s sqlQuerier) QueryRowContext(ctx context.Context, query string, args ...any) Row {
	return s.q.QueryRowContext(ctx, query, args...)
}

// reader implements verify.Reader over a pool or a transaction.
type reader struct {
	d   Dialect
	db  querier
	box *secretBox
}

// one runs a query for a single row and scans it with scan, turning "no
// rows" into verify.ErrNotFound.
func one[T any](ctx context.Context, r reader, scan func(scanner) (T, error), what, query string, args ...any) (T, error) {
	v, err := scan(r.db.QueryRowContext(ctx, r.d.Rebind(query), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, verify.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// many runs a query and scans every row with scan.
func many[T any](ctx context.Context, r reader, scan func(scanner) (T, error), what, query string, args ...any) ([]T, error) {
	rows, err := r.db.QueryContext(ctx, r.d.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// nullableTime reads a single MIN(…) column; ok is false when it is NULL.
func (r reader) nullableTime(ctx context.Context, what, query string, args ...any) (time.Time, bool, error) {
	var ms sql.NullInt64
	if err := r.db.QueryRowContext(ctx, r.d.Rebind(query), args...).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", what, err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return fromMillis(ms.Int64), true, nil
}

func (r reader) App(ctx context.Context, id string) (verify.App, error) {
	return one(ctx, r, r.scanApp, "app "+id, `SELECT `+appCols+` FROM apps WHERE id = ?`, id)
}

func (r reader) APIKeyByHash(ctx context.Context, hash string) (verify.APIKey, verify.App, error) {
	const q = `SELECT k.id, k.app_id, k.hash, k.prefix, k.kind, k.created_at, k.revoked_at,
		k.scope, k.expires_at, k.last_used_at, a.id, a.name, a.default_callback_url, a.webhook_secret, a.created_at, a.settings
		FROM api_keys k JOIN apps a ON a.id = k.app_id
		WHERE k.hash = ? AND k.revoked_at = 0`
	k, a, err := scanAPIKeyAndApp(r.db.QueryRowContext(ctx, r.d.Rebind(q), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, a, fmt.Errorf("api key: %w", verify.ErrNotFound)
	}
	if err != nil {
		return k, a, fmt.Errorf("api key: %w", err)
	}
	if a.WebhookSecret, err = r.box.open(a.ID, a.WebhookSecret); err != nil {
		return k, a, fmt.Errorf("api key: %w", err)
	}
	return k, a, nil
}

func (r reader) Verification(ctx context.Context, id string) (verify.Verification, error) {
	return one(ctx, r, scanVerification, "verification "+id,
		`SELECT `+verificationCols+` FROM verifications WHERE id = ?`, id)
}

func (r reader) VerificationOf(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error) {
	return one(ctx, r, scanVerification, "verification "+id,
		`SELECT `+verificationCols+` FROM verifications WHERE id = ? AND app_id = ? AND sandbox = ?`,
		id, t.AppID, boolInt(t.Sandbox))
}

// filter builds a WHERE clause from the conditions whose value is set.
type filter struct {
	conds []string
	args  []any
}

// tenant adds the tenant's conditions: always, unless all is set (the
// console), when a non-empty AppID still filters by app. An empty AppID
// then matches nothing rather than every app's rows.
func (f *filter) tenant(t verify.Tenant, all bool) {
	if all {
		f.eq("app_id", t.AppID)
		return
	}
	f.conds = append(f.conds, "app_id = ?", "sandbox = ?")
	f.args = append(f.args, t.AppID, boolInt(t.Sandbox))
}

func (f *filter) eq(col, val string) {
	if val != "" {
		f.conds = append(f.conds, col+" = ?")
		f.args = append(f.args, val)
	}
}

func (f *filter) before(col, cursor string) {
	if cursor != "" {
		f.conds = append(f.conds, col+" < ?")
		f.args = append(f.args, cursor)
	}
}

// newestFirst completes a listing query: ids are time-ordered, so ORDER BY
// id DESC is newest first and "id < cursor" is the next page. A limit of 0
// or less means no limit.
func (f *filter) newestFirst(selectFrom string, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString(selectFrom)
	if len(f.conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(f.conds, " AND "))
	}
	b.WriteString(" ORDER BY id DESC")
	args := f.args
	if limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, int64(limit))
	}
	return b.String(), args
}

func (r reader) Verifications(ctx context.Context, lf verify.ListFilter) ([]verify.Verification, error) {
	var f filter
	f.tenant(lf.Tenant, lf.AllTenants)
	f.eq("phone", lf.Phone)
	f.eq("status", string(lf.Status))
	f.eq("channel", string(lf.Channel))
	f.eq("country", lf.Country)
	f.before("id", lf.BeforeID)
	q, args := f.newestFirst(`SELECT `+verificationCols+` FROM verifications`, lf.Limit)
	return many(ctx, r, scanVerification, "list verifications", q, args...)
}

func (r reader) Events(ctx context.Context, verificationID string, afterID int64, limit int) ([]verify.Event, error) {
	q := `SELECT ` + eventCols + ` FROM events WHERE verification_id = ? AND id > ? ORDER BY id`
	args := []any{verificationID, afterID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, int64(limit))
	}
	return many(ctx, r, scanEvent, "list events", q, args...)
}

func (r reader) Numbers(ctx context.Context, appID string) ([]verify.Number, error) {
	return many(ctx, r, scanNumber, "list numbers",
		`SELECT `+numberCols+` FROM numbers WHERE app_id = ? ORDER BY number`, appID)
}

// poolNumbersSQL is one statement, so that the fallback decision and the
// rows come from the same snapshot.
const poolNumbersSQL = `SELECT ` + numberCols + ` FROM numbers
		WHERE app_id = ? AND (country = ? OR (country = ? AND NOT EXISTS (
			SELECT 1 FROM numbers own WHERE own.app_id = ? AND own.country = ?)))
		ORDER BY number`

func (r reader) PoolNumbers(ctx context.Context, appID, country string) ([]verify.Number, error) {
	return many(ctx, r, scanNumber, "pool numbers", poolNumbersSQL, appID, country, verify.AnyCountry, appID, country)
}

// Stmt is a query and its arguments, one of a batch.
type Stmt struct {
	Query string
	Args  []any
}

// BatchQuerier is a Querier that can send several queries in one round
// trip (PostgreSQL's transactions).
type BatchQuerier interface {
	// QueryBatch sends qs together and calls each with each query's rows,
	// in order; each must not keep them.
	QueryBatch(ctx context.Context, qs []Stmt, each func(i int, rows Rows) error) error
}

// queryBatch runs qs (in "?" form) together where the querier can, else
// one after another.
func (r reader) queryBatch(ctx context.Context, qs []Stmt, each func(i int, rows Rows) error) error {
	for i := range qs {
		qs[i].Query = r.d.Rebind(qs[i].Query)
	}
	if b, ok := r.db.(BatchQuerier); ok {
		return b.QueryBatch(ctx, qs, each)
	}
	for i, q := range qs {
		rows, err := r.db.QueryContext(ctx, q.Query, q.Args...)
		if err != nil {
			return err
		}
		err = each(i, rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scanAll reads every row of rows with scan.
func scanAll[T any](rows Rows, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DialChoices runs PoolNumbers and RecentDialNumbers in one batch: on
// PostgreSQL one round trip instead of two in a missed-call start.
func (r reader) DialChoices(ctx context.Context, appID, country, phone string, since time.Time) ([]verify.Number, []string, error) {
	var pool []verify.Number
	var recent []string
	err := r.queryBatch(ctx, []Stmt{
		{poolNumbersSQL, []any{appID, country, verify.AnyCountry, appID, country}},
		{recentDialNumbersSQL, []any{appID, phone, millis(since)}},
	}, func(i int, rows Rows) error {
		var err error
		if i == 0 {
			pool, err = scanAll(rows, scanNumber)
		} else {
			recent, err = scanAll(rows, scanString)
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dial choices: %w", err)
	}
	return pool, recent, nil
}

func (r reader) Delivery(ctx context.Context, t verify.Tenant, id string) (verify.Delivery, error) {
	return one(ctx, r, scanDeliveryRow, "delivery "+id,
		`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE app_id = ? AND sandbox = ? AND id = ?`,
		t.AppID, boolInt(t.Sandbox), id)
}

func scanDeliveryRow(s scanner) (verify.Delivery, error) { return scanDelivery(s) }

func (r reader) Deliveries(ctx context.Context, df verify.DeliveryFilter) ([]verify.Delivery, error) {
	var f filter
	f.tenant(df.Tenant, df.AllTenants)
	f.eq("status", df.Status)
	f.eq("verification_id", df.VerificationID)
	f.before("id", df.BeforeID)
	q, args := f.newestFirst(`SELECT `+deliveryCols+` FROM webhook_deliveries`, df.Limit)
	return many(ctx, r, scanDeliveryRow, "list deliveries", q, args...)
}

// nextExpirySQL is the first entry of the pending-only index
// verifications_expiry (migration 0010): one index read, NULL with none.
const nextExpirySQL = `SELECT (SELECT expires_at FROM verifications WHERE status = 'pending' ORDER BY expires_at LIMIT 1)`

func (r reader) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	return r.nullableTime(ctx, "next expiry",
		nextExpirySQL)
}

func (r reader) Job(ctx context.Context, id string) (verify.Job, error) {
	return one(ctx, r, scanJob, "job "+id, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id)
}

func (r reader) Jobs(ctx context.Context, verificationID string) ([]verify.Job, error) {
	return many(ctx, r, scanJob, "jobs of "+verificationID,
		`SELECT `+jobCols+` FROM jobs WHERE verification_id = ? ORDER BY created_at, id`, verificationID)
}

// limitSQL is a LIMIT clause with n written in the statement, for the
// statements that run on every claim or sweep. SQLite (3.47 and later)
// plans with a LIMIT's bound value and so marks a statement with LIMIT ?
// for preparing again whenever it is bound anew: the outbox's claim was
// compiled from its text on every call (a sixth of its cost). Each limit
// a caller uses is one more cached statement; callers use a few.
func limitSQL(n int) string { return " LIMIT " + strconv.Itoa(max(n, 1)) }
