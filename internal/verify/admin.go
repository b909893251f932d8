package verify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/phone"
)

// NewApp describes an app to create. Empty secrets are generated.
type NewApp struct {
	ID                 string // "" for a generated id
	Name               string
	DefaultCallbackURL string
	WebhookSecret      string   // whsec_…
	APIKeys            []string // keys to install; one live key is generated if empty
	// Settings are applied to a new app, and to an existing one (EnsureApp)
	// only where it has none of its own.
	Settings Settings
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
	if err := s.checkSettings(&a.Settings); err != nil {
		return Credentials{}, err
	}
	app := App{ID: a.ID, Name: a.Name, DefaultCallbackURL: a.DefaultCallbackURL, WebhookSecret: a.WebhookSecret, Settings: a.Settings, CreatedAt: s.Now()}
	err := s.store.Tx(ctx, func(tx Tx) error {
		old, err := tx.App(ctx, app.ID)
		switch {
		case err == nil && !upsert:
			return Errorf(CodeConflict, "app %q exists", app.ID)
		case err == nil:
			app.CreatedAt = old.CreatedAt
			app.Settings = mergeSettings(old.Settings, a.Settings)
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
			k := APIKey{ID: NewID("key_"), AppID: app.ID, Hash: HashAPIKey(key), Prefix: KeyPrefixOf(key), Kind: kind, Scope: ScopeAdmin, CreatedAt: app.CreatedAt}
			err := tx.InsertAPIKey(ctx, k)
			if errors.Is(err, ErrConflict) && upsert {
				if _, owner, err := tx.APIKeyByHash(ctx, k.Hash); err == nil && owner.ID == app.ID {
					continue // already installed
				}
				if revokedHere(ctx, tx, app.ID, k.Hash) {
					continue // installed once and revoked since: the revocation stands
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
		if err := tx.InsertNumber(ctx, num); err != nil || !hasActor(ctx) {
			return err
		}
		return s.audit(ctx, tx, LiveTenant(appID), AuditNumberAdded, num.Number, map[string]any{"country": num.Country})
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
	err := s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.DeleteNumber(ctx, appID, n); err != nil || !hasActor(ctx) {
			return err
		}
		return s.audit(ctx, tx, LiveTenant(appID), AuditNumberRemoved, n, nil)
	})
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

// mergeSettings keeps what an app has set and fills in the rest from def.
func mergeSettings(have, def Settings) Settings {
	if have.SMSTemplates == nil {
		have.SMSTemplates = def.SMSTemplates
	}
	if have.FlashCallerIDs == nil {
		have.FlashCallerIDs = def.FlashCallerIDs
	}
	if have.DialplanXML == "" {
		have.DialplanXML = def.DialplanXML
	}
	if have.AndroidAppHash == "" {
		have.AndroidAppHash = def.AndroidAppHash
	}
	if have.SMSSender == "" {
		have.SMSSender = def.SMSSender
	}
	return have
}

// SettingsPatch changes some of an app's settings: a nil field is left as
// it is, an empty value clears it.
type SettingsPatch struct {
	SMSTemplates   *map[string]string `json:"sms_templates,omitempty"`
	AndroidAppHash *string            `json:"android_app_hash,omitempty"`
	SMSSender      *string            `json:"sms_sender,omitempty"`
	DialplanXML    *string            `json:"dialplan_xml,omitempty"`
	FlashCallerIDs *[]CallerIDRange   `json:"flash_caller_ids,omitempty"`

	RateLimits       *[]RateLimit         `json:"rate_limits,omitempty"`
	AllowedCountries *map[string][]string `json:"allowed_countries,omitempty"`
	DenyPrefixes     *[]string            `json:"deny_prefixes,omitempty"`
	RiskHook         *RiskHook            `json:"risk_hook,omitempty"`
	// MaxWrongNumberCalls: 0 restores the default (1).
	MaxWrongNumberCalls *int `json:"max_wrong_number_calls,omitempty"`
}

// UpdateSettings applies p to an app's settings after validating every
// field: a dialplan that does not parse is refused with its line. An app
// has one settings object, which its live traffic uses, so a sandbox
// tenant (a test key) may not change it.
func (s *Service) UpdateSettings(ctx context.Context, t Tenant, p SettingsPatch) (App, error) {
	return s.PatchApp(ctx, t, nil, &p)
}

// applySettings validates p over app's settings and sets them on app.
func (s *Service) applySettings(app *App, p SettingsPatch) error {
	st := app.Settings
	if p.SMSTemplates != nil {
		st.SMSTemplates = *p.SMSTemplates
	}
	if p.AndroidAppHash != nil {
		st.AndroidAppHash = *p.AndroidAppHash
	}
	if p.SMSSender != nil {
		st.SMSSender = *p.SMSSender
	}
	if p.DialplanXML != nil {
		st.DialplanXML = *p.DialplanXML
	}
	if p.FlashCallerIDs != nil {
		st.FlashCallerIDs = *p.FlashCallerIDs
	}
	p.applyAbuse(&st)
	if err := s.checkSettings(&st); err != nil {
		return err
	}
	app.Settings = st
	return nil
}

// fields names the settings p changes, for the audit log (values may be
// large, like a dialplan, so they are not copied there).
func (p SettingsPatch) fields() []string {
	f := []string{}
	if p.SMSTemplates != nil {
		f = append(f, "sms_templates")
	}
	if p.AndroidAppHash != nil {
		f = append(f, "android_app_hash")
	}
	if p.SMSSender != nil {
		f = append(f, "sms_sender")
	}
	if p.DialplanXML != nil {
		f = append(f, "dialplan_xml")
	}
	if p.FlashCallerIDs != nil {
		f = append(f, "flash_caller_ids")
	}
	return append(f, p.abuseFields()...)
}

var (
	appHashRE  = regexp.MustCompile(`^[A-Za-z0-9+/]{11}$`)
	senderIDRE = regexp.MustCompile(`^(\+[0-9]{6,15}|[A-Za-z0-9 ]{1,11})$`)
)

// checkSettings validates settings and normalises what it can.
func (s *Service) checkSettings(st *Settings) error {
	for loc, t := range st.SMSTemplates {
		if !localeRE.MatchString(loc) {
			return FieldErrorf(CodeInvalid, "sms_templates", "%q is not a locale like \"en\" or \"pt-BR\"", loc)
		}
		if err := CheckSMSTemplate(t); err != nil {
			return FieldErrorf(CodeInvalid, "sms_templates", "the %s template %v", loc, err)
		}
	}
	if st.AndroidAppHash != "" && !appHashRE.MatchString(st.AndroidAppHash) {
		return FieldErrorf(CodeInvalid, "android_app_hash", "an SMS Retriever app hash is 11 characters of base64")
	}
	if st.SMSSender != "" && !senderIDRE.MatchString(st.SMSSender) {
		return FieldErrorf(CodeInvalid, "sms_sender", "a sender is an E.164 number or 1 to 11 letters, digits and spaces")
	}
	if st.DialplanXML != "" {
		if _, err := ivr.Parse([]byte(st.DialplanXML)); err != nil {
			var se *ivr.SyntaxError
			line := 0
			if errors.As(err, &se) {
				line = se.Line
			}
			return &Error{Code: CodeInvalidDialplan, Field: "dialplan_xml", Message: "dialplan_xml: " + err.Error(), Line: line, Err: err}
		}
	}
	if err := s.checkAbuseSettings(st); err != nil {
		return err
	}
	for i := range st.FlashCallerIDs {
		r := &st.FlashCallerIDs[i]
		r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
		if r.Country == "" {
			r.Country = AnyCountry
		}
		if r.Country != AnyCountry && !phone.ValidCountry(r.Country) {
			return FieldErrorf(CodeInvalid, "flash_caller_ids", "unknown country %q (ISO 3166-1 alpha-2, or %q for all)", r.Country, AnyCountry)
		}
		if err := CheckCallerIDPattern(r.Pattern); err != nil {
			return FieldErrorf(CodeInvalid, "flash_caller_ids", "%v", err)
		}
	}
	return nil
}

// revokedHere reports whether the app has a revoked key with this hash.
func revokedHere(ctx context.Context, tx Tx, appID, hash string) bool {
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
