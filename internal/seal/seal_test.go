package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
)

var secret = []byte("ringgate golden vector secret, 32+ bytes long")

// Golden vectors: each was sealed by the call site's own code as it was
// before this package existed (commit 39ae5b7), with the secret above. They
// must keep opening, or sealed values in databases and in flight would be
// lost on upgrade.
const (
	// internal/verify (jobs.go seal): label "ringgate job payload key", no
	// binding, raw bytes in the jobs table (shown here in std base64).
	goldenJob      = "l0REZfKQ/4etORHf0e/HiGO+QbArry18l5b6+DYxR40l0yo2dZm7Ve8N01EdNqUg5x5+/65UGpM1TKC5mZvFY+95mVD7NvKuDTcaESFE8/kYsrPuXB/aaZzLUqBTuoGZfl/JhDhHh68txOPMWphmY0ZJcG2tYvOX1HfvfLfqPA=="
	goldenJobPlain = `{"channel":"missed_call","to":"+14155552671","country":"US","ring_ms":3000,"call_id":"call_golden"}`

	// internal/carrier/httpcarrier (Sealer.Seal): label "ringgate
	// httpcarrier seal v1\x00" + purpose "twilio:golden", bound to the
	// command id, raw URL-safe base64.
	goldenCallback      = "Fja-sJRBSjTsYEjOcqq31lO0nJfOqH5AxGmKmsk0vdJHq6paai2yZFUgaA"
	goldenCallbackPlain = `{"code":"4711"}`

	// internal/store/sqldb (secretBox.seal): label "ringgate app secrets
	// at rest", bound to the app id, "sealed:v1:" + raw std base64.
	goldenAppSecret      = "sealed:v1:bv7sEAFjEAMG59qQP3PHKes0J59MCdwuRHmfjrE66rsOEL5okmdnO5mjx5gBBt3EWrMYnbp7vUD7vn5ohBI3wZ2n"
	goldenAppSecretPlain = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

func TestGoldenJobPayload(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(goldenJob)
	if err != nil {
		t.Fatal(err)
	}
	got, err := New(secret, "ringgate job payload key").Open("", raw)
	if err != nil || string(got) != goldenJobPlain {
		t.Fatalf("old job payload: got %q, %v", got, err)
	}
}

func TestGoldenCallbackState(t *testing.T) {
	tx := New(secret, "ringgate httpcarrier seal v1\x00twilio:golden").Text(base64.RawURLEncoding)
	got, err := tx.Open("cmd_golden", goldenCallback)
	if err != nil || string(got) != goldenCallbackPlain {
		t.Fatalf("old callback token: got %q, %v", got, err)
	}
	if _, err := tx.Open("cmd_other", goldenCallback); !errors.Is(err, ErrOpen) {
		t.Fatalf("old callback token opened under another command: %v", err)
	}
}

func TestGoldenAppSecret(t *testing.T) {
	rest, ok := strings.CutPrefix(goldenAppSecret, "sealed:v1:")
	if !ok {
		t.Fatal("no prefix")
	}
	tx := New(secret, "ringgate app secrets at rest").Text(base64.RawStdEncoding)
	got, err := tx.Open("app_golden", rest)
	if err != nil || string(got) != goldenAppSecretPlain {
		t.Fatalf("old app secret: got %q, %v", got, err)
	}
	if _, err := tx.Open("app_other", rest); !errors.Is(err, ErrOpen) {
		t.Fatalf("old app secret opened under another app: %v", err)
	}
}

func TestRoundTripAndBinding(t *testing.T) {
	b := New(secret, "test label")
	for _, plain := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("abc"), 1000)} {
		s := b.Seal("id-1", plain)
		if len(s) != len(plain)+b.Overhead() {
			t.Fatalf("sealed %d bytes to %d, want %d", len(plain), len(s), len(plain)+b.Overhead())
		}
		got, err := b.Open("id-1", s)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %d bytes: %q, %v", len(plain), got, err)
		}
		if _, err := b.Open("id-2", s); !errors.Is(err, ErrOpen) {
			t.Fatalf("opened under another binding: %v", err)
		}
	}
	// An empty binding is no binding, as the job payloads rely on.
	s := b.Seal("", []byte("p"))
	if got, err := b.Open("", s); err != nil || string(got) != "p" {
		t.Fatalf("empty binding: %q, %v", got, err)
	}
}

func TestNonceIsFresh(t *testing.T) {
	b := New(secret, "test label")
	if bytes.Equal(b.Seal("id", []byte("same")), b.Seal("id", []byte("same"))) {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
}

func TestKeysAreSeparated(t *testing.T) {
	s := New(secret, "label a").Seal("id", []byte("p"))
	if _, err := New(secret, "label b").Open("id", s); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another label: %v", err)
	}
	other := append([]byte(nil), secret...)
	other[0] ^= 1
	if _, err := New(other, "label a").Open("id", s); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another secret: %v", err)
	}
}

func TestTamperAndMalformed(t *testing.T) {
	b := New(secret, "test label")
	s := b.Seal("id", []byte("payload"))
	for i := range s {
		c := append([]byte(nil), s...)
		c[i] ^= 0x80
		if _, err := b.Open("id", c); !errors.Is(err, ErrOpen) {
			t.Fatalf("flipped byte %d: %v", i, err)
		}
	}
	for n := 0; n < b.Overhead(); n++ {
		if _, err := b.Open("id", s[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	tx := b.Text(base64.RawURLEncoding)
	for _, bad := range []string{"", "!!!", "a", tx.Seal("id", nil)[:10], "AAAA=", base64.StdEncoding.EncodeToString(s)} {
		if _, err := tx.Open("id", bad); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOpen) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if _, err := tx.Open("id", "!!!"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("not base64: %v", err)
	}
}

func TestTextEncodings(t *testing.T) {
	b := New(secret, "test label")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		tx := b.Text(enc)
		s := tx.Seal("id", []byte("\xff\xfe\xfd state"))
		if _, err := enc.DecodeString(s); err != nil {
			t.Fatalf("not in its encoding: %q", s)
		}
		if got, err := tx.Open("id", s); err != nil || string(got) != "\xff\xfe\xfd state" {
			t.Fatalf("text round trip: %q, %v", got, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	b := New(secret, "test label")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 100 {
				id := string(rune('a' + i))
				got, err := b.Open(id, b.Seal(id, []byte(id)))
				if err != nil || string(got) != id {
					t.Errorf("concurrent: %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
