// Package seal is ringgate's one way of sealing a small value with a key
// derived from the server secret: AES-256-GCM under the subkey
// HMAC-SHA256(secret, label), a random 96-bit nonce written in front of the
// ciphertext, and a binding (an id) as additional authenticated data, so a
// sealed value opens only under the same secret, label and binding.
//
// The sealed form is nonce || ciphertext || tag. Text encodes it in base64
// with the encoding the caller names. Callers pass their own label and
// encoding so the bytes each of them wrote before this package existed
// still open: see the golden vectors in seal_test.go.
//
// The package does no I/O beyond crypto/rand, so the domain may use it.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// ErrMalformed is returned for a sealed value that is not even shaped like
// one: not in the expected base64, or too short to hold a nonce and a tag.
var ErrMalformed = errors.New("seal: malformed sealed value")

// ErrOpen is returned for a well-formed sealed value that does not
// authenticate: sealed under another secret, label or binding, or altered.
var ErrOpen = errors.New("seal: sealed value does not open (wrong key or binding, or altered)")

// Box seals and opens under one derived key. Safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// New returns a Box whose key is HMAC-SHA256(secret, label): the label is
// the whole HMAC message, so distinct labels give unrelated keys and a
// value sealed for one purpose never opens as another's. New does not
// judge the secret's length; callers enforce their own minimum.
func New(secret []byte, label string) *Box {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // AES has a 16-byte block
	}
	return &Box{aead: aead}
}

// Overhead is how many bytes Seal adds to a plaintext (nonce and tag).
func (b *Box) Overhead() int { return b.aead.NonceSize() + b.aead.Overhead() }

// Seal encrypts plain bound to binding, under a fresh random nonce. An
// empty binding is the same as none (GCM authenticates no data).
func (b *Box) Seal(binding string, plain []byte) []byte {
	n := b.aead.NonceSize()
	out := make([]byte, n, len(plain)+b.Overhead())
	_, _ = rand.Read(out) // crypto/rand.Read never fails (it aborts the program instead)
	return b.aead.Seal(out, out, plain, []byte(binding))
}

// Open decrypts a value Seal made under the same key with the same binding.
func (b *Box) Open(binding string, sealed []byte) ([]byte, error) {
	if len(sealed) < b.Overhead() {
		return nil, ErrMalformed
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(binding))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Text returns b sealing to and opening from text in enc (for example
// base64.RawURLEncoding for URLs, base64.RawStdEncoding for a column).
func (b *Box) Text(enc *base64.Encoding) Text { return Text{box: b, enc: enc} }

// Text is a Box whose sealed values are base64 text.
type Text struct {
	box *Box
	enc *base64.Encoding
}

// Seal is Box.Seal, encoded.
func (t Text) Seal(binding string, plain []byte) string {
	return t.enc.EncodeToString(t.box.Seal(binding, plain))
}

// Open is Box.Open of a value Seal encoded.
func (t Text) Open(binding, text string) ([]byte, error) {
	raw, err := t.enc.DecodeString(text)
	if err != nil {
		return nil, ErrMalformed
	}
	return t.box.Open(binding, raw)
}
