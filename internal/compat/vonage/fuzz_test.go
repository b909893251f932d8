package vonage

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"
)

func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJhcHBsaWNhdGlvbl9pZCI6IngiLCJpYXQiOjF9.c2ln")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, signed, sig, err := ParseJWT(tok)
		if err != nil {
			return
		}
		// A random key never verifies what the fuzzer made up.
		if Verify(c, signed, sig, &key.PublicKey, time.Now()) == nil {
			t.Fatalf("%q verified under a key it was not signed with", tok)
		}
	})
}

func FuzzParseStart(f *testing.F) {
	f.Add("application/json", []byte(`{"brand":"Acme","workflow":[{"channel":"sms","to":"447911123456"}],"code_length":6}`))
	f.Add("", []byte(`{"brand":"","workflow":null}`))
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json", []byte(`{"brand":"A","workflow":[{"channel":"voice","to":"1"},{"channel":"sms","to":"+2"}]}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req, p := ParseStart(ct, body)
		if p == nil && (len(req.Workflow) == 0 || req.Brand == "") {
			t.Fatalf("accepted %q without a workflow or brand", body)
		}
		if p != nil && (p.status < 400 || p.status > 499) {
			t.Fatalf("a bad body got status %d", p.status)
		}
	})
}
