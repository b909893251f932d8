package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// SMPP is an SMPP 3.4 account at an SMSC: texts leave as submit_sm over a
// transceiver bind, receipts come back as deliver_sm on the same bind.
type SMPP struct {
	// Addr is the SMSC's host:port.
	Addr string `yaml:"addr"`
	// SystemID and Password are the bind credentials (at most 15 and 8
	// characters). The password may instead come from the environment
	// (RINGGATE_CARRIER_<NAME>_SMPP_PASSWORD, see carrierSecrets) or from
	// PasswordFile; a password given either way wins over the file.
	SystemID     string `yaml:"system_id"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	SystemType   string `yaml:"system_type"`
	// SourceAddr is the default sender: alphanumeric (up to 11 characters),
	// E.164, or a national number with Country.
	SourceAddr string `yaml:"source_addr"`
	// Country is the ISO region of a national-format source_addr.
	Country string `yaml:"country"`
	// Rate is the account's submit_sm per second; 0: unlimited.
	Rate float64 `yaml:"rate"`
	// EnquireLink is the keep-alive interval (default 30s).
	EnquireLink time.Duration `yaml:"enquire_link"`
	// RebindInterval is the wait between bind attempts (default 5s).
	RebindInterval time.Duration `yaml:"rebind_interval"`
}

func (s SMPP) empty() bool { return s == SMPP{} }

// Secret is the bind password: Password (from the file or the
// environment), else the contents of PasswordFile (without a trailing
// newline).
func (s SMPP) Secret() (string, error) {
	if s.Password != "" || s.PasswordFile == "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("smpp.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (s SMPP) validate() []error {
	var errs []error
	if _, port, err := net.SplitHostPort(s.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("smpp.addr: %q is not host:port", s.Addr))
	}
	if s.SystemID == "" || len(s.SystemID) > 15 {
		errs = append(errs, errors.New("smpp.system_id is required, at most 15 characters"))
	}
	if len(s.SystemType) > 12 {
		errs = append(errs, errors.New("smpp.system_type: at most 12 characters"))
	}
	if pw, err := s.Secret(); err != nil {
		errs = append(errs, err)
	} else if len(pw) > 8 {
		errs = append(errs, errors.New("smpp: the password is at most 8 characters (SMPP 3.4)"))
	}
	if s.Country != "" && (len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country) {
		errs = append(errs, fmt.Errorf("smpp.country: %q is not an ISO region like GB", s.Country))
	}
	if s.Rate < 0 {
		errs = append(errs, errors.New("smpp.rate must not be negative"))
	}
	if s.EnquireLink < 0 || (s.EnquireLink > 0 && s.EnquireLink < 100*time.Millisecond) {
		errs = append(errs, errors.New("smpp.enquire_link: at least 100ms (0: the default 30s)"))
	}
	if s.RebindInterval < 0 {
		errs = append(errs, errors.New("smpp.rebind_interval must not be negative"))
	}
	return errs
}

// callChannels cannot go to an smpp carrier.
var callChannels = map[string]bool{"": true, "*": true, "flash_call": true, "answer_call": true, "voice_otp": true}

// validateSMPPRoutes refuses routes that would hand calls to an SMPP
// account, which can only send texts: such a route must name sms_otp.
func (c *Config) validateSMPPRoutes() []error {
	smpp := map[string]bool{}
	for _, cr := range c.Carriers {
		if cr.Type == "smpp" {
			smpp[cr.Name] = true
		}
	}
	var errs []error
	for i, r := range c.Routes {
		if !callChannels[r.Channel] {
			continue
		}
		for _, n := range r.Carriers {
			if smpp[n] {
				ch := r.Channel
				if ch == "" || ch == "*" {
					ch = "every channel"
				}
				errs = append(errs, fmt.Errorf("routes[%d]: carrier %q is an SMPP account, which sends texts only, but the route is for %s (give it channel: sms_otp)", i, n, ch))
			}
		}
	}
	return errs
}
