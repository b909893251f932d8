package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// txn implements verify.Tx over one *sql.Tx. Its reads are the reader's,
// run through the transaction so that they see its own writes.
type txn struct {
	reader
	// later: writes may be held back (verify.Tx.Deferred), when the
	// querier can (a Deferrer).
	later bool
}

// Deferrer is a Querier that can hold a write back and send it with the
// transaction's next statement or its commit (PostgreSQL pipelines them:
// one round trip for several statements).
type Deferrer interface {
	// Defer holds back query, a write that must change at least one row.
	// check turns its outcome into the write's error: it is called with
	// the error the statement failed with, or with nil and the number of
	// rows it changed (0 or more), and a non-nil result fails the
	// transaction: the next statement and the commit return it, and the
	// transaction does not commit.
	Defer(query string, args []any, check func(n int64, err error) error)
	// DeferScan holds back query, a write with RETURNING of one row,
	// which fails on the server when it fails at all; scan reads the row
	// when it has been sent (its Scan returns the statement's error, if
	// any), and a non-nil result fails the transaction as Defer's check
	// does. A Deferrer's dialect writes in WITH clauses (PostgreSQL).
	DeferScan(query string, args []any, scan func(Row) error)
}

// Deferred is t with its writes held back where the querier can hold them.
func (t txn) Deferred() verify.Tx {
	if _, ok := t.db.(Deferrer); ok {
		t.later = true
	}
	return t
}

// fail wraps a write error, reporting a unique violation as ErrConflict.
func (t txn) fail(what string, err error) error {
	if t.d.IsUniqueViolation(err) {
		return fmt.Errorf("%s: %w: %w", what, verify.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// insert runs an INSERT … ON CONFLICT DO NOTHING. No row written means a
// uniqueness rule held it back: ErrConflict, with the transaction still
// usable (a raised unique violation would abort it on PostgreSQL).
func (t txn) insert(ctx context.Context, what, query string, args ...any) error {
	return t.write(ctx, what, verify.ErrConflict, query, args...)
}

// update runs an UPDATE or DELETE of one row; no row means ErrNotFound.
func (t txn) update(ctx context.Context, what, query string, args ...any) error {
	return t.write(ctx, what, verify.ErrNotFound, query, args...)
}

func (t txn) write(ctx context.Context, what string, none error, query string, args ...any) error {
	check := func(n int64, err error) error {
		if err != nil {
			return t.fail(what, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: %w", what, none)
		}
		return nil
	}
	if t.later {
		t.db.(Deferrer).Defer(t.d.Rebind(query), args, check)
		return nil
	}
	res, err := t.db.ExecContext(ctx, t.d.Rebind(query), args...)
	if err != nil {
		return check(0, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return check(n, nil)
}

func (t txn) InsertApp(ctx context.Context, a verify.App) error {
	settings, err := encodeJSON(a.Settings)
	if err != nil {
		return fmt.Errorf("insert app %s: %w", a.ID, err)
	}
	secret, err := t.box.seal(a.ID, a.WebhookSecret)
	if err != nil {
		return fmt.Errorf("insert app %s: %w", a.ID, err)
	}
	return t.insert(ctx, "insert app "+a.ID,
		`INSERT INTO apps (`+appCols+`) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ID, a.Name, a.DefaultCallbackURL, secret, millis(a.CreatedAt), settings)
}

func (t txn) UpdateApp(ctx context.Context, a verify.App) error {
	settings, err := encodeJSON(a.Settings)
	if err != nil {
		return fmt.Errorf("update app %s: %w", a.ID, err)
	}
	secret, err := t.box.seal(a.ID, a.WebhookSecret)
	if err != nil {
		return fmt.Errorf("update app %s: %w", a.ID, err)
	}
	return t.update(ctx, "update app "+a.ID,
		`UPDATE apps SET name = ?, default_callback_url = ?, webhook_secret = ?, settings = ? WHERE id = ?`,
		a.Name, a.DefaultCallbackURL, secret, settings, a.ID)
}

func (t txn) InsertAPIKey(ctx context.Context, k verify.APIKey) error {
	return t.insert(ctx, "insert api key "+k.ID,
		`INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ID, k.AppID, k.Hash, k.Prefix, string(k.Kind), millis(k.CreatedAt), millis(k.RevokedAt),
		string(k.Scope), millis(k.ExpiresAt), millis(k.LastUsedAt))
}

func (t txn) InsertNumber(ctx context.Context, n verify.Number) error {
	return t.insert(ctx, "insert number "+n.Number,
		`INSERT INTO numbers (`+numberCols+`) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		n.AppID, n.Number, n.Country, millis(n.CreatedAt))
}

func (t txn) DeleteNumber(ctx context.Context, appID, number string) error {
	return t.update(ctx, "delete number "+number,
		`DELETE FROM numbers WHERE app_id = ? AND number = ?`, appID, number)
}

func (t txn) LockVerification(ctx context.Context, id string) (verify.Verification, error) {
	return one(ctx, t.reader, scanVerification, "lock verification "+id,
		`SELECT `+verificationCols+` FROM verifications WHERE id = ?`+t.d.ForUpdate(), id)
}

func (t txn) LockVerificationOf(ctx context.Context, tn verify.Tenant, id string) (verify.Verification, error) {
	return one(ctx, t.reader, scanVerification, "lock verification "+id,
		`SELECT `+verificationCols+` FROM verifications WHERE id = ? AND app_id = ? AND sandbox = ?`+t.d.ForUpdate(),
		id, tn.AppID, boolInt(tn.Sandbox))
}

// PendingVerification locks what it finds: the caller may end it (an overdue
// verification found by a new start), and must not race the expirer.
func (t txn) PendingVerification(ctx context.Context, tn verify.Tenant, phone string) (verify.Verification, error) {
	// The literal status = 'pending' lets SQLite use the partial index.
	return one(ctx, t.reader, scanVerification, "pending verification",
		`SELECT `+verificationCols+` FROM verifications
		WHERE app_id = ? AND sandbox = ? AND phone = ? AND status = 'pending'`+t.d.ForUpdate(), tn.AppID, boolInt(tn.Sandbox), phone)
}

func (t txn) VerificationByIdempotencyKey(ctx context.Context, tn verify.Tenant, key string) (verify.Verification, error) {
	if key == "" {
		return verify.Verification{}, fmt.Errorf("verification by idempotency key: %w", verify.ErrNotFound)
	}
	// idempotency_key <> '' repeats the partial index's condition so that
	// SQLite's planner may use it.
	return one(ctx, t.reader, scanVerification, "verification by idempotency key",
		`SELECT `+verificationCols+` FROM verifications
		WHERE app_id = ? AND sandbox = ? AND idempotency_key = ? AND idempotency_key <> ''`, tn.AppID, boolInt(tn.Sandbox), key)
}

func (t txn) PendingForCaller(ctx context.Context, phone string, channel verify.Channel) ([]verify.Verification, error) {
	return many(ctx, t.reader, scanVerification, "pending for caller", t.pendingForCallerSQL(), phone, string(channel))
}

// pendingForCallerSQL is PendingForCaller's query.
func (t txn) pendingForCallerSQL() string {
	// ORDER BY id: transactions lock in the same order, so they cannot
	// deadlock on each other's rows. channel || '' keeps the console's
	// (channel, id) index out of the planner's reach: it serves ORDER BY id
	// with an equality, and SQLite without statistics took it, scanning
	// every missed-call verification for each inbound call (a verifying
	// INVITE went from 0.4 to 2.2 ms of CPU) instead of the caller's few.
	return `SELECT ` + verificationCols + ` FROM verifications
		WHERE phone = ? AND status = 'pending' AND channel || '' = ? ORDER BY id` + t.d.ForUpdate()
}

// PendingForCallerApps reads the caller's pending verifications and their
// apps in one statement (a join), instead of one for each: a verifying
// call's first read, on both stores.
func (t txn) PendingForCallerApps(ctx context.Context, phone string, channel verify.Channel) ([]verify.Verification, map[string]verify.App, error) {
	var vs []verify.Verification
	apps := map[string]verify.App{}
	err := t.queryBatch(ctx, []Stmt{{pendingForCallerAppsSQL(t.d), []any{phone, string(channel)}}}, func(_ int, rows Rows) error {
		for rows.Next() {
			row := withApp{rows: rows}
			v, err := scanVerification(&row)
			if err != nil {
				return err
			}
			vs = append(vs, v)
			if _, ok := apps[v.AppID]; ok {
				continue
			}
			a, err := row.app.app()
			if err != nil {
				return err
			}
			if a.WebhookSecret, err = t.box.open(a.ID, a.WebhookSecret); err != nil {
				return err
			}
			apps[a.ID] = a
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pending for caller: %w", err)
	}
	return vs, apps, nil
}

// pendingForCallerAppsSQL is PendingForCallerApps' query: the caller's
// pending verifications of a channel, as PendingForCaller's, each with its
// app's columns. Only the verifications are locked (PostgreSQL: FOR UPDATE
// OF v); locking the app's row would queue every call of an app on it.
func pendingForCallerAppsSQL(d Dialect) string {
	q := `SELECT ` + verificationAppCols + `
		FROM verifications v JOIN apps a ON a.id = v.app_id
		WHERE v.phone = ? AND v.status = 'pending' AND v.channel || '' = ? ORDER BY v.id`
	if fu := d.ForUpdate(); fu != "" {
		q += fu + " OF v"
	}
	return q
}

// CallerQuery is PendingForCallerApps' statement as the store runs it on
// dialect d, for tests of its plan.
func CallerQuery(d Dialect) string { return d.Rebind(pendingForCallerAppsSQL(d)) }

var verificationAppCols = prefixed("v.", verificationCols) + ", " + prefixed("a.", appCols)

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// DueForExpiry returns nothing for a limit of 0 or less: an unbounded
// locking batch is never what a sweeper wants.
func (t txn) DueForExpiry(ctx context.Context, now time.Time, limit int) ([]verify.Verification, error) {
	if limit <= 0 {
		return nil, nil
	}
	return many(ctx, t.reader, scanVerification, "due for expiry",
		`SELECT `+verificationCols+` FROM verifications
		WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id`+limitSQL(limit)+t.d.ForUpdateSkipLocked(),
		millis(now))
}

func (t txn) InsertVerification(ctx context.Context, v verify.Verification) error {
	meta, err := encodeMetadata(v.Metadata)
	if err != nil {
		return fmt.Errorf("insert verification %s: %w", v.ID, err)
	}
	workflow, err := encodeWorkflow(v.Workflow)
	if err != nil {
		return fmt.Errorf("insert verification %s: %w", v.ID, err)
	}
	return t.insert(ctx, "insert verification "+v.ID,
		`INSERT INTO verifications (`+verificationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		v.ID, v.AppID, v.Phone, v.Country, string(v.Channel), string(v.Status), string(v.Reason), v.DialNumber,
		v.CallbackURL, meta, boolInt(v.Sandbox), int64(v.Attempts), v.IdempotencyKey, v.RequestHash,
		millis(v.CreatedAt), millis(v.UpdatedAt), millis(v.ExpiresAt), millis(v.CompletedAt),
		workflow, int64(v.Step), v.CodeHash, int64(v.CodeLength), v.CLIPrefix, v.CLIFilter, v.CallerID,
		v.Locale, string(v.VerifiedChannel))
}

// UpdateVerification leaves the workflow alone: it is fixed at start.
func (t txn) UpdateVerification(ctx context.Context, v verify.Verification) error {
	return t.update(ctx, "update verification "+v.ID,
		`UPDATE verifications SET status = ?, reason = ?, attempts = ?, channel = ?, step = ?,
		dial_number = ?, code_hash = ?, code_length = ?, cli_prefix = ?, cli_filter = ?, caller_id = ?,
		verified_channel = ?, updated_at = ?, expires_at = ?, completed_at = ? WHERE id = ?`,
		string(v.Status), string(v.Reason), int64(v.Attempts), string(v.Channel), int64(v.Step),
		v.DialNumber, v.CodeHash, int64(v.CodeLength), v.CLIPrefix, v.CLIFilter, v.CallerID,
		string(v.VerifiedChannel), millis(v.UpdatedAt), millis(v.ExpiresAt), millis(v.CompletedAt), v.ID)
}

func (t txn) InsertJob(ctx context.Context, j verify.Job) error {
	return t.insert(ctx, "insert job "+j.ID,
		`INSERT INTO jobs (`+jobCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.ID, j.AppID, j.VerificationID, int64(j.Step), j.Kind, blob(j.Payload), j.Status, int64(j.Attempts),
		millis(j.NextAttemptAt), millis(j.LeaseUntil), j.Carrier, j.CarrierRef, j.LastError,
		millis(j.CreatedAt), millis(j.UpdatedAt))
}

// ClaimJobs selects, then updates the rows it locked: portable between
// SQLite (one writer, nothing to skip) and PostgreSQL (SKIP LOCKED).
func (t txn) ClaimJobs(ctx context.Context, now, leaseUntil time.Time, limit int) ([]verify.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	due, err := many(ctx, t.reader, scanJob, "claim jobs",
		`SELECT `+jobCols+` FROM jobs
		WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'running' AND lease_until <= ?)
		ORDER BY next_attempt_at, id`+limitSQL(limit)+t.d.ForUpdateSkipLocked(),
		millis(now), millis(now))
	if err != nil {
		return nil, err
	}
	for i := range due {
		j := &due[i]
		j.Status, j.LeaseUntil, j.Attempts, j.UpdatedAt = verify.JobRunning, leaseUntil, j.Attempts+1, now
		if err := t.UpdateJob(ctx, *j); err != nil {
			return nil, err
		}
	}
	return due, nil
}

func (t txn) UpdateJob(ctx context.Context, j verify.Job) error {
	return t.update(ctx, "update job "+j.ID,
		`UPDATE jobs SET payload = ?, status = ?, attempts = ?, next_attempt_at = ?, lease_until = ?,
		carrier = ?, carrier_ref = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		blob(j.Payload), j.Status, int64(j.Attempts), millis(j.NextAttemptAt), millis(j.LeaseUntil),
		j.Carrier, j.CarrierRef, j.LastError, millis(j.UpdatedAt), j.ID)
}

const insertEventSQL = `INSERT INTO events (verification_id, app_id, type, payload, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`

func (t txn) InsertEvent(ctx context.Context, e *verify.Event) error {
	args := []any{e.VerificationID, e.AppID, e.Type, string(e.Payload), millis(e.CreatedAt)}
	scan := func(row Row) error {
		if err := row.Scan(&e.ID); err != nil {
			return t.fail("insert event", err)
		}
		return nil
	}
	if t.later {
		t.db.(Deferrer).DeferScan(t.d.Rebind(insertEventSQL), args, scan)
		return nil
	}
	return scan(t.db.QueryRowContext(ctx, t.d.Rebind(insertEventSQL), args...))
}

// insertEventDeliverySQL inserts an event and its delivery in one
// statement, the delivery's event_id from the event's RETURNING: for a
// held write (a Deferrer's dialect writes in WITH). Without ON CONFLICT:
// a duplicate delivery id raises a unique violation (ErrConflict), which
// fails the transaction as a held write must.
const insertEventDeliverySQL = `WITH e AS (` + insertEventSQL + `)
	INSERT INTO webhook_deliveries (` + deliveryCols + `, lease_until, last_lease_until, due_at)
	VALUES (?, ?, ?, (SELECT id FROM e), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id`

func (t txn) InsertEventDelivery(ctx context.Context, e *verify.Event, d verify.Delivery) error {
	if !t.later {
		if err := t.InsertEvent(ctx, e); err != nil {
			return err
		}
		d.EventID = e.ID
		return t.InsertDelivery(ctx, d)
	}
	t.db.(Deferrer).DeferScan(t.d.Rebind(insertEventDeliverySQL), []any{
		e.VerificationID, e.AppID, e.Type, string(e.Payload), millis(e.CreatedAt),
		d.ID, d.AppID, d.VerificationID, d.Type, d.URL, string(d.Payload), d.Status,
		int64(d.Attempts), millis(d.NextAttemptAt), int64(d.LastStatusCode), d.LastError,
		millis(d.CreatedAt), millis(d.DeliveredAt), boolInt(d.Sandbox),
		millis(d.LeaseUntil), millis(d.LeaseUntil), max(millis(d.NextAttemptAt), millis(d.LeaseUntil)),
	}, func(row Row) error {
		if err := row.Scan(&e.ID); err != nil {
			return t.fail("insert event and delivery "+d.ID, err)
		}
		return nil
	})
	return nil
}

func (t txn) InsertCall(ctx context.Context, c verify.Call) error {
	return t.insert(ctx, "insert call "+c.ID,
		`INSERT INTO calls (`+callCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ID, c.Carrier, c.CarrierCallID, c.From, c.To, c.AppID,
		c.VerificationID, c.Outcome, int64(c.SIPStatus), millis(c.ReceivedAt))
}

func (t txn) CallByCarrierID(ctx context.Context, carrier, callID string) (verify.Call, error) {
	if callID == "" {
		return verify.Call{}, fmt.Errorf("call by carrier id: %w", verify.ErrNotFound)
	}
	return one(ctx, t.reader, scanCall, "call "+carrier+"/"+callID,
		`SELECT `+callCols+` FROM calls
		WHERE carrier = ? AND carrier_call_id = ? AND carrier_call_id <> ''`, carrier, callID)
}

func (t txn) InsertDelivery(ctx context.Context, d verify.Delivery) error {
	return t.insert(ctx, "insert delivery "+d.ID,
		`INSERT INTO webhook_deliveries (`+deliveryCols+`, lease_until, last_lease_until, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		d.ID, d.AppID, d.VerificationID, d.EventID, d.Type, d.URL, string(d.Payload), d.Status,
		int64(d.Attempts), millis(d.NextAttemptAt), int64(d.LastStatusCode), d.LastError,
		millis(d.CreatedAt), millis(d.DeliveredAt), boolInt(d.Sandbox),
		millis(d.LeaseUntil), millis(d.LeaseUntil), max(millis(d.NextAttemptAt), millis(d.LeaseUntil)))
}

// RequeueDelivery also ends any lease, so a dispatcher still holding the
// delivery settles into nothing and the next claim sends it again.
func (t txn) RequeueDelivery(ctx context.Context, tn verify.Tenant, id string, at time.Time) error {
	return t.update(ctx, "requeue delivery "+id,
		`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, due_at = ?, lease_until = 0
		WHERE app_id = ? AND sandbox = ? AND id = ?`, millis(at), millis(at), tn.AppID, boolInt(tn.Sandbox), id)
}

// Compile-time check that txn is a whole verify.Tx.
var _ verify.Tx = txn{}

// runTx runs fn in one database transaction on db.
func runTx(ctx context.Context, db *sql.DB, cache *stmtCache, d Dialect, box *secretBox, fn func(verify.Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var q querier = sqlQuerier{sqlTx}
	if cache != nil {
		var missed []string
		q = cachedTx{tx: sqlTx, c: cache, missed: &missed}
		// Deferred first, so it runs last: after the Rollback below has
		// given the connection back, which preparing needs.
		defer func() { cache.prepareMissed(context.WithoutCancel(ctx), missed) }()
	}
	// After a successful Commit this is a no-op; on every other path,
	// panics included, it releases the writer.
	defer sqlTx.Rollback() //nolint:errcheck // the interesting error is fn's or Commit's
	if err := fn(txn{reader: reader{d: d, db: q, box: box}}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
