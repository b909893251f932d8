package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/verify"
)

// The compatible APIs' records (migration 0008, internal/compat).

var _ compat.Store = (*Store)(nil)

// write runs fn in one of the store's transactions.
func (s *Store) write(ctx context.Context, fn func(t txn) error) error {
	return s.Tx(ctx, func(tx verify.Tx) error { return fn(tx.(txn)) })
}

const compatCredCols = `app_id, twilio_account_sid, twilio_auth_token_hash, twilio_key_sid, twilio_key_secret_hash,
	vonage_api_key, vonage_api_secret_hash, vonage_application_id, vonage_public_key, vonage_status_url,
	vonage_signature_secret, created_at, updated_at`

// signatureBinding binds a sealed Vonage signature secret to its app, and
// apart from the app's sealed webhook secret.
func signatureBinding(appID string) string { return "vonage-signature:" + appID }

func (r reader) scanCompatCred(s scanner) (compat.Record, error) {
	var c compat.Record
	var created, updated int64
	err := s.Scan(&c.AppID, &c.TwilioAccountSID, &c.TwilioAuthTokenHash, &c.TwilioKeySID, &c.TwilioKeySecretHash,
		&c.VonageAPIKey, &c.VonageSecretHash, &c.VonageAppID, &c.VonagePublicKey, &c.VonageStatusURL,
		&c.VonageSignatureSecret, &created, &updated)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	c.VonageSignatureSecret, err = r.box.open(signatureBinding(c.AppID), c.VonageSignatureSecret)
	return c, err
}

