package vonage

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
)

// A switched-off phone's voicemail answers an answer_call. The call must
// ask Vonage's machine detection, hold the line until its verdict, and
// report a correctly signed "machine" event as a machine's answer, never
// a person's. Before the fix the call had no detection, the empty NCCO
// hung up at once, and the "machine" event reported no answer verdict.
func TestAttackVoicemailAnswersAnsweredCallVonage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.PlaceCall(t.Context(), carrier.Call{ID: "job_vm", Channel: "answer_call", To: "+447700900123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	got := b.fake.calls[0]
	if got["machine_detection"] != "continue" {
		t.Fatalf("answer_call placed without machine detection: machine_detection=%v", got["machine_detection"])
	}
	vonageHook(t, "POST", got["answer_url"].([]any)[0].(string), callInfoBody("answered"), testSigSec)
	eventURL := got["event_url"].([]any)[0].(string)
	for _, st := range []string{"answered", "machine"} {
		if res, body := vonageHook(t, "POST", eventURL, callInfoBody(st), testSigSec); res.StatusCode != http.StatusNoContent {
			t.Fatalf("%s event: %d %s", st, res.StatusCode, body)
		}
	}
	var verdicts []string
	for _, e := range b.rec.Events() {
		if e.Kind == carrier.EventAnswered {
			verdicts = append(verdicts, e.AnsweredBy)
		}
	}
	if strings.Join(verdicts, " ") != "unknown machine" {
		t.Fatalf("answers reported %q, want the verdict machine after the unjudged answer", verdicts)
	}
	if len(b.fake.hangups) != 1 {
		t.Fatalf("hang-ups %v: the judged call must be hung up", b.fake.hangups)
	}
}

// EndCall hangs the call up by its uuid; a call Vonage no longer has is
// over already.
func TestEndCallHangsUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_1", Ref: "63f61863-4a51-4f6b-86e1-46edebcf9356"}); err != nil {
		t.Fatal(err)
	}
	if len(b.fake.hangups) != 1 || b.fake.hangups[0] != "63f61863-4a51-4f6b-86e1-46edebcf9356" {
		t.Fatalf("hang-ups %v", b.fake.hangups)
	}
	b.fake.hangupStatus = http.StatusNotFound
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_2", Ref: "gone"}); err != nil {
		t.Fatalf("ending a call Vonage no longer has: %v", err)
	}
	b.fake.hangupStatus = http.StatusServiceUnavailable
	if err := b.c.EndCall(t.Context(), carrier.CallEnd{ID: "job_3", Ref: "x"}); !carrier.Retryable(err) {
		t.Fatalf("503 = %v, want retryable", err)
	}
}
