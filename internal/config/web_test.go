package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPricesAndConsole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringgate.yaml")
	os.WriteFile(path, []byte(`secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
database: {url: "sqlite:/tmp/x.db"}
console: {admin_token: "0123456789abcdef0123"}
prices:
  currency: EUR
  per_channel: {sms_otp: 0.07}
  country: {FR: {sms_otp: 0.09}}
`), 0o600)
	c, err := Load(ModeServe, path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Prices.Currency != "EUR" || c.Prices.Price("sms_otp", "GB") != 0.07 || c.Prices.Price("sms_otp", "FR") != 0.09 || c.Prices.Price("flash_call", "FR") != 0.003 {
		t.Fatalf("prices: %+v", c.Prices)
	}
	if c.Console.AdminToken != "0123456789abcdef0123" {
		t.Fatalf("admin token %q", c.Console.AdminToken)
	}
	env := func(k string) (string, bool) {
		return map[string]string{"RINGGATE_ADMIN_TOKEN": "short"}[k], k == "RINGGATE_ADMIN_TOKEN"
	}
	c, _ = Load(ModeServe, path, env)
	c.Prices.PerChannel["fax"] = 1
	c.Prices.PerChannel["voice_otp"] = -1
	err = c.Validate()
	for _, want := range []string{"console.admin_token: at least 16", `"fax" is not a channel`, "voice_otp: a price cannot be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to say %q", err, want)
		}
	}
}
