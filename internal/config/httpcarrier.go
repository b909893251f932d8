package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// HTTPCarrierTypes are the carriers reached over their providers' HTTP
// APIs; each takes its options under http.
var HTTPCarrierTypes = map[string]bool{"twilio": true, "vonage": true, "plivo": true, "telnyx": true}

// HTTPCarrier configures a carrier reached over its provider's HTTP API
// (types twilio, vonage, plivo, telnyx). Which provider uses which field:
//
//	             twilio       vonage              plivo       telnyx
//	account_id   Account SID  -                   Auth ID     -
//	auth_token   Auth Token   -                   Auth Token  -
//	api_key      -            API key (SMS)       -           API key (v2)
//	api_secret   -            API secret (SMS)    -           -
//	application_id -          Application ID      -           -
//	private_key_file -        application key     -           -
//	signature_secret -        signature secret    -           -
//	public_key   -            -                   -           webhook public key
//	connection_id -           -                   -           TeXML application id
//
// Secrets (auth_token, api_key, api_secret, signature_secret) may instead
// come from the environment, like every carrier secret (carrier_secrets.go):
// RINGGATE_CARRIER_<NAME>_HTTP_<FIELD> (RINGGATE_CARRIER_TWILIO_HTTP_AUTH_TOKEN),
// or from the file named by that variable with _FILE appended.
type HTTPCarrier struct {
	AccountID       string `yaml:"account_id"`
	AuthToken       string `yaml:"auth_token"`
	APIKey          string `yaml:"api_key"`
	APISecret       string `yaml:"api_secret"`
	ApplicationID   string `yaml:"application_id"`
	PrivateKeyFile  string `yaml:"private_key_file"`
	SignatureSecret string `yaml:"signature_secret"`
	PublicKey       string `yaml:"public_key"`
	ConnectionID    string `yaml:"connection_id"`
	// MessagingProfileID (telnyx, optional) is sent with every text.
	MessagingProfileID string `yaml:"messaging_profile_id"`
	// From lists default caller IDs / senders (E.164) for commands that
	// name none.
	From []string `yaml:"from"`
	// Country is the ISO region of national-format numbers in webhooks.
	Country string `yaml:"country"`
	// APIBase overrides the provider's API root (tests, regional hosts).
	APIBase string `yaml:"api_base"`
	// PublicURL is how the provider reaches ringgate; default the
	// top-level public_url. Webhooks go to PublicURL/carriers/NAME/….
	PublicURL string `yaml:"public_url"`
}

func (h HTTPCarrier) empty() bool {
	return h.AccountID == "" && h.AuthToken == "" && h.APIKey == "" && h.APISecret == "" && h.ApplicationID == "" &&
		h.PrivateKeyFile == "" && h.SignatureSecret == "" && h.PublicKey == "" && h.ConnectionID == "" &&
		h.MessagingProfileID == "" && len(h.From) == 0 && h.Country == "" && h.APIBase == "" && h.PublicURL == ""
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validate checks the options a provider needs; publicURL is the
// top-level public_url.
func (h HTTPCarrier) validate(typ, publicURL string) []error {
	var errs []error
	need := func(v, key, what string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("http.%s is required for %s (%s)", key, typ, what))
		}
	}
	unused := func(keys ...string) {
		vals := map[string]string{
			"account_id": h.AccountID, "auth_token": h.AuthToken, "api_key": h.APIKey, "api_secret": h.APISecret,
			"application_id": h.ApplicationID, "private_key_file": h.PrivateKeyFile, "signature_secret": h.SignatureSecret,
			"public_key": h.PublicKey, "connection_id": h.ConnectionID, "messaging_profile_id": h.MessagingProfileID,
		}
		for _, k := range keys {
			if vals[k] != "" {
				errs = append(errs, fmt.Errorf("http.%s is not used by %s", k, typ))
			}
		}
	}
	switch typ {
	case "twilio":
		need(h.AccountID, "account_id", "the Account SID, AC…")
		if h.AccountID != "" && (!strings.HasPrefix(h.AccountID, "AC") || strings.ContainsAny(h.AccountID, "/?#% ")) {
			errs = append(errs, fmt.Errorf("http.account_id: %q is not a Twilio Account SID (AC…)", h.AccountID))
		}
		need(h.AuthToken, "auth_token", "signs webhooks and authenticates API calls")
		unused("api_key", "api_secret", "application_id", "private_key_file", "signature_secret", "public_key", "connection_id", "messaging_profile_id")
	case "telnyx":
		need(h.APIKey, "api_key", "the API v2 key")
		need(h.PublicKey, "public_key", "the account's webhook public key, to verify Ed25519 signatures")
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h.PublicKey)); h.PublicKey != "" && (err != nil || len(b) != ed25519.PublicKeySize) {
			errs = append(errs, errors.New("http.public_key: not a base64 Ed25519 public key (32 bytes)"))
		}
		if strings.ContainsAny(h.ConnectionID, "/?#% ") {
			errs = append(errs, fmt.Errorf("http.connection_id: %q is not an id", h.ConnectionID))
		}
		unused("account_id", "auth_token", "api_secret", "application_id", "private_key_file", "signature_secret")
	case "vonage":
		need(h.ApplicationID, "application_id", "the Voice application that places calls")
		need(h.PrivateKeyFile, "private_key_file", "the application's private key, to sign API JWTs")
		need(h.SignatureSecret, "signature_secret", "verifies signed webhooks")
		if (h.APIKey == "") != (h.APISecret == "") {
			errs = append(errs, errors.New("http.api_key and http.api_secret go together (SMS)"))
		}
		unused("account_id", "auth_token", "public_key", "connection_id", "messaging_profile_id")
	case "plivo":
		need(h.AccountID, "account_id", "the Auth ID")
		need(h.AuthToken, "auth_token", "signs webhooks (V3) and authenticates API calls")
		unused("api_key", "api_secret", "application_id", "private_key_file", "signature_secret", "public_key", "connection_id", "messaging_profile_id")
	}
	for _, f := range h.From {
		if !e164.MatchString(f) {
			errs = append(errs, fmt.Errorf("http.from: %q is not an E.164 number", f))
		}
	}
	if h.Country != "" && (len(h.Country) != 2 || strings.ToUpper(h.Country) != h.Country) {
		errs = append(errs, fmt.Errorf("http.country: %q is not an ISO region like GB", h.Country))
	}
	for _, u := range []struct{ key, v string }{{"api_base", h.APIBase}, {"public_url", h.PublicURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			errs = append(errs, fmt.Errorf("http.%s: %q is not an http(s) URL", u.key, u.v))
		}
	}
	if h.PublicURL == "" && publicURL == "" {
		errs = append(errs, errors.New("public_url (top-level or http.public_url) is required: the provider calls ringgate back there"))
	}
	return errs
}

// WebhookBase is the URL the provider calls for carrier name: its
// public_url (or the top-level one) + "/carriers/" + name.
func (h HTTPCarrier) WebhookBase(top, name string) string {
	base := h.PublicURL
	if base == "" {
		base = top
	}
	return strings.TrimRight(base, "/") + "/carriers/" + url.PathEscape(name)
}

// EffectivePublicURL is http.public_url, or the top-level public_url.
func (h HTTPCarrier) EffectivePublicURL(top string) string {
	if h.PublicURL != "" {
		return strings.TrimRight(h.PublicURL, "/")
	}
	return strings.TrimRight(top, "/")
}
