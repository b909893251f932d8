package vonage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The SMS API signature vectors of Vonage's Ruby SDK (test/vonage/
// signature_test.rb): a delivery-receipt-like set of parameters signed with
// "my_secret_key_for_testing" under each dashboard method. (The SDK's
// older vectors for a=1&b=2 were computed by a since-fixed bug for the HMAC
// methods; only their MD5-hash one still holds, checked below.)
func TestSMSSignatureVectors(t *testing.T) {
	t.Parallel()
	params := func() url.Values {
		return url.Values{
			"message-timestamp": {"2013-11-21 15:27:30"}, "messageId": {"020000001B0FE827"},
			"msisdn": {"14843472194"}, "text": {"Test again"}, "timestamp": {"1385047698"},
			"to": {"13239877404"}, "type": {"text"},
		}
	}
	const secret = "my_secret_key_for_testing"
	vectors := map[string]string{
		SigMD5Hash: "d2e7b1dc968737c5998ad624e02f90b7",
		SigMD5:     "DDEBD46008C2D4E93CCE578A332A52D5",
		SigSHA1:    "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A",
		SigSHA256:  "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330",
		SigSHA512:  "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
	}
	for method, want := range vectors {
		if got := smsSig(params(), secret, method); !strings.EqualFold(got, want) {
			t.Errorf("%s: sig %s, want %s", method, got, want)
		}
		signed := params()
		signed.Set("sig", want)
		if !verifySMSSig(signed, secret) {
			t.Errorf("%s: the published signature does not verify", method)
		}
		signed.Set("msisdn", "14843472195")
		if verifySMSSig(signed, secret) {
			t.Errorf("%s: a changed parameter still verifies", method)
		}
	}
	old := url.Values{"a": {"1"}, "b": {"2"}, "timestamp": {"1461605396"}, "sig": {"6af838ef94998832dbfc29020b564830"}}
	if !verifySMSSig(old, "secret") {
		t.Error("the Python and Ruby SDKs' MD5-hash vector does not verify")
	}
	if verifySMSSig(url.Values{"a": {"1"}}, "secret") {
		t.Error("a receipt without sig verified")
	}
}

// Vonage replaces '&' and '=' in values with '_' before signing; the Ruby
// SDK's vector: {"k": "_"}, {"k": "&"} and {"k": "="} all sign as
// c3d6a686ab9c7e7408bb1c0506e9629a (MD5 hash, same secret).
func TestSMSSignatureReplacesDisallowed(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"_", "&", "="} {
		p := url.Values{"k": {v}, "sig": {"c3d6a686ab9c7e7408bb1c0506e9629a"}}
		if !verifySMSSig(p, "my_secret_key_for_testing") {
			t.Errorf("k=%q: published signature refused", v)
		}
	}
}

// The signed-webhook JWT vector from Vonage's Python SDK tests
// (vonage_jwt verify_signature): HS256 with the secret below.
func TestVerifyJWTPublishedVector(t *testing.T) {
	t.Parallel()
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
	now := time.Unix(1697634680, 0)
	claims, err := verifyJWT(token, "qwertyuiopasdfghjklzxcvbnm123456", now)
	if err != nil {
		t.Fatalf("published token refused: %v", err)
	}
	if claims["iss"] != "Online JWT Builder" {
		t.Errorf("claims %v", claims)
	}
	if _, err := verifyJWT(token, "asdf", now); err != errSignature {
		t.Errorf("wrong secret: %v, want errSignature", err)
	}
	// Its exp is in the year 3023: after it the token is refused.
	if _, err := verifyJWT(token, "qwertyuiopasdfghjklzxcvbnm123456", time.Unix(33254540828+3600, 0)); err != errExpired {
		t.Errorf("expired token: %v, want errExpired", err)
	}
}

// signHS256 makes a token the way Vonage signs webhooks (for the tests'
// own vectors; Vonage publishes no payload_hash example).
func signHS256(t testing.TB, secret string, claims map[string]any) string {
	t.Helper()
	h := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	s := h + "." + b64.EncodeToString(c)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return s + "." + b64.EncodeToString(m.Sum(nil))
}

func TestVerifyJWTRefusals(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"status":"ringing"}`)
	sum := sha256.Sum256(body)
	good := signHS256(t, "s3cret", map[string]any{"iat": now.Unix(), "payload_hash": hex.EncodeToString(sum[:])})
	claims, err := verifyJWT(good, "s3cret", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPayloadHash(claims, body); err != nil {
		t.Fatalf("payload hash of the signed body: %v", err)
	}
	if err := checkPayloadHash(claims, []byte(`{"status":"answered"}`)); err != errPayloadHash {
		t.Errorf("tampered body: %v", err)
	}
	noHash := signHS256(t, "s3cret", map[string]any{"iat": now.Unix()})
	c2, _ := verifyJWT(noHash, "s3cret", now)
	if err := checkPayloadHash(c2, body); err != errPayloadHash {
		t.Errorf("a body without payload_hash: %v", err)
	}
	none := b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString([]byte(`{}`)) + "."
	for name, tok := range map[string]string{
		"empty": "", "alg none": none, "two parts": "a.b", "garbage": "!!.??.##",
		"expired":    signHS256(t, "s3cret", map[string]any{"exp": now.Unix() - 3600}),
		"stale iat":  signHS256(t, "s3cret", map[string]any{"iat": now.Unix() - 3600}),
		"future iat": signHS256(t, "s3cret", map[string]any{"iat": now.Unix() + 3600}),
	} {
		if _, err := verifyJWT(tok, "s3cret", now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
