package httpcarrier

import (
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
