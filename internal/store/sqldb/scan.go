package sqldb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Values cross the driver boundary only as int64, string and integers, so
// the same Go code binds and scans them on every database: no driver's idea
// of time zones, booleans or JSON is involved.

// millis stores t as unix milliseconds. The zero time is 0, so "not set" is
// a plain comparable value; the instant 1970-01-01T00:00:00Z itself is
// therefore not representable, which no ringgate timestamp needs.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// encodeMetadata stores nil and empty maps alike as "{}".
func encodeMetadata(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	return string(b), nil
}

// decodeMetadata returns nil for an empty object, so a verification read
// back compares equal to one written without metadata.
func decodeMetadata(s string) (map[string]string, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// bytesOf turns a stored text payload back into bytes; "" is nil.
func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// blob binds b as a non-NULL BLOB/BYTEA: drivers bind a nil slice as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanner is *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

const appCols = `id, name, default_callback_url, webhook_secret, created_at, settings`

func scanApp(s scanner) (verify.App, error) {
	var r appRow
	if err := s.Scan(r.dests()...); err != nil {
		return verify.App{}, err
	}
	return r.app()
}

// appRow is an app's columns (appCols) as scanned, before decoding.
type appRow struct {
	a        verify.App
	created  int64
	settings string
}

func (r *appRow) dests() []any {
	return []any{&r.a.ID, &r.a.Name, &r.a.DefaultCallbackURL, &r.a.WebhookSecret, &r.created, &r.settings}
}

func (r *appRow) app() (verify.App, error) {
	a := r.a
	a.CreatedAt = fromMillis(r.created)
	if err := decodeJSON(r.settings, &a.Settings); err != nil {
		return verify.App{}, fmt.Errorf("app %s settings: %w", a.ID, err)
	}
	return a, nil
}

// withApp scans a row of a verification's columns followed by its app's
// (verificationCols, then appCols): scanVerification's Scan takes the app's
// columns into app as well.
type withApp struct {
	rows Rows
	app  appRow
}

func (w *withApp) Scan(dest ...any) error {
	return w.rows.Scan(append(dest, w.app.dests()...)...)
}

// encodeJSON stores a value as JSON text.
func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return string(b), nil
}

func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// storedStep is a workflow step as the workflow column keeps it.
type storedStep struct {
	Channel    verify.Channel `json:"channel"`
	TimeoutMS  int64          `json:"timeout_ms"`
	CodeLength int            `json:"code_length,omitempty"`
	RingMS     int64          `json:"ring_ms,omitempty"`
}

func encodeWorkflow(w []verify.Step) (string, error) {
	out := make([]storedStep, len(w))
	for i, st := range w {
		out[i] = storedStep{Channel: st.Channel, TimeoutMS: st.Timeout.Milliseconds(), CodeLength: st.CodeLength, RingMS: st.RingTimeout.Milliseconds()}
	}
	return encodeJSON(out)
}

