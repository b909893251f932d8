package httpcarrier

import (
	"errors"
	"testing"
)

// Tokens sealed by Sealer before it used internal/seal (commit 39ae5b7),
// under the secret and purpose below: a callback URL a carrier holds
// across an upgrade must still open. The plain token is also in
// internal/seal's tests.
const (
	goldenToken           = "Fja-sJRBSjTsYEjOcqq31lO0nJfOqH5AxGmKmsk0vdJHq6paai2yZFUgaA"
	goldenCompressedToken = "z9bKzr57kV5M2qWPRUkFcZNJ6u88emORnv8Y24wmzt1bCu0IaFLiP04l-YR8N3JpN9g1HwHFvjl9pnDIPKMeX2CRNYkAv917j35WcHlFFw"
)

func TestSealedTokensFromBefore(t *testing.T) {
	s, err := NewSealer([]byte("ringgate golden vector secret, 32+ bytes long"), "twilio:golden")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open("cmd_golden", goldenToken); err != nil || string(got) != `{"code":"4711"}` {
		t.Fatalf("old token: %q, %v", got, err)
	}
	if got, err := s.OpenCompressed("cmd_golden", goldenCompressedToken); err != nil || string(got) != `{"dialplan":"<Response><Say>4 7 1 1</Say></Response>"}` {
		t.Fatalf("old compressed token: %q, %v", got, err)
	}
	if _, err := s.Open("cmd_other", goldenToken); !errors.Is(err, ErrSealed) {
		t.Fatalf("old token opened for another command: %v", err)
	}
	other, _ := NewSealer([]byte("ringgate golden vector secret, 32+ bytes long"), "twilio:other")
	if _, err := other.Open("cmd_golden", goldenToken); !errors.Is(err, ErrSealed) {
		t.Fatalf("old token opened for another purpose: %v", err)
	}
}
