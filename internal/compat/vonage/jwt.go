package vonage

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Application JWTs are checked here with the standard library: one
// algorithm (RS256) and four claims, as internal/carrier/vonage signs them
// on the carrier side by hand, so no JWT library (and its algorithm
// negotiation, which is where JWT verifiers go wrong) is pulled in for it.

// MaxJWT is the longest bearer token read.
const MaxJWT = 8 << 10

// Claims are what ringgate reads of a Vonage application JWT.
type Claims struct {
	ApplicationID string `json:"application_id"`
	IssuedAt      *int64 `json:"iat"`
	ExpiresAt     *int64 `json:"exp"`
	NotBefore     *int64 `json:"nbf"`
}

// ParseJWT splits a token and decodes its header and claims, without
// checking the signature; it refuses any algorithm but RS256.
func ParseJWT(token string) (Claims, []byte, []byte, error) {
	if len(token) > MaxJWT {
		return Claims{}, nil, nil, errors.New("the token is too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, nil, nil, errors.New("the token is not three dot-separated parts")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return Claims{}, nil, nil, errors.New("the token's header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS256" {
		return Claims{}, nil, nil, errors.New("the token's algorithm must be RS256")
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, nil, nil, errors.New("the token's claims are not base64url")
	}
	var c Claims
	if err := json.Unmarshal(cb, &c); err != nil {
		return Claims{}, nil, nil, errors.New("the token's claims are not a JSON object")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Claims{}, nil, nil, errors.New("the token's signature is not base64url")
	}
	return c, []byte(parts[0] + "." + parts[1]), sig, nil
}

// ParsePublicKey reads a PEM RSA public key (PKIX "PUBLIC KEY", as Vonage's
// dashboard shows it, or PKCS#1 "RSA PUBLIC KEY").
func ParsePublicKey(p string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", k)
	}
	if rk.N.BitLen() < 2048 {
		return nil, errors.New("the RSA key is shorter than 2048 bits")
	}
	return rk, nil
}

// MaxAge is the longest a token without exp is accepted after its iat.
const MaxAge = 24 * time.Hour

// Verify checks the signature with key and the times against now (a minute
// of clock skew allowed).
func Verify(c Claims, signed, sig []byte, key *rsa.PublicKey, now time.Time) error {
	sum := sha256.Sum256(signed)
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("the token's signature does not verify")
	}
	skew := int64(60)
	t := now.Unix()
	switch {
	case c.IssuedAt == nil:
		return errors.New("the token has no iat")
	case *c.IssuedAt > t+skew:
		return errors.New("the token is issued in the future")
	case c.ExpiresAt != nil && *c.ExpiresAt+skew < t:
		return errors.New("the token has expired")
	case c.ExpiresAt == nil && *c.IssuedAt+int64(MaxAge/time.Second) < t:
		return errors.New("the token is older than a day and has no exp")
	case c.NotBefore != nil && *c.NotBefore > t+skew:
		return errors.New("the token is not valid yet")
	}
	return nil
}
