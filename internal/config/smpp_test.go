package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const smppYAML = `
secret: ` + secret + `
database:
  url: sqlite:/tmp/x.db
carriers:
  - name: smsc-eu
    type: smpp
    smpp:
      addr: smsc.example.net:2775
      system_id: ringgate
      system_type: OTP
      source_addr: Acme
      rate: 25
      enquire_link: 20s
      rebind_interval: 3s
  - name: backup
    type: sim
simulator:
  enabled: true
routes:
  - channel: sms_otp
    carriers: [smsc-eu, backup]
  - carriers: [backup]
`

func TestSMPPCarrierFromFileAndEnv(t *testing.T) {
	t.Parallel()
	c, err := Load(ModeServe, write(t, smppYAML), envMap(map[string]string{"RINGGATE_CARRIER_SMSC_EU_SMPP_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.Carriers[0].SMPP
	pw, err := s.Secret()
	if err != nil || pw != "s3cret" {
		t.Fatalf("password %q, %v", pw, err)
	}
	if s.Addr != "smsc.example.net:2775" || s.SystemID != "ringgate" || s.SystemType != "OTP" || s.SourceAddr != "Acme" ||
		s.Rate != 25 || s.EnquireLink != 20*time.Second || s.RebindInterval != 3*time.Second {
		t.Fatalf("smpp block: %+v", s)
	}
}

func TestSMPPPasswordFile(t *testing.T) {
	t.Parallel()
	pf := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pf, []byte("fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(ModeServe, write(t, strings.Replace(smppYAML, "      system_type: OTP\n", "      system_type: OTP\n      password_file: "+pf+"\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if pw, _ := c.Carriers[0].SMPP.Secret(); pw != "fromfile" {
		t.Fatalf("password %q", pw)
	}
}

func TestSMPPValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to, want string
	}{
		{"no addr", "addr: smsc.example.net:2775", "addr: smsc.example.net", `smpp.addr: "smsc.example.net" is not host:port`},
		{"no system_id", "system_id: ringgate", "system_id: ''", "smpp.system_id is required"},
		{"long password", "system_type: OTP", "system_type: OTP\n      password: ninechars", "at most 8 characters"},
		{"missing password file", "system_type: OTP", "system_type: OTP\n      password_file: /nonexistent/pw", "smpp.password_file"},
		{"negative rate", "rate: 25", "rate: -1", "smpp.rate must not be negative"},
		{"bad country", "rate: 25", "rate: 25\n      country: uk", `smpp.country: "uk"`},
		{"wildcard route", "  - carriers: [backup]", "  - carriers: [smsc-eu]", `carrier "smsc-eu" is an SMPP account, which sends texts only, but the route is for every channel`},
		{"call route", "  - carriers: [backup]", "  - channel: flash_call\n    carriers: [backup, smsc-eu]", "the route is for flash_call"},
		{"smpp options on sim", "    type: sim", "    type: sim\n    smpp:\n      addr: x:1", "smpp options are for smpp carriers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(smppYAML, tt.from, tt.to, 1)
			if y == smppYAML {
				t.Fatalf("%q not in the config", tt.from)
			}
			c, err := Load(ModeServe, write(t, y), nil)
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
