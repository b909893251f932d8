package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/verify"
)

// Dev mode's demo app and its pool. The pool numbers are in the US 555-01XX
// block reserved for fiction, so a visitor who dials one from a real phone
// reaches nobody; the pool serves every country, so any valid number can be
// tried.
const DemoAppID = "app_demo"

// DemoFlashRange is the demo app's flash-call caller-ID range: the simulator
// never places a real call, so any valid range does. Its 6 random digits
// carry the default 6-digit code.
const DemoFlashRange = "+442079XXXXXX"

// DemoPool is the demo app's missed-call pool.
var DemoPool = []string{"+12025550100", "+12025550101", "+12025550102", "+12025550103", "+12025550104"}

// Environment variables that pin dev credentials.
const (
	EnvDevAPIKey        = "RINGGATE_DEV_API_KEY"
	EnvDevWebhookSecret = "RINGGATE_DEV_WEBHOOK_SECRET"
	// The demo app's credentials for the compatible APIs (docs/compat.md).
	EnvDevTwilioAccountSID = "RINGGATE_DEV_TWILIO_ACCOUNT_SID"
	EnvDevTwilioAuthToken  = "RINGGATE_DEV_TWILIO_AUTH_TOKEN"
	EnvDevVonageAPIKey     = "RINGGATE_DEV_VONAGE_API_KEY"
	EnvDevVonageAPISecret  = "RINGGATE_DEV_VONAGE_API_SECRET"
)

// DevInfo is what dev mode prints for the developer.
type DevInfo struct {
	APIKey        string `json:"api_key"`
	WebhookSecret string `json:"webhook_secret"`
	// AdminToken opens the operator console (/console) in dev mode unless
	// console.admin_token is set.
	AdminToken string `json:"admin_token,omitempty"`
	// Compat are the demo app's Twilio- and Vonage-style credentials.
	Compat compat.Credentials `json:"compat"`
}

// loadDevCredentials returns the demo app's key and secret: pinned by the
// environment, else those saved in the data dir by an earlier start, else
// new ones (saved, so the next start prints the same).
func loadDevCredentials(dir string, env func(string) (string, bool)) (DevInfo, error) {
	path := filepath.Join(dir, "dev-credentials.json")
	var d DevInfo
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &d); err != nil {
			return DevInfo{}, fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return DevInfo{}, fmt.Errorf("read dev credentials: %w", err)
	}
	if env == nil {
		env = os.LookupEnv
	}
	if v, ok := env(EnvDevAPIKey); ok && v != "" {
		d.APIKey = v
	}
	if v, ok := env(EnvDevWebhookSecret); ok && v != "" {
		d.WebhookSecret = v
	}
	if d.APIKey == "" {
		d.APIKey = verify.NewAPIKey(verify.KeyLive)
	}
	if d.WebhookSecret == "" {
		d.WebhookSecret = verify.NewWebhookSecret()
	}
	if d.AdminToken == "" {
		d.AdminToken = newAdminToken()
	}
	var pins compat.Pins
	for name, dst := range map[string]*string{
		EnvDevTwilioAccountSID: &pins.TwilioAccountSID, EnvDevTwilioAuthToken: &pins.TwilioAuthToken,
		EnvDevVonageAPIKey: &pins.VonageAPIKey, EnvDevVonageAPISecret: &pins.VonageAPISecret,
	} {
		if v, ok := env(name); ok && v != "" {
			*dst = v
		}
	}
	if err := pins.Check(); err != nil {
		return DevInfo{}, fmt.Errorf("dev compat credentials: %w", err)
	}
	d.Compat = devCompat(d.Compat, pins)
	if _, ok := verify.KeyKindOf(d.APIKey); !ok {
		return DevInfo{}, fmt.Errorf("%s must start with %q or %q", EnvDevAPIKey, verify.LiveKeyPrefix, verify.TestKeyPrefix)
	}
	if !verify.ValidWebhookSecret(d.WebhookSecret) {
		return DevInfo{}, fmt.Errorf("%s must be whsec_ and 16 to 64 bytes in base64", EnvDevWebhookSecret)
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return DevInfo{}, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return DevInfo{}, fmt.Errorf("save dev credentials: %w", err)
	}
	return d, nil
}

