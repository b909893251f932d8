package telnyx

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// A switched-off phone's voicemail answers an answer_call: Telnyx's
// correctly signed (Ed25519) answer webhook says AnsweredBy=machine, and
// the carrier must report a machine, never a person. Before the fix the
// call ran inline TeXML without detection and the in-progress status
// reported every answer as "unknown".
func TestAttackVoicemailAnswersAnsweredCallTelnyx(t *testing.T) {
	r := newRig(t)
	if _, err := r.c.PlaceCall(context.Background(), carrier.Call{ID: "job-vm", To: "+13125550002", OnAnswer: carrier.HangUp}); err != nil {
		t.Fatal(err)
	}
	got := r.fake.req("/texml/calls/"+connID, 0)
	answered, _ := got["Url"].(string)
	if got["MachineDetection"] != "Enable" || answered == "" || got["Texml"] != nil {
		t.Fatalf("answer_call placed without machine detection: MachineDetection=%v Url=%q", got["MachineDetection"], answered)
	}
	cb := got["StatusCallback"].(string)
	r.post(t, cb, form, url.Values{"CallSid": {"v3:x"}, "CallStatus": {"ringing"}}.Encode(), "")
	r.post(t, cb, form, url.Values{"CallSid": {"v3:x"}, "CallStatus": {"in-progress"}}.Encode(), "")
	code, doc := r.post(t, answered, form, url.Values{"CallSid": {"v3:x"}, "AnsweredBy": {"machine"}}.Encode(), "")
	if code != 200 || !strings.HasSuffix(doc, "<Response><Hangup/></Response>") {
		t.Fatalf("answer webhook: %d %s", code, doc)
	}
	// A body signed for this call, replayed to another call's URL (Telnyx
	// signs the body only), is refused: the token is bound to the call.
	other := strings.Replace(answered, "id=job-vm", "id=job-other", 1)
	if code, _ := r.post(t, other, form, url.Values{"CallSid": {"v3:x"}, "AnsweredBy": {"human"}}.Encode(), ""); code != 400 {
		t.Fatalf("replayed to another call: %d", code)
	}
	r.post(t, cb, form, url.Values{"CallSid": {"v3:x"}, "CallStatus": {"completed"}, "AnsweredBy": {"machine"}}.Encode(), "")
	if got := carriertest.Kinds(r.ev.Events()); got != "ringing answered:machine ended:machine" {
		t.Fatalf("events %q, want the machine's answer reported as a machine", got)
	}
}

// EndCall completes the call by its call_sid; a call Telnyx no longer
// knows is over already.
func TestEndCallCompletesTheCall(t *testing.T) {
	r := newRig(t)
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-1", Ref: "v3:call-control-id-1"}); err != nil {
		t.Fatal(err)
	}
	if upd := r.fake.req("/texml/calls/v3:call-control-id-1/update", 0); len(upd) != 1 || upd["Status"] != "completed" {
		t.Fatalf("update %v", upd)
	}
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-2", Ref: "v3:gone"}); err != nil {
		t.Fatalf("ending a call Telnyx no longer has: %v", err)
	}
	r.fake.answer = func(string) (int, string) { return 503, `{"errors": [{"code": "10007", "title": "Unexpected error"}]}` }
	if err := r.c.EndCall(context.Background(), carrier.CallEnd{ID: "job-3", Ref: "v3:call-control-id-1"}); !carrier.Retryable(err) {
		t.Fatalf("503 = %v, want retryable", err)
	}
}
