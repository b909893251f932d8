package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringgate/ringgate/internal/phone"
)

// NewApp describes an app to create. Empty secrets are generated.
type NewApp struct {
	ID                 string // "" for a generated id
	Name               string
	DefaultCallbackURL string
	WebhookSecret      string   // whsec_…
	APIKeys            []string // keys to install; one live key is generated if empty
}

// Credentials are an app's secrets as created: the only time keys are seen
// in the clear.
type Credentials struct {
	App     App
	APIKeys []string
}

func (s *Service) checkNewApp(a *NewApp) error {
	if a.ID == "" {
		a.ID = NewID("app_")
	}
	if strings.TrimSpace(a.Name) == "" {
		a.Name = a.ID
	}
	if a.DefaultCallbackURL != "" {
		if err := s.checkURL(a.DefaultCallbackURL); err != nil {
			return FieldErrorf(CodeInvalid, "callback_url", "callback URL %v", err)
		}
	}
	if a.WebhookSecret == "" {
		a.WebhookSecret = NewWebhookSecret()
	} else if !ValidWebhookSecret(a.WebhookSecret) {
		return FieldErrorf(CodeInvalid, "webhook_secret", "webhook secret must be \"whsec_\" and 16 to 64 bytes in base64")
	}
	if len(a.APIKeys) == 0 {
		a.APIKeys = []string{NewAPIKey(KeyLive)}
	}
	for _, k := range a.APIKeys {
		if _, ok := KeyKindOf(k); !ok || len(k) < len(LiveKeyPrefix)+16 {
			return FieldErrorf(CodeInvalid, "api_key", "API keys start with %q or %q and have at least 16 more characters", LiveKeyPrefix, TestKeyPrefix)
		}
	}
	return nil
}

// CreateApp creates an app with its keys.
func (s *Service) CreateApp(ctx context.Context, a NewApp) (Credentials, error) {
	return s.putApp(ctx, a, false)
}

// EnsureApp creates the app if it does not exist, and otherwise brings its
// name, callback and secret up to date and adds any key it lacks. Dev mode
// uses it so that pinned credentials hold across restarts.
func (s *Service) EnsureApp(ctx context.Context, a NewApp) (Credentials, error) {
	return s.putApp(ctx, a, true)
}

func (s *Service) putApp(ctx context.Context, a NewApp, upsert bool) (Credentials, error) {
	if err := s.checkNewApp(&a); err != nil {
		return Credentials{}, err
	}
	app := App{ID: a.ID, Name: a.Name, DefaultCallbackURL: a.DefaultCallbackURL, WebhookSecret: a.WebhookSecret, CreatedAt: s.Now()}
	err := s.store.Tx(ctx, func(tx Tx) error {
		old, err := tx.App(ctx, app.ID)
		switch {
		case err == nil && !upsert:
			return Errorf(CodeConflict, "app %q exists", app.ID)
		case err == nil:
			app.CreatedAt = old.CreatedAt
			if err := tx.UpdateApp(ctx, app); err != nil {
				return err
			}
		case errors.Is(err, ErrNotFound):
			if err := tx.InsertApp(ctx, app); err != nil {
				return err
			}
		default:
			return err
		}
		for _, key := range a.APIKeys {
			kind, _ := KeyKindOf(key)
			k := APIKey{ID: NewID("key_"), AppID: app.ID, Hash: HashAPIKey(key), Prefix: KeyPrefixOf(key), Kind: kind, CreatedAt: app.CreatedAt}
			err := tx.InsertAPIKey(ctx, k)
			if errors.Is(err, ErrConflict) && upsert {
				if _, owner, err := tx.APIKeyByHash(ctx, k.Hash); err == nil && owner.ID == app.ID {
					continue // already installed
				}
				return Errorf(CodeConflict, "API key %s… belongs to another app", k.Prefix)
			}
			if err != nil {
				return fmt.Errorf("install API key: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{App: app, APIKeys: a.APIKeys}, nil
}

// AddNumber puts a number in an app's missed-call pool, serving country (ISO
// alpha-2) or AnyCountry.
func (s *Service) AddNumber(ctx context.Context, appID, number, country string) (Number, error) {
	n, err := phone.ParseE164(number)
	if err != nil {
		return Number{}, &Error{Code: CodeInvalidPhone, Field: "number", Message: err.Error(), Err: err}
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		country = n.Country
	}
	if country != AnyCountry && !phone.ValidCountry(country) {
		return Number{}, FieldErrorf(CodeInvalid, "country", "unknown country %q (ISO 3166-1 alpha-2, or %q for all)", country, AnyCountry)
	}
	num := Number{AppID: appID, Number: n.E164, Country: country, CreatedAt: s.Now()}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if _, err := tx.App(ctx, appID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Errorf(CodeNotFound, "no app %q", appID)
			}
			return err
		}
		return tx.InsertNumber(ctx, num)
	})
	if errors.Is(err, ErrConflict) {
		return num, Errorf(CodeConflict, "app %s already has %s", appID, num.Number)
	}
	return num, err
}

// RemoveNumber takes a number out of an app's pool. Verifications already
// showing it keep it until they end.
func (s *Service) RemoveNumber(ctx context.Context, appID, number string) error {
	n := normalise(number, "")
	err := s.store.Tx(ctx, func(tx Tx) error { return tx.DeleteNumber(ctx, appID, n) })
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "app %s has no number %s", appID, n)
	}
	return err
}

// Numbers lists an app's pool.
func (s *Service) Numbers(ctx context.Context, appID string) ([]Number, error) {
	return s.store.Numbers(ctx, appID)
}

// App returns an app by id.
func (s *Service) App(ctx context.Context, id string) (App, error) {
	a, err := s.store.App(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return App{}, Errorf(CodeNotFound, "no app %q", id)
	}
	return a, err
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }
