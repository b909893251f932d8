package httpcarrier

import (
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/ivr"
)

// FuzzOpenIVR: a gather callback's token is attacker-controlled; opening
// it must fail cleanly, never panic, and never open without the key.
func FuzzOpenIVR(f *testing.F) {
	s, _ := NewSealer(secret, "fuzz")
	sess := ivr.Default().Start(map[string]string{"code": "1234"})
	sess.Answered("human")
	tok, _ := s.SealIVR("id", ivr.Default(), map[string]string{"code": "1234"}, sess)
	f.Add("id", tok)
	f.Add("id", "")
	f.Add("x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, id, token string) {
		call, err := s.OpenIVR(id, token)
		// Only tokens this key sealed for "id" open (the seed's, sealed by
		// each fuzz worker with a fresh nonce, is one of them).
		if err == nil && (id != "id" || call.Vars["code"] != "1234") {
			t.Fatalf("forged token opened: %q %q", id, token)
		}
		if err == nil {
			call.Session.Digits("1")
		}
	})
}

// FuzzPlusDigits: a caller number from a webhook is attacker-shaped; it
// comes back unchanged or as '+' and its own digits, never anything else.
func FuzzPlusDigits(f *testing.F) {
	for _, s := range []string{"447700900123", "+447700900123", "07700900123", "1234567", "123456789012345", "1234567890123456", "ab", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		out := PlusDigits(n)
		if out == n {
			return
		}
		if out != "+"+n || len(n) < 8 || len(n) > 15 || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("PlusDigits(%q) = %q", n, out)
		}
	})
}
