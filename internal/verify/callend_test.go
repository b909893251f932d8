package verify_test

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/verify"
)

func (r *recorder) endedCalls() []carrier.CallEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]carrier.CallEnd(nil), r.ended...)
}

// Moving on from a voice step queues a hang-up of its call, run through
// the carrier that placed it with the ref it gave; the old call's events
// change nothing afterwards.
func TestStepEndHangsUpItsCall(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123461",
		verify.StepRequest{Channel: verify.ChannelVoiceOTP, TimeoutS: 600},
		verify.StepRequest{Channel: verify.ChannelSMSOTP, TimeoutS: 600})
	if n, err := runJobs(t.Context(), f.svc); err != nil || n != 1 {
		t.Fatalf("RunJobs = %d, %v", n, err)
	}
	call := jobsOf(t, f, v.ID)[0]
	f.clock.add(time.Minute)
	if _, err := f.svc.Next(t.Context(), verify.TenantOf(v), v.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := runJobs(t.Context(), f.svc); err != nil || n != 2 {
		t.Fatalf("RunJobs after next = %d, %v", n, err)
	}
	ended := rec.endedCalls()
	if len(ended) != 1 || ended[0].ID != call.ID || ended[0].Ref != "ref-"+call.ID || ended[0].VerificationID != v.ID {
		t.Fatalf("ended %+v, want call %s", ended, call.ID)
	}
	for _, j := range jobsOf(t, f, v.ID) {
		if j.Kind == verify.JobHangUp && (j.Status != verify.JobSent || j.CarrierRef != "" || len(j.Payload) != 0 || j.Step != 0) {
			t.Errorf("hang-up job %+v", j)
		}
	}
	// Late events of the old call: an answer, by a person, changes nothing.
	for _, k := range []carrier.EventKind{carrier.EventAnswered, carrier.EventEnded} {
		if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: k, ID: call.ID, Carrier: "rec", AnsweredBy: carrier.AnsweredHuman, Cause: carrier.CauseCompleted}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.store.Verification(t.Context(), v.ID)
	if got.Status != verify.StatusPending || got.Step != 1 {
		t.Fatalf("after the old call's events: %+v", got)
	}
	// Ending the verification hangs up nothing more: the call has ended.
	if _, err := f.svc.Cancel(t.Context(), verify.TenantOf(v), v.ID); err != nil {
		t.Fatal(err)
	}
	runJobs(t.Context(), f.svc)
	if n := len(rec.endedCalls()); n != 1 {
		t.Fatalf("%d hang-ups, want 1", n)
	}
}

// A step that ends while its call is being placed hangs the call up as
// soon as the carrier has taken it.
func TestStepEndWhilePlacingHangsUpAfter(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123462", verify.StepRequest{Channel: verify.ChannelVoiceOTP, TimeoutS: 600})
	jobs, err := f.svc.ClaimJobs(t.Context(), 10, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("ClaimJobs = %d, %v", len(jobs), err)
	}
	if _, err := f.svc.Cancel(t.Context(), verify.TenantOf(v), v.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(jobsOf(t, f, v.ID)); n != 1 {
		t.Fatalf("%d jobs: a call not yet placed needs no hang-up", n)
	}
	// The runner that claimed the call before the cancel finds it over and
	// places nothing.
	f.svc.RunJob(t.Context(), jobs[0])
	if n, _ := rec.sent(); n != 0 {
		t.Fatalf("a canceled step's call was placed")
	}
}
