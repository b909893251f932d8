package sqldb

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/ringgate/ringgate/internal/seal"
	"github.com/ringgate/ringgate/internal/verify"
)

// sealedPrefix marks a secret stored sealed; anything else is a clear
// secret from before sealing (read as it is until SealSecrets rewrites it).
const sealedPrefix = "sealed:v1:"

// appSecretsLabel derives the key of secrets at rest from the server
// secret (see internal/seal). Part of the stored format: changing it
// leaves every sealed secret unreadable.
const appSecretsLabel = "ringgate app secrets at rest"

// secretBox seals the secrets the store keeps for apps (webhook secrets)
// with AES-256-GCM under a key derived from the server secret, bound to
// the app's id, so a database dump or backup does not hold them in the
// clear and one app's sealed secret cannot be moved to another. Without a
// key (SealSecrets not called) it stores and reads secrets as they are.
// A sealed secret is sealedPrefix and the sealed bytes in raw std base64.
type secretBox struct {
	t atomic.Pointer[seal.Text]
}

func (b *secretBox) seal(appID, plain string) (string, error) {
	t := b.t.Load()
	if t == nil || plain == "" || strings.HasPrefix(plain, sealedPrefix) {
		return plain, nil
	}
	return sealedPrefix + t.Seal(appID, []byte(plain)), nil
}

func (b *secretBox) open(appID, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	t := b.t.Load()
	if t == nil {
		return "", fmt.Errorf("app %s: its webhook secret is sealed and the store has no key", appID)
	}
	plain, err := t.Open(appID, rest)
	if errors.Is(err, seal.ErrMalformed) {
		return "", fmt.Errorf("app %s: its sealed webhook secret is damaged", appID)
	}
	if err != nil {
		return "", fmt.Errorf("app %s: cannot open its webhook secret (was the server secret changed?): %w", appID, err)
	}
	return string(plain), nil
}

// SealSecrets turns on sealing at rest with a key derived from the server
// secret: secrets written from now on are sealed, sealed and clear ones
// are both read, and the clear ones already stored are sealed now, in one
// transaction (the migration of an older database). It reports how many it
// sealed.
func (s *Store) SealSecrets(ctx context.Context, serverSecret []byte) (int, error) {
	t := seal.New(serverSecret, appSecretsLabel).Text(base64.RawStdEncoding)
	s.box.t.Store(&t)

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	rows, err := tx.QueryContext(ctx, `SELECT id, webhook_secret FROM apps`)
	if err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	clear := map[string]string{}
	for rows.Next() {
		var id, secret string
		if err := rows.Scan(&id, &secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("seal secrets: %w", err)
		}
		if !strings.HasPrefix(secret, sealedPrefix) {
			clear[id] = secret
		} else if _, err := s.box.open(id, secret); err != nil {
			// Sealed under another server secret: refuse to start rather
			// than fail every delivery.
			rows.Close()
			s.box.t.Store(nil)
			return 0, fmt.Errorf("webhook secrets were sealed with another server secret: %w", err)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	for id, secret := range clear {
		sealed, err := s.box.seal(id, secret)
		if err != nil {
			return 0, fmt.Errorf("seal secrets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.Rebind(`UPDATE apps SET webhook_secret = ? WHERE id = ?`), sealed, id); err != nil {
			return 0, fmt.Errorf("seal secrets: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	if c, ok := s.d.(Checkpointer); ok && len(clear) > 0 {
		// The clear values are still in the write-ahead log's old frames.
		if _, err := s.w.ExecContext(ctx, c.CheckpointSQL()); err != nil {
			return len(clear), fmt.Errorf("seal secrets: checkpoint: %w", err)
		}
	}
	return len(clear), nil
}

// Checkpointer is a dialect with a write-ahead log that SealSecrets empties
// after sealing, so that no old copy of a clear secret stays in it.
type Checkpointer interface {
	CheckpointSQL() string
}

// scanApp scans an app and opens its secret.
func (r reader) scanApp(s scanner) (verify.App, error) {
	a, err := scanApp(s)
	if err != nil {
		return a, err
	}
	a.WebhookSecret, err = r.box.open(a.ID, a.WebhookSecret)
	return a, err
}
