package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary YAML to the config loader and validator, as an
// operator's file (or one an attacker could influence) would be: it never
// panics, and a file that loads either validates or says why not.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"http: 127.0.0.1:8080\nsecret: " + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd" + "\n",
		"database:\n  url: postgres://u@127.0.0.1/db\nwebhooks:\n  allow_networks: [10.0.0.0/8, '::1/128']\n",
		"webhooks:\n  allow_networks: [nonsense]\n",
		"missed_call:\n  reject_status: 486\nlog:\n  level: debug\n  format: json\n",
		"expiry:\n  interval: -1s\n",
		"unknown_field: 1\n",
		"http: [1, 2]\n",
		"a: &a [*a]\n",
		"x: !!binary AAAA\n",
		"{",
		"simulator:\n  enabled: yes\n",
		"carriers:\n  - name: x\n    kind: sip\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "ringgate.yaml")
	noEnv := func(string) (string, bool) { return "", false }
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []Mode{ModeServe, ModeDev} {
			c, err := Load(mode, path, noEnv)
			if err != nil {
				if err.Error() == "" {
					t.Fatalf("%q: an error without a message", b)
				}
				continue
			}
			if err := c.Validate(); err != nil && err.Error() == "" {
				t.Fatalf("%q: a validation error without a message", b)
			}
		}
	})
}

// FuzzDecodeSecret: the server secret as hex or base64, never shorter than
// MinSecret bytes.
func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{"", "ab", "zz", "  " + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd" + "\n", "AAAA", "====", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeSecret(s)
		if err == nil && len(b) < MinSecret {
			t.Fatalf("%q decoded to %d bytes", s, len(b))
		}
	})
}
