package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinSecret is the shortest server secret accepted, in bytes.
const MinSecret = 32

// DecodeSecret reads a secret written as hex or standard/URL base64.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil {
			if len(b) < MinSecret {
				return nil, fmt.Errorf("is %d bytes; at least %d are needed", len(b), MinSecret)
			}
			return b, nil
		}
	}
	return nil, errors.New("is neither hex nor base64")
}

// LoadOrCreateSecret reads the secret file in dir, creating it with fresh
// random bytes (mode 0600) on first use. Dev mode keeps its secret here so
// client tokens stay valid across restarts.
func LoadOrCreateSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return DecodeSecret(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	b := make([]byte, MinSecret)
	_, _ = rand.Read(b)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return b, nil
}
