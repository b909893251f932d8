package vonage

import (
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"
	"time"
)

// parseRSAKey reads the application's private key as Vonage's dashboard
// hands it out (PKCS#8 "PRIVATE KEY"), or PKCS#1 "RSA PRIVATE KEY".
func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", k)
	}
	return rk, nil
}

var b64 = base64.RawURLEncoding

// appJWT is the bearer token of a Voice API request: RS256 over the
// claims Vonage documents for application JWTs (application_id, iat, jti,
// exp), valid for five minutes.
func (c *Carrier) appJWT() (string, error) {
	if c.key == nil || c.cfg.ApplicationID == "" {
		return "", errors.New("application_id and private_key are required for the Voice API")
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	now := c.now().Unix()
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"application_id": c.cfg.ApplicationID,
		"iat":            now,
		"exp":            now + 300,
		"jti":            hex.EncodeToString(jti[:]),
	})
	signing := b64.EncodeToString(head) + "." + b64.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64.EncodeToString(sig), nil
}

// Errors of webhook authentication.
var (
	errNoToken       = errors.New("no bearer token")
	errBadToken      = errors.New("malformed token")
	errAlg           = errors.New("token is not HS256")
	errSignature     = errors.New("bad signature")
	errExpired       = errors.New("token expired or not yet valid")
	errPayloadHash   = errors.New("payload_hash does not match the body")
	errUnsignedState = errors.New("voice webhook without a signed body (GET or empty POST: its query is not signed; set the application's answer and event methods to POST)")
	errNoJTI         = errors.New("token without jti or iat")
	errReplayed      = errors.New("token seen before (a replay)")
)

// maxToken bounds the bearer tokens verifyJWT reads.
const maxToken = 8 << 10

// maxTokenAge is how old (by iat, in seconds) a webhook token may be.
const maxTokenAge = 10 * 60

// verifyJWT checks a signed-webhook token: HS256 with secret (no other
// algorithm is accepted, so a token cannot pick its own check), and the
// exp, nbf and iat claims when present, with a minute of leeway. It returns the
// claims.
func verifyJWT(token, secret string, now time.Time) (map[string]any, error) {
	if token == "" {
		return nil, errNoToken
	}
	if len(token) > maxToken {
		return nil, errBadToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errBadToken
	}
	rawHead, err1 := b64.DecodeString(strings.TrimRight(parts[0], "="))
	rawClaims, err2 := b64.DecodeString(strings.TrimRight(parts[1], "="))
	sig, err3 := b64.DecodeString(strings.TrimRight(parts[2], "="))
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errBadToken
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(rawHead, &head) != nil {
		return nil, errBadToken
	}
	if head.Alg != "HS256" {
		return nil, errAlg
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(m.Sum(nil), sig) {
		return nil, errSignature
	}
	var claims map[string]any
	if json.Unmarshal(rawClaims, &claims) != nil {
		return nil, errBadToken
	}
	const leeway = 60
	t := now.Unix()
	if exp, ok := claims["exp"].(float64); ok && float64(t) > exp+leeway {
		return nil, errExpired
	}
	if nbf, ok := claims["nbf"].(float64); ok && float64(t) < nbf-leeway {
		return nil, errExpired
	}
	// Vonage's webhook tokens carry iat but no exp: a token older than
	// maxTokenAge is refused, so a captured request cannot be replayed
	// for ever.
	if iat, ok := claims["iat"].(float64); ok && (float64(t) > iat+maxTokenAge || float64(t) < iat-leeway) {
		return nil, errExpired
	}
	return claims, nil
}

// checkPayloadHash compares the token's payload_hash claim (hex SHA-256
// of the body, which Vonage adds for requests with a body) with body. A
// request with a body must carry the claim; one without may omit it.
func checkPayloadHash(claims map[string]any, body []byte) error {
	want, _ := claims["payload_hash"].(string)
	if want == "" {
		if len(body) == 0 {
			return nil
		}
		return errPayloadHash
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(want)), []byte(hex.EncodeToString(got[:]))) != 1 {
		return errPayloadHash
	}
	return nil
}

// Signature methods of the SMS API's sig parameter, as the dashboard
// names them.
const (
	SigMD5Hash = "md5hash" // MD5 of the string to sign followed by the secret
	SigMD5     = "md5"     // HMAC-MD5
	SigSHA1    = "sha1"    // HMAC-SHA1
	SigSHA256  = "sha256"  // HMAC-SHA256
	SigSHA512  = "sha512"  // HMAC-SHA512
)

// smsSigBase is the string Vonage signs: every parameter but sig, sorted
// by name, each as "&name=value", with '&' and '=' in values replaced by
// '_' (Vonage's "Signing messages" guide).
func smsSigBase(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	clean := strings.NewReplacer("&", "_", "=", "_")
	for _, k := range keys {
		b.WriteByte('&')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(clean.Replace(params.Get(k)))
	}
	return b.String()
}

// smsSig computes the sig of params with secret and method (lower-case hex).
func smsSig(params url.Values, secret, method string) string {
	base := smsSigBase(params)
	var h func() hash.Hash
	switch method {
	case SigMD5Hash:
		sum := md5.Sum([]byte(base + secret))
		return hex.EncodeToString(sum[:])
	case SigMD5:
		h = md5.New
	case SigSHA1:
		h = sha1.New
	case SigSHA256:
		h = sha256.New
	case SigSHA512:
		h = sha512.New
	default:
		return ""
	}
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(base))
	return hex.EncodeToString(m.Sum(nil))
}

// verifySMSSig checks params' sig against secret under whichever method
// its length allows (the account's method is a dashboard setting ringgate
// is not told): 32 hex digits are MD5 hash or HMAC-MD5, 40 HMAC-SHA1, 64
// HMAC-SHA256, 128 HMAC-SHA512. Hex case is ignored (the HMAC variants
// are sent upper-case by some Vonage systems).
func verifySMSSig(params url.Values, secret string) bool {
	sig := strings.ToLower(params.Get("sig"))
	var methods []string
	switch len(sig) {
	case 32:
		methods = []string{SigMD5Hash, SigMD5}
	case 40:
		methods = []string{SigSHA1}
	case 64:
		methods = []string{SigSHA256}
	case 128:
		methods = []string{SigSHA512}
	}
	ok := false
	for _, m := range methods {
		if subtle.ConstantTimeCompare([]byte(smsSig(params, secret, m)), []byte(sig)) == 1 {
			ok = true
		}
	}
	return ok
}
