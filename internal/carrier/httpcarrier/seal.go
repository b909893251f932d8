package httpcarrier

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
)

// ErrSealed is returned by Open for a token that was not sealed by this
// key for this binding (forged, mangled, or moved to another call).
var ErrSealed = errors.New("httpcarrier: sealed token does not open")

// MaxToken bounds the sealed tokens Open accepts (base64 characters).
const MaxToken = 8 << 10

// Sealer seals small state into URL-safe tokens with AES-256-GCM, so that
// what ringgate puts into its own callback URLs (a dialplan snapshot, the
// code to speak) can be neither read nor altered by whoever sees the URL.
// Safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives a key from secret (at least 16 bytes) and purpose, so
// that tokens of one purpose (or one carrier) never open as another's.
func NewSealer(secret []byte, purpose string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("httpcarrier: sealing secret must be at least 16 bytes")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ringgate httpcarrier seal v1\x00" + purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext, bound to binding (the command id): the token
// opens only with the same binding. The token is raw URL-safe base64.
func (s *Sealer) Seal(binding string, plaintext []byte) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("httpcarrier: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plaintext, []byte(binding)))
}

// Open decrypts a token Seal made with the same binding.
func (s *Sealer) Open(binding, token string) ([]byte, error) {
	if len(token) > MaxToken {
		return nil, ErrSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, ErrSealed
	}
	n := s.aead.NonceSize()
	out, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(binding))
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}

// SealCompressed is Seal of plaintext deflated first (for JSON state).
func (s *Sealer) SealCompressed(binding string, plaintext []byte) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(plaintext)
	w.Close()
	return s.Seal(binding, b.Bytes())
}

// OpenCompressed opens a SealCompressed token; the inflated state is
// bounded to 256 KiB.
func (s *Sealer) OpenCompressed(binding, token string) ([]byte, error) {
	raw, err := s.Open(binding, token)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 256<<10))
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}
