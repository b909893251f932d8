package config

import (
	"fmt"
	"os"
	"strings"
)

// carrierSecrets are the per-carrier fields that may come from the
// environment instead of the file, so a config file can be committed
// without credentials: RINGGATE_CARRIER_<NAME>_<FIELD>, where NAME is the
// carrier's name upper-cased with every character that is not a letter or
// digit turned into "_" (carrier "uk-trunk" reads
// RINGGATE_CARRIER_UK_TRUNK_SIP_PASSWORD). One table, so every carrier type
// names its secrets the same way.
var carrierSecrets = []struct {
	field string
	ptr   func(c *Carrier) *string
}{
	{"SIP_PASSWORD", func(c *Carrier) *string { return &c.SIP.Password }},
	{"HTTP_AUTH_TOKEN", func(c *Carrier) *string { return &c.HTTP.AuthToken }},
	{"HTTP_API_KEY", func(c *Carrier) *string { return &c.HTTP.APIKey }},
	{"HTTP_API_SECRET", func(c *Carrier) *string { return &c.HTTP.APISecret }},
	{"HTTP_SIGNATURE_SECRET", func(c *Carrier) *string { return &c.HTTP.SignatureSecret }},
	{"SMPP_PASSWORD", func(c *Carrier) *string { return &c.SMPP.Password }},
}

// CarrierEnvName is the variable that carries field for carrier name.
func CarrierEnvName(name, field string) string {
	n := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, name)
	return "RINGGATE_CARRIER_" + n + "_" + field
}

// applyCarrierEnv fills carrier secrets from the environment; a variable
// that is set wins over the file. NAME_FIELD_FILE, when NAME_FIELD is not
// set, names a file holding the secret (Docker and Kubernetes secrets);
// surrounding whitespace is trimmed.
func (c *Config) applyCarrierEnv(env func(string) (string, bool)) error {
	for i := range c.Carriers {
		cr := &c.Carriers[i]
		for _, s := range carrierSecrets {
			name := CarrierEnvName(cr.Name, s.field)
			if v, ok := env(name); ok {
				if v == "" {
					return fmt.Errorf("%s is set but empty", name)
				}
				*s.ptr(cr) = v
			} else if path, ok := env(name + "_FILE"); ok {
				b, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("%s_FILE: %w", name, err)
				}
				v := strings.TrimSpace(string(b))
				if v == "" {
					return fmt.Errorf("%s_FILE: %s is empty", name, path)
				}
				*s.ptr(cr) = v
			}
		}
	}
	return nil
}
