package verify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
)

// API key prefixes. The kind is readable in the key so that a leaked test
// key is recognisably harmless and a live key can be found by secret scanners.
const (
	LiveKeyPrefix = "rg_live_"
	TestKeyPrefix = "rg_test_"
)

// NewID returns a prefixed, time-ordered identifier ("vf_0193…"): ordering by
// ID is ordering by creation to the millisecond, which cursor pagination uses.
func NewID(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	return prefix + hex.EncodeToString(u[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewAPIKey returns a fresh secret key of the given kind.
func NewAPIKey(kind KeyKind) string {
	if kind == KeyTest {
		return TestKeyPrefix + randomToken(24)
	}
	return LiveKeyPrefix + randomToken(24)
}

// KeyKindOf tells the kind from a key's prefix; ok is false for a string that
// is not a ringgate key at all.
func KeyKindOf(key string) (KeyKind, bool) {
	switch {
	case strings.HasPrefix(key, LiveKeyPrefix):
		return KeyLive, true
	case strings.HasPrefix(key, TestKeyPrefix):
		return KeyTest, true
	}
	return "", false
}

// HashAPIKey is what the store keeps of a key. Keys carry 192 random bits, so
// an unsalted SHA-256 is as strong as a slow hash here and lets the store
// find a key by equality.
func HashAPIKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// KeyPrefixOf is the displayable beginning of a key.
func KeyPrefixOf(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// NewWebhookSecret returns a Standard Webhooks secret: "whsec_" and 24 random
// bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// ValidWebhookSecret reports whether s is a usable whsec_ secret.
func ValidWebhookSecret(s string) bool {
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	return err == nil && len(b) >= 16 && len(b) <= 64
}

// ClientTokenLifetime is how long after a verification ends its page may
// still read it with the client token.
const ClientTokenLifetime = time.Hour

// clientToken binds a token to one verification with the server secret: it
// needs no storage, is the same every time it is asked for (so a repeated
// start returns the same token), and cannot be forged for another id.
func clientToken(secret []byte, id string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ringgate client token\x00"))
	m.Write([]byte(id))
	return "ct_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}