// devCompat keeps the saved compat credentials but where a pin differs,
// and draws whatever is missing.
func devCompat(saved compat.Credentials, p compat.Pins) compat.Credentials {
	fresh := compat.NewCredentials(DemoAppID, p)
	c := saved
	c.AppID = DemoAppID
	pick := func(dst *string, pin, gen string) {
		switch {
		case pin != "":
			*dst = pin
		case *dst == "":
			*dst = gen
		}
	}
	pick(&c.TwilioAccountSID, p.TwilioAccountSID, fresh.TwilioAccountSID)
	pick(&c.TwilioAuthToken, p.TwilioAuthToken, fresh.TwilioAuthToken)
	pick(&c.VonageAPIKey, p.VonageAPIKey, fresh.VonageAPIKey)
	pick(&c.VonageAPISecret, p.VonageAPISecret, fresh.VonageAPISecret)
	pick(&c.TwilioKeySID, "", fresh.TwilioKeySID)
	pick(&c.TwilioKeySecret, "", fresh.TwilioKeySecret)
	pick(&c.VonageAppID, "", fresh.VonageAppID)
	pick(&c.VonageSignatureSecret, "", fresh.VonageSignatureSecret)
	return c
}

// seedDev installs the demo app (its callback is this server's own dev
// inbox) and its pool, keeping whatever exists.
func (s *Server) seedDev(ctx context.Context) error {
	_, err := s.op.EnsureApp(ctx, verify.NewApp{
		ID: DemoAppID, Name: "Demo", DefaultCallbackURL: "http://" + s.Addr() + "/dev/webhooks",
		WebhookSecret: s.dev.WebhookSecret, APIKeys: []string{s.dev.APIKey},
		Settings: verify.Settings{FlashCallerIDs: []verify.CallerIDRange{{Country: verify.AnyCountry, Pattern: DemoFlashRange}}},
	})
	if err != nil {
		return fmt.Errorf("install demo app: %w", err)
	}
	if s.keeper != nil {
		if err := s.keeper.Install(ctx, s.dev.Compat); err != nil {
			return fmt.Errorf("install demo compat credentials: %w", err)
		}
	}
	for _, n := range DemoPool {
		if _, err := s.op.AddNumber(ctx, DemoAppID, n, verify.AnyCountry); err != nil && verify.ErrorCode(err) != verify.CodeConflict {
			return fmt.Errorf("install demo pool: %w", err)
		}
	}
	return nil
}

// Dev returns dev mode's credentials.
func (s *Server) Dev() DevInfo { return s.dev }

// PrintDevBanner tells the developer how to start.
func (s *Server) PrintDevBanner(w io.Writer) {
	u := s.URL()
	fmt.Fprintf(w, `
ringgate dev is running at %s
  database        %s (SQLite)
  demo app        %s
  API key         %s
  webhook secret  %s
  webhooks go to  %s/dev/webhooks  (read them: curl %s/dev/webhooks)
  missed-call pool, every country: %v
  demo sign-up    %s/  (the widget, with a simulated phone beside it)
  console         %s/console  (admin token %s)
  Twilio Verify   Account SID %s  Auth Token %s
                  (or API key %s:%s; point the SDK at %s, docs/compat.md)
  Vonage Verify   api_key %s  api_secret %s  (status callbacks signed with %s)

Try a missed call:
  curl -s %s/v1/verifications -H 'Authorization: Bearer %s' \
       -H 'Content-Type: application/json' -d '{"phone": "+447911123456", "channel": "missed_call"}'
  curl -s %s/sim/calls -H 'Content-Type: application/json' \
       -d '{"from": "+447911123456", "to": "<dial_number from the answer>"}'

`, u, s.cfg.Database.URL, DemoAppID, s.dev.APIKey, s.dev.WebhookSecret, u, u, DemoPool, u, u, s.AdminToken(),
		s.dev.Compat.TwilioAccountSID, s.dev.Compat.TwilioAuthToken, s.dev.Compat.TwilioKeySID, s.dev.Compat.TwilioKeySecret, u,
		s.dev.Compat.VonageAPIKey, s.dev.Compat.VonageAPISecret, s.dev.Compat.VonageSignatureSecret, u, s.dev.APIKey, u)
	for _, c := range s.cfg.Carriers {
		if c.Type != "sip" {
			continue
		}
		if addrs := s.SIPAddrs()[c.Name]; len(addrs) > 0 {
			fmt.Fprintf(w, "SIP: missed calls in on %s (UDP and TCP), e.g. an INVITE to sip:<dial_number>@%s from sip:<phone>@…\n", strings.Join(addrs, ", "), addrs[0])
		}
		if c.SIP.Trunk != "" {
			fmt.Fprintf(w, "SIP: flash and answered calls go out to %s\n", c.SIP.Trunk)
		}
	}
}