func decodeWorkflow(s string) ([]verify.Step, error) {
	var in []storedStep
	if err := decodeJSON(s, &in); err != nil {
		return nil, fmt.Errorf("decode workflow: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]verify.Step, len(in))
	for i, st := range in {
		out[i] = verify.Step{
			Channel: st.Channel, Timeout: time.Duration(st.TimeoutMS) * time.Millisecond,
			CodeLength: st.CodeLength, RingTimeout: time.Duration(st.RingMS) * time.Millisecond,
		}
	}
	return out, nil
}

const apiKeyCols = `id, app_id, hash, prefix, kind, created_at, revoked_at, scope, expires_at, last_used_at`

// keyDest is where an api_keys row (apiKeyCols) scans to.
type keyDest struct {
	k                           verify.APIKey
	created, revoked, exp, used int64
}

func (d *keyDest) fields() []any {
	return []any{&d.k.ID, &d.k.AppID, &d.k.Hash, &d.k.Prefix, &d.k.Kind, &d.created, &d.revoked, &d.k.Scope, &d.exp, &d.used}
}

func (d *keyDest) key() verify.APIKey {
	d.k.CreatedAt, d.k.RevokedAt, d.k.ExpiresAt, d.k.LastUsedAt = fromMillis(d.created), fromMillis(d.revoked), fromMillis(d.exp), fromMillis(d.used)
	return d.k
}

func scanAPIKey(s scanner) (verify.APIKey, error) {
	var d keyDest
	if err := s.Scan(d.fields()...); err != nil {
		return verify.APIKey{}, err
	}
	return d.key(), nil
}

func scanAPIKeyAndApp(s scanner) (verify.APIKey, verify.App, error) {
	var d keyDest
	var a verify.App
	var aCreated int64
	var settings string
	err := s.Scan(append(d.fields(), &a.ID, &a.Name, &a.DefaultCallbackURL, &a.WebhookSecret, &aCreated, &settings)...)
	if err != nil {
		return verify.APIKey{}, verify.App{}, err
	}
	if err := decodeJSON(settings, &a.Settings); err != nil {
		return verify.APIKey{}, verify.App{}, fmt.Errorf("app %s settings: %w", a.ID, err)
	}
	a.CreatedAt = fromMillis(aCreated)
	return d.key(), a, nil
}

const numberCols = `app_id, number, country, created_at`

func scanNumber(s scanner) (verify.Number, error) {
	var n verify.Number
	var created int64
	if err := s.Scan(&n.AppID, &n.Number, &n.Country, &created); err != nil {
		return verify.Number{}, err
	}
	n.CreatedAt = fromMillis(created)
	return n, nil
}

const verificationCols = `id, app_id, phone, country, channel, status, reason, dial_number,
	callback_url, metadata, sandbox, attempts, idempotency_key, request_hash,
	created_at, updated_at, expires_at, completed_at,
	workflow, step, code_hash, code_length, cli_prefix, cli_filter, caller_id, locale, verified_channel`

func scanVerification(s scanner) (verify.Verification, error) {
	var v verify.Verification
	var meta, workflow string
	var sandbox, created, updated, expires, completed int64
	err := s.Scan(&v.ID, &v.AppID, &v.Phone, &v.Country, &v.Channel, &v.Status, &v.Reason, &v.DialNumber,
		&v.CallbackURL, &meta, &sandbox, &v.Attempts, &v.IdempotencyKey, &v.RequestHash,
		&created, &updated, &expires, &completed,
		&workflow, &v.Step, &v.CodeHash, &v.CodeLength, &v.CLIPrefix, &v.CLIFilter, &v.CallerID, &v.Locale, &v.VerifiedChannel)
	if err != nil {
		return verify.Verification{}, err
	}
	if v.Metadata, err = decodeMetadata(meta); err != nil {
		return verify.Verification{}, fmt.Errorf("verification %s: %w", v.ID, err)
	}
	if v.Workflow, err = decodeWorkflow(workflow); err != nil {
		return verify.Verification{}, fmt.Errorf("verification %s: %w", v.ID, err)
	}
	v.Sandbox = sandbox != 0
	v.CreatedAt, v.UpdatedAt = fromMillis(created), fromMillis(updated)
	v.ExpiresAt, v.CompletedAt = fromMillis(expires), fromMillis(completed)
	return v, nil
}

const eventCols = `id, verification_id, app_id, type, payload, created_at`

func scanEvent(s scanner) (verify.Event, error) {
	var e verify.Event
	var payload string
	var created int64
	if err := s.Scan(&e.ID, &e.VerificationID, &e.AppID, &e.Type, &payload, &created); err != nil {
		return verify.Event{}, err
	}
	e.Payload, e.CreatedAt = bytesOf(payload), fromMillis(created)
	return e, nil
}

const callCols = `id, carrier, carrier_call_id, from_number, to_number, app_id,
	verification_id, outcome, sip_status, received_at`

func scanCall(s scanner) (verify.Call, error) {
	var c verify.Call
	var received int64
	err := s.Scan(&c.ID, &c.Carrier, &c.CarrierCallID, &c.From, &c.To, &c.AppID,
		&c.VerificationID, &c.Outcome, &c.SIPStatus, &received)
	if err != nil {
		return verify.Call{}, err
	}
	c.ReceivedAt = fromMillis(received)
	return c, nil
}

const deliveryCols = `id, app_id, verification_id, event_id, type, url, payload, status,
	attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at, sandbox`

// scanDelivery reads deliveryCols followed by extra destinations.
func scanDelivery(s scanner, extra ...any) (verify.Delivery, error) {
	var d verify.Delivery
	var payload string
	var next, created, delivered, sandbox int64
	dest := []any{&d.ID, &d.AppID, &d.VerificationID, &d.EventID, &d.Type, &d.URL, &payload, &d.Status,
		&d.Attempts, &next, &d.LastStatusCode, &d.LastError, &created, &delivered, &sandbox}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return verify.Delivery{}, err
	}
	d.Payload, d.Sandbox = bytesOf(payload), sandbox != 0
	d.NextAttemptAt, d.CreatedAt, d.DeliveredAt = fromMillis(next), fromMillis(created), fromMillis(delivered)
	return d, nil
}

const jobCols = `id, app_id, verification_id, step, kind, payload, status, attempts,
	next_attempt_at, lease_until, carrier, carrier_ref, last_error, created_at, updated_at`

func scanJob(s scanner) (verify.Job, error) {
	var j verify.Job
	var next, lease, created, updated int64
	err := s.Scan(&j.ID, &j.AppID, &j.VerificationID, &j.Step, &j.Kind, &j.Payload, &j.Status, &j.Attempts,
		&next, &lease, &j.Carrier, &j.CarrierRef, &j.LastError, &created, &updated)
	if err != nil {
		return verify.Job{}, err
	}
	j.NextAttemptAt, j.LeaseUntil = fromMillis(next), fromMillis(lease)
	j.CreatedAt, j.UpdatedAt = fromMillis(created), fromMillis(updated)
	return j, nil
}
