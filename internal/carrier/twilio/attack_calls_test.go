package twilio

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// A switched-off phone's voicemail answers an answer_call: Twilio's
// correctly signed answer webhook says AnsweredBy=machine_start, and the
// carrier must report a machine, never a person (the domain then fails
// the step with reason machine). Before the fix the call ran inline TwiML
// without detection and every answer was reported "unknown" at once.
func TestAttackVoicemailAnswersAnsweredCallTwilio(t *testing.T) {
	r := newRig(t)
	if _, err := r.c.PlaceCall(context.Background(), carrier.Call{ID: "job-vm", Channel: "answer_call", To: "+447700900123", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	f := r.fake.form("/Calls.json", 0)
	if f.Get("MachineDetection") != "Enable" || f.Get("Url") == "" {
		t.Fatalf("answer_call placed without machine detection: MachineDetection=%q Url=%q", f.Get("MachineDetection"), f.Get("Url"))
	}
	cb := f.Get("StatusCallback")
	r.post(t, cb, url.Values{"CallSid": {"CA1"}, "CallStatus": {"ringing"}}, "")
	r.post(t, cb, url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}}, "")
	if code, body := r.post(t, f.Get("Url"), url.Values{"CallSid": {"CA1"}, "AnsweredBy": {"machine_start"}}, ""); code != 200 || !strings.Contains(body, "<Hangup/>") {
		t.Fatalf("answer webhook: %d %s", code, body)
	}
	r.post(t, cb, url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "AnsweredBy": {"machine_start"}}, "")
	if got := carriertest.Kinds(r.ev.Events()); got != "ringing answered:machine ended:machine" {
		t.Fatalf("events %q, want the machine's answer reported as a machine", got)
	}
}

// EndCall completes the call on Twilio by its CallSid; a call Twilio no
// longer knows is over already.
func TestEndCallCompletesTheCall(t *testing.T) {
	r := newRig(t)
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-1", Ref: "CA11111111111111111111111111111111"}); err != nil {
		t.Fatal(err)
	}
	if f := r.fake.form("/Calls/CA11111111111111111111111111111111.json", 0); len(f) != 1 || f.Get("Status") != "completed" {
		t.Fatalf("hang-up form %v", f)
	}
	r.fake.answer = func(path string, _ url.Values) (int, string) {
		return 404, `{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`
	}
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-2", Ref: "CA2"}); err != nil {
		t.Fatalf("ending a call Twilio no longer has: %v", err)
	}
	r.fake.answer = func(path string, _ url.Values) (int, string) {
		return 503, `{"code": 20503, "message": "Service unavailable", "status": 503}`
	}
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-3", Ref: "CA3"}); !carrier.Retryable(err) {
		t.Fatalf("503 = %v, want retryable", err)
	}
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-4", Ref: "../x"}); err == nil {
		t.Fatal("a ref with a path accepted")
	}
}
