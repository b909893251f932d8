package verify

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/seal"
)

// A job payload sealed by the code before internal/seal (commit 39ae5b7)
// under the secret below; the same vector is in internal/seal's tests.
const goldenJobPayload = "l0REZfKQ/4etORHf0e/HiGO+QbArry18l5b6+DYxR40l0yo2dZm7Ve8N01EdNqUg5x5+/65UGpM1TKC5mZvFY+95mVD7NvKuDTcaESFE8/kYsrPuXB/aaZzLUqBTuoGZfl/JhDhHh68txOPMWphmY0ZJcG2tYvOX1HfvfLfqPA=="

func TestSealedJobPayloadFromBefore(t *testing.T) {
	s := &Service{box: seal.New([]byte("ringgate golden vector secret, 32+ bytes long"), jobPayloadLabel)}
	raw, err := base64.StdEncoding.DecodeString(goldenJobPayload)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := s.open(raw)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Channel != "missed_call" || cmd.To != "+14155552671" || cmd.Country != "US" || cmd.RingMS != 3000 || cmd.CallID != "call_golden" {
		t.Fatalf("old payload opened to %+v", cmd)
	}
	// And a new one round-trips; damage is told apart from a wrong key.
	p, err := s.seal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := s.open(p); err != nil || back.CallID != "call_golden" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if _, err := s.open(p[:5]); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("short payload: %v", err)
	}
	p[len(p)-1] ^= 1
	if _, err := s.open(p); err == nil || !strings.Contains(err.Error(), "server secret changed") {
		t.Fatalf("altered payload: %v", err)
	}
}
