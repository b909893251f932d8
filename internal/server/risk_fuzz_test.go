package server_test

import (
	"testing"

	"github.com/ringgate/ringgate/internal/server"
)

// FuzzParseRiskDecision: a risk hook's answer is whatever the business's
// server (or whoever answers at its URL) sends. Only "allow" ever allows.
func FuzzParseRiskDecision(f *testing.F) {
	f.Add([]byte(`{"decision":"allow"}`))
	f.Add([]byte(`{"decision":"deny","reason":"velocity"}`))
	f.Add([]byte(`{"decision":"ALLOW"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := server.ParseRiskDecision(b)
		if err != nil && d.Allow {
			t.Fatalf("an error that allows: %q", b)
		}
	})
}
