package sdktest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAttackTwilioCredentials: the Auth Token of another app, a wrong
// token, an API key SID with the account's token, and no auth at all are
// all 20003, and nothing is created.
func TestAttackTwilioCredentials(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	b := otherApp(t, srv)
	for _, c := range []struct{ name, user, pass string }{
		{"wrong token", accountSID, strings.Repeat("A", 32)},
		{"another app's token", accountSID, b.TwilioAuthToken},
		{"another app's key secret", b.TwilioKeySID, authToken},
		{"key sid with the account token", b.TwilioKeySID, b.TwilioAuthToken},
		{"empty", "", ""},
		{"token as the user", authToken, accountSID},
	} {
		r := do(t, srv, call{method: "POST", path: "/v2/Services", user: c.user, pass: c.pass, body: form("FriendlyName", "Evil")})
		if m := r.json(t); r.status != 401 || m["code"] != float64(20003) {
			t.Errorf("%s: %d %s, want 401 with code 20003", c.name, r.status, r.body)
		}
	}
	// The other app's own credentials work, both ways.
	for _, c := range [][2]string{{b.TwilioAccountSID, b.TwilioAuthToken}, {b.TwilioKeySID, b.TwilioKeySecret}} {
		if r := do(t, srv, call{method: "POST", path: "/v2/Services", user: c[0], pass: c[1], body: form("FriendlyName", "Mine")}); r.status != 201 {
			t.Fatalf("app B's own credentials: %d %s", r.status, r.body)
		}
	}
}

// TestAttackTwilioOtherAppsService: app A, holding the SIDs of app B's
// Service and Verification, can neither read, use, check nor cancel them:
// every attempt is 20404, as for SIDs that do not exist, and B's
// verification is untouched.
func TestAttackTwilioOtherAppsService(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	b := otherApp(t, srv)
	asB := func(c call) reply { c.user, c.pass = b.TwilioAccountSID, b.TwilioAuthToken; return do(t, srv, c) }
	asA := func(c call) reply { c.user, c.pass = accountSID, authToken; return do(t, srv, c) }

	svcB := asB(call{method: "POST", path: "/v2/Services", body: form("FriendlyName", "B")}).json(t)["sid"].(string)
	const to = "+447911123501"
	vB := asB(call{method: "POST", path: "/v2/Services/" + svcB + "/Verifications", body: form("To", to, "Channel", "sms")})
	if vB.status != 201 {
		t.Fatalf("B starts: %d %s", vB.status, vB.body)
	}
	veB := vB.json(t)["sid"].(string)
	svcA := asA(call{method: "POST", path: "/v2/Services", body: form("FriendlyName", "A")}).json(t)["sid"].(string)

	for _, c := range []call{
		{method: "GET", path: "/v2/Services/" + svcB},
		{method: "POST", path: "/v2/Services/" + svcB + "/Verifications", body: form("To", "+447911123502", "Channel", "sms")},
		{method: "GET", path: "/v2/Services/" + svcB + "/Verifications/" + veB},
		{method: "GET", path: "/v2/Services/" + svcB + "/Verifications/" + to},
		{method: "POST", path: "/v2/Services/" + svcB + "/Verifications/" + veB, body: form("Status", "canceled")},
		{method: "POST", path: "/v2/Services/" + svcB + "/VerificationCheck", body: form("VerificationSid", veB, "Code", "123456")},
		// A's own Service with B's SIDs or B's user's number.
		{method: "GET", path: "/v2/Services/" + svcA + "/Verifications/" + veB},
		{method: "POST", path: "/v2/Services/" + svcA + "/VerificationCheck", body: form("VerificationSid", veB, "Code", "123456")},
		{method: "POST", path: "/v2/Services/" + svcA + "/VerificationCheck", body: form("To", to, "Code", "123456")},
		{method: "POST", path: "/v2/Services/" + svcA + "/Verifications/" + veB, body: form("Status", "canceled")},
	} {
		r := asA(c)
		if m := r.json(t); r.status != 404 || m["code"] != float64(20404) {
			t.Errorf("A: %s %s: %d %s, want 404 with code 20404", c.method, c.path, r.status, r.body)
		}
	}
	got := asB(call{method: "GET", path: "/v2/Services/" + svcB + "/Verifications/" + veB}).json(t)
	if got["status"] != "pending" || got["ringgate"].(map[string]any)["check_attempts"] != float64(0) {
		t.Fatalf("B's verification after A's attempts: %v", got)
	}
}

