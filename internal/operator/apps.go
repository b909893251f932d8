package operator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// CreateApp creates an app with its keys.
func (s *Service) CreateApp(ctx context.Context, a verify.NewApp) (verify.Credentials, error) {
	return s.putApp(ctx, a, false)
}

// EnsureApp creates the app if it does not exist, and otherwise brings its
// name, callback and secret up to date and adds any key it lacks. Dev mode
// uses it so that pinned credentials hold across restarts.
func (s *Service) EnsureApp(ctx context.Context, a verify.NewApp) (verify.Credentials, error) {
	return s.putApp(ctx, a, true)
}

func (s *Service) putApp(ctx context.Context, a verify.NewApp, upsert bool) (verify.Credentials, error) {
	if err := s.rules.CheckNewApp(&a); err != nil {
		return verify.Credentials{}, err
	}
	if err := s.rules.CheckSettings(&a.Settings); err != nil {
		return verify.Credentials{}, err
	}
	app := verify.App{ID: a.ID, Name: a.Name, DefaultCallbackURL: a.DefaultCallbackURL, WebhookSecret: a.WebhookSecret, Settings: a.Settings, CreatedAt: s.Now()}
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		old, err := tx.App(ctx, app.ID)
		switch {
		case err == nil && !upsert:
			return verify.Errorf(verify.CodeConflict, "app %q exists", app.ID)
		case err == nil:
			app.CreatedAt = old.CreatedAt
			app.Settings = verify.MergeSettings(old.Settings, a.Settings)
			if err := tx.UpdateApp(ctx, app); err != nil {
				return err
			}
		case errors.Is(err, verify.ErrNotFound):
			if err := tx.InsertApp(ctx, app); err != nil {
				return err
			}
		default:
			return err
		}
		for _, key := range a.APIKeys {
			kind, _ := verify.KeyKindOf(key)
			k := verify.APIKey{ID: verify.NewID("key_"), AppID: app.ID, Hash: verify.HashAPIKey(key), Prefix: verify.KeyPrefixOf(key), Kind: kind, Scope: verify.ScopeAdmin, CreatedAt: app.CreatedAt}
			err := tx.InsertAPIKey(ctx, k)
			if errors.Is(err, verify.ErrConflict) && upsert {
				if _, owner, err := tx.APIKeyByHash(ctx, k.Hash); err == nil && owner.ID == app.ID {
					continue // already installed
				}
				if revokedHere(ctx, tx, app.ID, k.Hash) {
					continue // installed once and revoked since: the revocation stands
				}
				return verify.Errorf(verify.CodeConflict, "API key %s… belongs to another app", k.Prefix)
			}
			if err != nil {
				return fmt.Errorf("install API key: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return verify.Credentials{}, err
	}
	return verify.Credentials{App: app, APIKeys: a.APIKeys}, nil
}

// App returns an app by id.
func (s *Service) App(ctx context.Context, id string) (verify.App, error) {
	a, err := s.store.App(ctx, id)
	if errors.Is(err, verify.ErrNotFound) {
		return verify.App{}, verify.Errorf(verify.CodeNotFound, "no app %q", id)
	}
	return a, err
}

// UpdateSettings applies p to an app's settings after validating every
// field: a dialplan that does not parse is refused with its line. An app
// has one settings object, which its live traffic uses, so a sandbox
// tenant (a test key) may not change it.
func (s *Service) UpdateSettings(ctx context.Context, t verify.Tenant, p verify.SettingsPatch) (verify.App, error) {
	return s.PatchApp(ctx, t, nil, &p)
}

// revokedHere reports whether the app has a revoked key with this hash.
func revokedHere(ctx context.Context, tx verify.Tx, appID, hash string) bool {
	ks, err := tx.APIKeys(ctx, appID)
	if err != nil {
		return false
	}
	for _, k := range ks {
		if k.Hash == hash && !k.RevokedAt.IsZero() {
			return true
		}
	}
	return false
}

// UpdateApp applies p, audited.
func (s *Service) UpdateApp(ctx context.Context, t verify.Tenant, p verify.AppPatch) (verify.App, error) {
	return s.PatchApp(ctx, t, &p, nil)
}

// PatchApp changes an app's name or callback (ap) and its settings (sp)
// in one transaction, audited: a bad field in either leaves the app as it
// was. A nil patch leaves that part alone. An app's settings and callback
// are what its live traffic uses, so a sandbox tenant (a test key) may
// change neither.
func (s *Service) PatchApp(ctx context.Context, t verify.Tenant, ap *verify.AppPatch, sp *verify.SettingsPatch) (verify.App, error) {
	if err := t.ForbidSandbox("PATCH /v1/app"); err != nil {
		return verify.App{}, err
	}
	if ap != nil {
		if err := s.rules.CheckAppPatch(*ap); err != nil {
			return verify.App{}, err
		}
	}
	appID := t.AppID
	var app verify.App
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		var err error
		if app, err = tx.App(ctx, appID); err != nil {
			return err
		}
		if sp != nil {
			if err := s.rules.ApplySettings(&app, *sp); err != nil {
				return err
			}
		}
		var fields []string
		if ap != nil {
			fields = ap.Apply(&app)
		}
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		if sp != nil {
			if err := s.audit(ctx, tx, t, verify.AuditSettingsUpdated, appID, map[string]any{"fields": sp.Fields()}); err != nil {
				return err
			}
		}
		if ap != nil {
			return s.audit(ctx, tx, t, verify.AuditAppUpdated, appID, map[string]any{"fields": fields})
		}
		return nil
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.App{}, verify.Errorf(verify.CodeNotFound, "no app %q", appID)
	}
	return app, err
}

// RotateWebhookSecret gives the app a new webhook secret. During overlap
// the secrets it had keep signing too: every delivery carries one
// signature per secret (Standard Webhooks' space-separated
// webhook-signature), so receivers can switch at their own pace.
//
// The app's stored WebhookSecret then holds the current secret first and
// the overlapping ones after it, each as "whsec_…;until=<unix ms>"
// (ParseWebhookSecrets reads it back; internal/webhook signs with each).
func (s *Service) RotateWebhookSecret(ctx context.Context, t verify.Tenant, overlap time.Duration) (verify.Rotation, error) {
	if err := t.ForbidSandbox("rotating the webhook secret"); err != nil {
		return verify.Rotation{}, err
	}
	appID := t.AppID
	if overlap < 0 || overlap > verify.MaxSecretOverlap {
		return verify.Rotation{}, verify.FieldErrorf(verify.CodeInvalid, "overlap", "the overlap must be between 0 and %s", verify.MaxSecretOverlap)
	}
	now := s.Now()
	r := verify.Rotation{Secret: verify.NewWebhookSecret()}
	if overlap > 0 {
		r.PreviousUntil = now.Add(overlap)
	}
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		app, err := tx.App(ctx, appID)
		if err != nil {
			return err
		}
		keep := []string{r.Secret}
		if overlap > 0 {
			for _, old := range verify.ParseWebhookSecrets(app.WebhookSecret, now) {
				until := r.PreviousUntil
				if !old.Until.IsZero() && old.Until.Before(until) {
					until = old.Until // an older overlap does not get longer
				}
				keep = append(keep, old.Secret+";until="+strconv.FormatInt(until.UnixMilli(), 10))
			}
		}
		app.WebhookSecret = strings.Join(keep, " ")
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		detail := map[string]any{"overlap_seconds": int64(overlap / time.Second)}
		return s.audit(ctx, tx, t, verify.AuditSecretRotated, appID, detail)
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.Rotation{}, verify.Errorf(verify.CodeNotFound, "no app %q", appID)
	}
	if err == nil && s.pub != nil { // every node's dispatcher drops the old secret
		s.pub.Publish(verify.Notice{AppID: appID, SecretRotated: true})
	}
	return r, err
}

// Apps lists every app, ordered by id (the console's app filter and pool
// management).
func (s *Service) Apps(ctx context.Context) ([]verify.App, error) { return s.store.Apps(ctx) }
