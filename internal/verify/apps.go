package verify

import (
	"regexp"
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

// MergeSettings keeps what an app has set and fills in the rest from def.
func MergeSettings(have, def Settings) Settings {
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
	// MatchedCallEvents: "verified" (the default; "" too) or "both".
	MatchedCallEvents *string `json:"matched_call_events,omitempty"`
}

// Fields names the settings p changes, for the audit log (values may be
// large, like a dialplan, so they are not copied there).
func (p SettingsPatch) Fields() []string {
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
	if p.MatchedCallEvents != nil {
		f = append(f, "matched_call_events")
	}
	return append(f, p.abuseFields()...)
}

var (
	appHashRE  = regexp.MustCompile(`^[A-Za-z0-9+/]{11}$`)
	senderIDRE = regexp.MustCompile(`^(\+[0-9]{6,15}|[A-Za-z0-9 ]{1,11})$`)
)