func jwtOf(t *testing.T, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return signed + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(signed)))
}

// TestAttackVonageJWT: application JWTs that are unsigned, signed with
// HS256 under the public key, signed by another key, expired, or naming
// another application are refused (401); Basic auth with another app's
// secret too; and one app cannot reach another's request (404).
func TestAttackVonageJWT(t *testing.T) {
	t.Parallel()
	srv := startDev(t, fastResend) // a forged token that got through would start, not hit the resend limit
	appID, privPEM := vonageKeys(t, srv)
	priv := parsePriv(t, privPEM)
	rs256 := func(b []byte) []byte {
		sum := sha256.Sum256(b)
		s, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now().Unix()
	good := map[string]any{"application_id": appID, "iat": now, "exp": now + 900, "jti": "x"}
	body := `{"brand":"Acme","workflow":[{"channel":"sms","to":"447911123510"}]}`
	start := func(bearer string) reply {
		return do(t, srv, call{method: "POST", path: "/v2/verify", bearer: bearer, ctype: "application/json", body: body})
	}
	if r := start(jwtOf(t, map[string]any{"alg": "RS256", "typ": "JWT"}, good, rs256)); r.status != 202 {
		t.Fatalf("a good JWT: %d %s", r.status, r.body)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubPEM := pemPublic(&priv.PublicKey)
	b := otherApp(t, srv)
	for name, tok := range map[string]string{
		"alg none": jwtOf(t, map[string]any{"alg": "none"}, good, func([]byte) []byte { return nil }),
		"HS256 on the public key": jwtOf(t, map[string]any{"alg": "HS256"}, good, func(b []byte) []byte {
			m := hmac.New(sha256.New, []byte(pubPEM))
			m.Write(b)
			return m.Sum(nil)
		}),
		"another key": jwtOf(t, map[string]any{"alg": "RS256"}, good, func(b []byte) []byte {
			sum := sha256.Sum256(b)
			s, _ := rsa.SignPKCS1v15(rand.Reader, other, crypto.SHA256, sum[:])
			return s
		}),
		"expired":          jwtOf(t, map[string]any{"alg": "RS256"}, map[string]any{"application_id": appID, "iat": now - 3600, "exp": now - 1800}, rs256),
		"no iat":           jwtOf(t, map[string]any{"alg": "RS256"}, map[string]any{"application_id": appID}, rs256),
		"another app's id": jwtOf(t, map[string]any{"alg": "RS256"}, map[string]any{"application_id": b.VonageAppID, "iat": now}, rs256),
		"garbage":          "a.b.c",
	} {
		if r := start(tok); r.status != 401 || !strings.Contains(string(r.body), "Invalid credentials") {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}
	r := do(t, srv, call{method: "POST", path: "/v2/verify", user: vonageKey, pass: b.VonageAPISecret, ctype: "application/json", body: body})
	if r.status != 401 {
		t.Errorf("Basic with another app's secret: %d %s", r.status, r.body)
	}

	// App B's request is not app A's.
	r = do(t, srv, call{method: "POST", path: "/v2/verify", user: b.VonageAPIKey, pass: b.VonageAPISecret, ctype: "application/json",
		body: `{"brand":"B","workflow":[{"channel":"sms","to":"447911123511"}]}`})
	if r.status != 202 {
		t.Fatalf("B starts: %d %s", r.status, r.body)
	}
	reqB := r.json(t)["request_id"].(string)
	for _, c := range []call{
		{method: "POST", path: "/v2/verify/" + reqB, ctype: "application/json", body: `{"code":"123456"}`},
		{method: "DELETE", path: "/v2/verify/" + reqB},
		{method: "POST", path: "/v2/verify/" + reqB + "/next_workflow"},
	} {
		c.user, c.pass = vonageKey, vonageSecret
		if r := do(t, srv, c); r.status != 404 {
			t.Errorf("A: %s %s: %d %s, want 404", c.method, c.path, r.status, r.body)
		}
	}
}