func (s *Store) PutCompatCredentials(ctx context.Context, r compat.Record) error {
	sig, err := s.box.seal(signatureBinding(r.AppID), r.VonageSignatureSecret)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t txn) error {
		return t.insert(ctx, "put compat credentials of "+r.AppID,
			`INSERT INTO compat_credentials (`+compatCredCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET twilio_account_sid = excluded.twilio_account_sid,
				twilio_auth_token_hash = excluded.twilio_auth_token_hash, twilio_key_sid = excluded.twilio_key_sid,
				twilio_key_secret_hash = excluded.twilio_key_secret_hash, vonage_api_key = excluded.vonage_api_key,
				vonage_api_secret_hash = excluded.vonage_api_secret_hash, vonage_application_id = excluded.vonage_application_id,
				vonage_signature_secret = excluded.vonage_signature_secret, updated_at = excluded.updated_at`,
			r.AppID, r.TwilioAccountSID, r.TwilioAuthTokenHash, r.TwilioKeySID, r.TwilioKeySecretHash,
			r.VonageAPIKey, r.VonageSecretHash, r.VonageAppID, r.VonagePublicKey, r.VonageStatusURL, sig,
			millis(r.CreatedAt), millis(r.UpdatedAt))
	})
}

func (s *Store) compatCredBy(ctx context.Context, col, v string) (compat.Record, error) {
	return one(ctx, s.reader, s.reader.scanCompatCred, "compat credentials by "+col,
		`SELECT `+compatCredCols+` FROM compat_credentials WHERE `+col+` = ?`, v)
}

func (s *Store) CompatCredentials(ctx context.Context, appID string) (compat.Record, error) {
	return s.compatCredBy(ctx, "app_id", appID)
}

func (s *Store) CompatCredentialsByTwilioAccount(ctx context.Context, sid string) (compat.Record, error) {
	return s.compatCredBy(ctx, "twilio_account_sid", sid)
}

func (s *Store) CompatCredentialsByTwilioKey(ctx context.Context, sid string) (compat.Record, error) {
	return s.compatCredBy(ctx, "twilio_key_sid", sid)
}

func (s *Store) CompatCredentialsByVonageKey(ctx context.Context, key string) (compat.Record, error) {
	return s.compatCredBy(ctx, "vonage_api_key", key)
}

func (s *Store) CompatCredentialsByVonageApp(ctx context.Context, id string) (compat.Record, error) {
	return s.compatCredBy(ctx, "vonage_application_id", id)
}

func (s *Store) SetVonagePublicKey(ctx context.Context, appID, pem string, at time.Time) error {
	return s.write(ctx, func(t txn) error {
		return t.update(ctx, "set vonage public key of "+appID,
			`UPDATE compat_credentials SET vonage_public_key = ?, updated_at = ? WHERE app_id = ?`, pem, millis(at), appID)
	})
}

func (s *Store) SetVonageStatusURL(ctx context.Context, appID, url string, at time.Time) error {
	return s.write(ctx, func(t txn) error {
		return t.update(ctx, "set vonage status url of "+appID,
			`UPDATE compat_credentials SET vonage_status_url = ?, updated_at = ? WHERE app_id = ?`, url, millis(at), appID)
	})
}

const twilioServiceCols = `sid, app_id, friendly_name, code_length, created_at, updated_at`

func (s *Store) InsertTwilioService(ctx context.Context, v compat.Service) error {
	return s.write(ctx, func(t txn) error {
		return t.insert(ctx, "insert twilio service "+v.SID,
			`INSERT INTO compat_twilio_services (`+twilioServiceCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			v.SID, v.AppID, v.FriendlyName, v.CodeLength, millis(v.CreatedAt), millis(v.UpdatedAt))
	})
}

func (s *Store) TwilioService(ctx context.Context, appID, sid string) (compat.Service, error) {
	return one(ctx, s.reader, func(sc scanner) (compat.Service, error) {
		var v compat.Service
		var created, updated int64
		err := sc.Scan(&v.SID, &v.AppID, &v.FriendlyName, &v.CodeLength, &created, &updated)
		v.CreatedAt, v.UpdatedAt = fromMillis(created), fromMillis(updated)
		return v, err
	}, "twilio service "+sid, `SELECT `+twilioServiceCols+` FROM compat_twilio_services WHERE app_id = ? AND sid = ?`, appID, sid)
}

const twilioVerificationCols = `sid, service_sid, app_id, verification_id, to_phone, channel, send_attempts, created_at, updated_at`

func scanTwilioVerification(sc scanner) (compat.TwilioVerification, error) {
	var v compat.TwilioVerification
	var attempts string
	var created, updated int64
	if err := sc.Scan(&v.SID, &v.ServiceSID, &v.AppID, &v.VerificationID, &v.To, &v.Channel, &attempts, &created, &updated); err != nil {
		return v, err
	}
	v.CreatedAt, v.UpdatedAt = fromMillis(created), fromMillis(updated)
	if err := json.Unmarshal([]byte(attempts), &v.SendAttempts); err != nil {
		return v, fmt.Errorf("decode send attempts: %w", err)
	}
	return v, nil
}

func (s *Store) InsertTwilioVerification(ctx context.Context, v compat.TwilioVerification) error {
	attempts, err := json.Marshal(v.SendAttempts)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t txn) error {
		return t.insert(ctx, "insert twilio verification "+v.SID,
			`INSERT INTO compat_twilio_verifications (`+twilioVerificationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.SID, v.ServiceSID, v.AppID, v.VerificationID, v.To, v.Channel, string(attempts), millis(v.CreatedAt), millis(v.UpdatedAt))
	})
}

func (s *Store) UpdateTwilioVerification(ctx context.Context, v compat.TwilioVerification) error {
	attempts, err := json.Marshal(v.SendAttempts)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t txn) error {
		return t.update(ctx, "update twilio verification "+v.SID,
			`UPDATE compat_twilio_verifications SET verification_id = ?, channel = ?, send_attempts = ?, updated_at = ?
			WHERE sid = ? AND app_id = ?`,
			v.VerificationID, v.Channel, string(attempts), millis(v.UpdatedAt), v.SID, v.AppID)
	})
}

func (s *Store) TwilioVerification(ctx context.Context, appID, serviceSID, sid string) (compat.TwilioVerification, error) {
	return one(ctx, s.reader, scanTwilioVerification, "twilio verification "+sid,
		`SELECT `+twilioVerificationCols+` FROM compat_twilio_verifications WHERE app_id = ? AND service_sid = ? AND sid = ?`,
		appID, serviceSID, sid)
}

func (s *Store) LatestTwilioVerification(ctx context.Context, appID, serviceSID, to string) (compat.TwilioVerification, error) {
	return one(ctx, s.reader, scanTwilioVerification, "twilio verification of a phone",
		`SELECT `+twilioVerificationCols+` FROM compat_twilio_verifications WHERE app_id = ? AND service_sid = ? AND to_phone = ?
		ORDER BY created_at DESC, sid DESC LIMIT 1`, appID, serviceSID, to)
}

func (s *Store) InsertVonageRequest(ctx context.Context, r compat.VonageRequest) error {
	return s.write(ctx, func(t txn) error {
		return t.insert(ctx, "insert vonage request "+r.RequestID,
			`INSERT INTO compat_vonage_requests (request_id, app_id, verification_id, created_at) VALUES (?, ?, ?, ?)`,
			r.RequestID, r.AppID, r.VerificationID, millis(r.CreatedAt))
	})
}

func (s *Store) VonageRequest(ctx context.Context, appID, id string) (compat.VonageRequest, error) {
	return one(ctx, s.reader, func(sc scanner) (compat.VonageRequest, error) {
		var r compat.VonageRequest
		var created int64
		err := sc.Scan(&r.RequestID, &r.AppID, &r.VerificationID, &created)
		r.CreatedAt = fromMillis(created)
		return r, err
	}, "vonage request "+id, `SELECT request_id, app_id, verification_id, created_at FROM compat_vonage_requests
		WHERE app_id = ? AND request_id = ?`, appID, id)
}

const callbackCols = `id, kind, ref, app_id, verification_id, sandbox, callback_url, state, attempts, next_attempt_at, last_error, created_at`

func (s *Store) InsertCallback(ctx context.Context, c compat.Callback) error {
	return s.write(ctx, func(t txn) error {
		return t.insert(ctx, "insert compat callback "+c.ID,
			`INSERT INTO compat_callbacks (`+callbackCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Kind, c.Ref, c.AppID, c.VerificationID, boolInt(c.Sandbox), c.CallbackURL, c.State, c.Attempts,
			millis(c.NextAttemptAt), c.LastError, millis(c.CreatedAt))
	})
}

func (s *Store) DueCallbacks(ctx context.Context, now time.Time, limit int) ([]compat.Callback, error) {
	return many(ctx, s.reader, func(sc scanner) (compat.Callback, error) {
		var c compat.Callback
		var next, created, sandbox int64
		err := sc.Scan(&c.ID, &c.Kind, &c.Ref, &c.AppID, &c.VerificationID, &sandbox, &c.CallbackURL, &c.State, &c.Attempts,
			&next, &c.LastError, &created)
		c.NextAttemptAt, c.CreatedAt, c.Sandbox = fromMillis(next), fromMillis(created), sandbox != 0
		return c, err
	}, "due compat callbacks",
		`SELECT o.id, o.kind, o.ref, o.app_id, o.verification_id, o.sandbox, o.callback_url, o.state, o.attempts,
			o.next_attempt_at, o.last_error, o.created_at
		FROM compat_callbacks o JOIN verifications v ON v.id = o.verification_id
		WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND v.status <> 'pending'
		ORDER BY o.next_attempt_at`+limitSQL(limit), millis(now))
}

func (s *Store) ClaimCallback(ctx context.Context, id string, was, until time.Time) (bool, error) {
	var n int
	err := s.write(ctx, func(t txn) error {
		var err error
		n, err = t.exec(ctx, "claim compat callback "+id,
			`UPDATE compat_callbacks SET next_attempt_at = ? WHERE id = ? AND state = 'pending' AND next_attempt_at = ?`,
			millis(until), id, millis(was))
		return err
	})
	return n == 1, err
}

func (s *Store) SettleCallback(ctx context.Context, c compat.Callback) error {
	return s.write(ctx, func(t txn) error {
		return t.update(ctx, "settle compat callback "+c.ID,
			`UPDATE compat_callbacks SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`,
			c.State, c.Attempts, millis(c.NextAttemptAt), c.LastError, c.ID)
	})
}
