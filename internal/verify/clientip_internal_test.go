package verify

import (
	"fmt"
	"testing"
)

// The "send client_ip" hint is logged once per key, in bounded memory.
func TestClientIPHintOncePerKeyBounded(t *testing.T) {
	var h keyHints
	if !h.first("key_a") || h.first("key_a") {
		t.Fatal("key_a: want told once")
	}
	for i := range maxIPHints + 10 {
		h.first(fmt.Sprintf("key_%d", i))
	}
	if n := len(h.seen); n > maxIPHints {
		t.Fatalf("%d keys remembered, want at most %d", n, maxIPHints)
	}
}
