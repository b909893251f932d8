package httpcarrier

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"io"

	"github.com/ringgate/ringgate/internal/seal"
)

// ErrSealed is returned by Open for a token that was not sealed by this
// key for this binding (forged, mangled, or moved to another call).
var ErrSealed = errors.New("httpcarrier: sealed token does not open")

// MaxToken bounds the sealed tokens Open accepts (base64 characters).
const MaxToken = 8 << 10

// Sealer seals small state into URL-safe tokens with AES-256-GCM (see
// internal/seal), so that what ringgate puts into its own callback URLs (a
// dialplan snapshot, the code to speak) can be neither read nor altered by
// whoever sees the URL. Safe for concurrent use.
type Sealer struct{ t seal.Text }

// sealLabel is the beginning of the key derivation label; the purpose
// follows it. Part of the token format: tokens in flight (in URLs a
// carrier will call back) open only while it stays the same.
const sealLabel = "ringgate httpcarrier seal v1\x00"

// NewSealer derives a key from secret (at least 16 bytes) and purpose, so
// that tokens of one purpose (or one carrier) never open as another's.
func NewSealer(secret []byte, purpose string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("httpcarrier: sealing secret must be at least 16 bytes")
	}
	return &Sealer{t: seal.New(secret, sealLabel+purpose).Text(base64.RawURLEncoding)}, nil
}

// Seal encrypts plaintext, bound to binding (the command id): the token
// opens only with the same binding. The token is raw URL-safe base64.
func (s *Sealer) Seal(binding string, plaintext []byte) string {
	return s.t.Seal(binding, plaintext)
}

// Open decrypts a token Seal made with the same binding.
func (s *Sealer) Open(binding, token string) ([]byte, error) {
	if len(token) > MaxToken {
		return nil, ErrSealed
	}
	out, err := s.t.Open(binding, token)
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
