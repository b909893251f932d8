package plivo

import (
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// A switched-off phone's voicemail answers an answer_call. The call must
// ask Plivo's machine detection, and a correctly signed (V3) answer_url
// request saying Machine=true is a machine's answer, never a person's.
// Before the fix the call had no machine_detection and every answer was
// reported "unknown" (which verified).
func TestAttackVoicemailAnswersAnsweredCallPlivo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_vm", To: "+14155550123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	call := b.fake.calls[0]
	if call["machine_detection"] != "true" {
		t.Fatalf("answer_call placed without machine detection: machine_detection=%v", call["machine_detection"])
	}
	res, body := plivoPost(t, call["answer_url"].(string), callParams("in-progress", "Machine", "true"), "v3", authToken)
	if d := parseXML(t, res, body); d.Hangup == nil || d.GetDigits != nil {
		t.Fatalf("answer XML %s", body)
	}
	plivoPost(t, call["hangup_url"].(string), callParams("completed"), "v3", authToken)
	if got := carriertest.Kinds(b.rec.Events()); got != "answered:machine ended:machine" {
		t.Fatalf("events %q, want the machine's answer reported as a machine", got)
	}
}

// EndCall cancels a call Plivo has not named yet by its request_uuid, and
// hangs up one it has by its CallUUID.
func TestEndCallCancelsOrHangsUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_1", To: "+14155550123", OnAnswer: carrier.HangUp})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_1", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if len(b.fake.cancels) != 1 || b.fake.cancels[0] != ref || len(b.fake.hangups) != 0 {
		t.Fatalf("cancels %v hang-ups %v", b.fake.cancels, b.fake.hangups)
	}
	call := b.fake.calls[0]
	plivoPost(t, call["ring_url"].(string), callParams("ringing"), "v3", authToken)
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_1", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if len(b.fake.hangups) != 1 || b.fake.hangups[0] != "6d5a1c2e-2bdb-4d0c-9a6b-4e5f9c2b1e11" {
		t.Fatalf("hang-ups %v", b.fake.hangups)
	}
	b.fake.status, b.fake.errorBody = 503, `{"api_id":"x","error":"service unavailable"}`
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_2", Ref: "r2"}); !carrier.Retryable(err) {
		t.Fatalf("503 = %v, want retryable", err)
	}
}
