package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ringgate/ringgate/internal/verify"
)

// During a rotation's overlap the stored secret holds the new and the old
// secret; Sign signs with each while it is in force, and the reference
// Standard Webhooks library verifies the header with either secret alone.
func TestSignDuringRotation(t *testing.T) {
	const (
		newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		oldSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	)
	ts := time.Unix(1_800_000_000, 0)
	until := ts.Add(time.Hour)
	stored := newSecret + " " + oldSecret + ";until=" + strconv.FormatInt(until.UnixMilli(), 10)
	body := []byte(`{"type":"verification.verified"}`)

	sig, err := Sign(stored, "msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("during the overlap: %d signatures (%q), want 2", n, sig)
	}
	for _, sec := range []string{newSecret, oldSecret} {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(HeaderID, "msg_1")
		h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderSignature, sig)
		if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
			t.Errorf("a receiver with %s… rejects the header: %v", sec[:12], err)
		}
	}

	after, err := Sign(stored, "msg_1", until, body)
	if err != nil {
		t.Fatal(err)
	}
	only, _ := Sign(newSecret, "msg_1", until, body)
	if after != only {
		t.Errorf("after the overlap: %q, want only the new secret's %q", after, only)
	}
	if _, err := Sign(" ", "msg_1", ts, body); err == nil {
		t.Error("an empty stored secret signed")
	}
}

// RotateWebhookSecret's stored form reads back with ParseWebhookSecrets:
// the current secret first, and an overlap never lengthened by a second
// rotation.
func TestParseWebhookSecrets(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000).UTC()
	stored := "whsec_c whsec_b;until=" + strconv.FormatInt(now.Add(time.Minute).UnixMilli(), 10) +
		" whsec_a;until=" + strconv.FormatInt(now.Add(-time.Second).UnixMilli(), 10) + " whsec_x;until=junk"
	got := verify.ParseWebhookSecrets(stored, now)
	if len(got) != 2 || got[0].Secret != "whsec_c" || !got[0].Until.IsZero() || got[1].Secret != "whsec_b" || !got[1].Until.Equal(now.Add(time.Minute)) {
		t.Errorf("ParseWebhookSecrets = %+v", got)
	}
}
