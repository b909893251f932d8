package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The docs/carriers.md examples, in one file.
const httpCarriersYAML = `
public_url: https://verify.example.com
secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
database: {url: "sqlite:/tmp/x.db"}
carriers:
  - name: twilio
    type: twilio
    http:
      account_id: AC0123456789abcdef0123456789abcdef
      from: ["+15005550006"]
      country: US
  - name: telnyx
    type: telnyx
    http:
      api_key: KEY0123
      public_key: 7f8UqwbLRMkgPp8JlRN8z9m1XqJeKxTr1Wg1sJOeWYs=
      connection_id: "1293384261075731499"
      from: ["+13120001234"]
  - name: vonage
    type: vonage
    http:
      application_id: aaaaaaaa-bbbb-cccc-dddd-0123456789ab
      private_key_file: /etc/ringgate/vonage.key
      signature_secret: sig
      api_key: abcd1234
      api_secret: s3cr3t
  - name: plivo
    type: plivo
    http:
      account_id: MAXXXXXXXXXXXXXXXXXX
      auth_token: tok
routes:
  - channel: sms_otp
    carriers: [twilio, telnyx]
  - carriers: [telnyx, twilio]
`

func TestHTTPCarriersLoadWithSecretsFromEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringgate.yaml")
	os.WriteFile(path, []byte(httpCarriersYAML), 0o600)
	tokFile := filepath.Join(dir, "tok")
	os.WriteFile(tokFile, []byte("from-a-file\n"), 0o600)
	env := map[string]string{"RINGGATE_CARRIER_TWILIO_HTTP_AUTH_TOKEN_FILE": tokFile, "RINGGATE_CARRIER_TELNYX_HTTP_API_KEY": "KEYfromenv"}
	c, err := Load(ModeServe, path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Carriers[0].HTTP.AuthToken != "from-a-file" || c.Carriers[1].HTTP.APIKey != "KEYfromenv" {
		t.Fatalf("env secrets not applied: %+v %+v", c.Carriers[0].HTTP, c.Carriers[1].HTTP)
	}
	if got := c.Carriers[0].HTTP.WebhookBase(c.PublicURL, "twilio"); got != "https://verify.example.com/carriers/twilio" {
		t.Fatal(got)
	}
	env["RINGGATE_CARRIER_TWILIO_HTTP_AUTH_TOKEN_FILE"] = filepath.Join(dir, "missing")
	if _, err := Load(ModeServe, path, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
		t.Fatal("a missing _FILE was accepted")
	}
}

func TestHTTPCarrierValidation(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		h    HTTPCarrier
		want string
	}{
		{"twilio", HTTPCarrier{AuthToken: "t"}, "http.account_id is required"},
		{"twilio", HTTPCarrier{AccountID: "XY1", AuthToken: "t"}, "not a Twilio Account SID"},
		{"twilio", HTTPCarrier{AccountID: "AC1"}, "http.auth_token is required"},
		{"twilio", HTTPCarrier{AccountID: "AC1", AuthToken: "t", PublicKey: "x"}, "http.public_key is not used by twilio"},
		{"twilio", HTTPCarrier{AccountID: "AC1", AuthToken: "t", From: []string{"0044"}}, "not an E.164 number"},
		{"twilio", HTTPCarrier{AccountID: "AC1", AuthToken: "t", APIBase: "ftp://x"}, "http.api_base"},
		{"telnyx", HTTPCarrier{APIKey: "k"}, "http.public_key is required"},
		{"telnyx", HTTPCarrier{APIKey: "k", PublicKey: "c2hvcnQ="}, "not a base64 Ed25519 public key"},
		{"telnyx", HTTPCarrier{PublicKey: "7f8UqwbLRMkgPp8JlRN8z9m1XqJeKxTr1Wg1sJOeWYs="}, "http.api_key is required"},
		{"vonage", HTTPCarrier{ApplicationID: "a", PrivateKeyFile: "k"}, "http.signature_secret is required"},
		{"vonage", HTTPCarrier{ApplicationID: "a", PrivateKeyFile: "k", SignatureSecret: "s", APIKey: "k"}, "go together"},
		{"plivo", HTTPCarrier{AccountID: "MA1"}, "http.auth_token is required"},
	} {
		c := Defaults(ModeDev)
		c.PublicURL = "https://rg.example"
		c.Carriers = []Carrier{{Name: "x", Type: tc.typ, HTTP: tc.h}}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v, want %q", tc.typ, tc.h, err, tc.want)
		}
	}
	c := Defaults(ModeDev)
	c.Carriers = []Carrier{{Name: "x", Type: "twilio", HTTP: HTTPCarrier{AccountID: "AC1", AuthToken: "t"}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "public_url") {
		t.Errorf("no public_url: %v", err)
	}
	c.Carriers = []Carrier{{Name: "x", Type: "sim", HTTP: HTTPCarrier{AuthToken: "t"}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "http options are for") {
		t.Errorf("http on sim: %v", err)
	}
}

// Every config example in docs/carriers.md loads and validates (with the
// secrets it leaves to the environment given there).
func TestCarriersDocExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/carriers.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```yaml\n")[1:]
	if len(blocks) < 2 {
		t.Fatalf("%d yaml examples in docs/carriers.md", len(blocks))
	}
	env := map[string]string{"RINGGATE_CARRIER_TWILIO_HTTP_AUTH_TOKEN": "tok", "RINGGATE_CARRIER_TELNYX_HTTP_API_KEY": "KEY1"}
	for i, blk := range blocks {
		yml, _, _ := strings.Cut(blk, "```")
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte("secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\ndatabase: {url: \"sqlite:/tmp/x.db\"}\n"+yml), 0o600)
		c, err := Load(ModeServe, path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Errorf("example %d: %v\n%s", i+1, err, yml)
		}
	}
}
