package verify

import (
	"errors"
	"strings"

	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/phone"
)

// Rules validates what an operator configures: apps, their settings and
// callback URLs. The verification service hands its rules to the operator
// service (internal/operator), which applies them before it writes.
type Rules struct {
	checkURL  func(string) error
	checkPlan func(*ivr.Dialplan) error
	abuse     AbusePolicy
}

// Rules returns the service's validation rules.
func (s *Service) Rules() Rules {
	return Rules{checkURL: s.checkURL, checkPlan: s.checkPlan, abuse: s.abuse}
}

// Abuse is the server's abuse policy.
func (r Rules) Abuse() AbusePolicy { return r.abuse }

// ForApp is the policy with the app's own rate limits in place of the
// defaults they override.
func (p AbusePolicy) ForApp(a App) AbusePolicy {
	p.Limits = effectiveLimits(p.Limits, a.Settings.RateLimits)
	return p
}

func (r Rules) CheckNewApp(a *NewApp) error {
	if a.ID == "" {
		a.ID = NewID("app_")
	}
	if strings.TrimSpace(a.Name) == "" {
		a.Name = a.ID
	}
	if a.DefaultCallbackURL != "" {
		if err := r.checkURL(a.DefaultCallbackURL); err != nil {
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

// ApplySettings validates p over app's settings and sets them on app.
func (r Rules) ApplySettings(app *App, p SettingsPatch) error {
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
	if p.MatchedCallEvents != nil {
		st.MatchedCallEvents = *p.MatchedCallEvents
	}
	p.applyAbuse(&st)
	if err := r.CheckSettings(&st); err != nil {
		return err
	}
	app.Settings = st
	return nil
}

// CheckSettings validates settings and normalises what it can.
func (r Rules) CheckSettings(st *Settings) error {
	switch st.MatchedCallEvents {
	case "", MatchedCallVerified:
		st.MatchedCallEvents = "" // the default, kept as absent
	case MatchedCallBoth:
	default:
		return FieldErrorf(CodeInvalid, "matched_call_events", "matched_call_events is %q (verification.verified alone, the default) or %q (call.received and verification.verified)", MatchedCallVerified, MatchedCallBoth)
	}
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
		d, err := ivr.Parse([]byte(st.DialplanXML))
		if err != nil {
			var se *ivr.SyntaxError
			line := 0
			if errors.As(err, &se) {
				line = se.Line
			}
			return &Error{Code: CodeInvalidDialplan, Field: "dialplan_xml", Message: "dialplan_xml: " + err.Error(), Line: line, Err: err}
		}
		if r.checkPlan != nil {
			if err := r.checkPlan(d); err != nil {
				return &Error{Code: CodeInvalidDialplan, Field: "dialplan_xml", Message: "dialplan_xml: " + err.Error(), Err: err}
			}
		}
	}
	if err := r.checkAbuseSettings(st); err != nil {
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

// CheckAppPatch validates a name and callback change before anything is
// written.
func (r Rules) CheckAppPatch(p AppPatch) error {
	if p.Name != nil && strings.TrimSpace(*p.Name) == "" {
		return FieldErrorf(CodeInvalid, "name", "an app's name cannot be empty")
	}
	if p.DefaultCallbackURL != nil && *p.DefaultCallbackURL != "" {
		if err := r.checkURL(*p.DefaultCallbackURL); err != nil {
			return FieldErrorf(CodeInvalid, "default_callback_url", "callback URL %v", err)
		}
	}
	return nil
}

// checkAbuseSettings validates an app's abuse settings.
func (r Rules) checkAbuseSettings(st *Settings) error {
	if err := CheckRateLimits(st.RateLimits); err != nil {
		return FieldErrorf(CodeInvalid, "rate_limits", "%v", err)
	}
	if err := CheckPrefixes(st.DenyPrefixes); err != nil {
		return FieldErrorf(CodeInvalid, "deny_prefixes", "%v", err)
	}
	if err := CheckAllowedCountries(st.AllowedCountries); err != nil {
		return FieldErrorf(CodeInvalid, "allowed_countries", "%v", err)
	}
	if n := st.MaxWrongNumberCalls; n < 0 || n > MaxWrongNumberCallsCap {
		return FieldErrorf(CodeInvalid, "max_wrong_number_calls", "max_wrong_number_calls must be from 1 to %d (0 for the default, 1)", MaxWrongNumberCallsCap)
	}
	if h := st.RiskHook; h != nil {
		if h.URL == "" {
			st.RiskHook = nil
		} else if err := r.checkURL(h.URL); err != nil {
			return FieldErrorf(CodeInvalid, "risk_hook", "risk_hook.url %v", err)
		}
	}
	return nil
}
