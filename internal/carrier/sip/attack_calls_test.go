package sip_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
)

// A call whose step is over must not ring on: EndCall sends CANCEL to the
// far end (sipp, which rings and waits for it), long before the ring
// timeout, and the call ends as canceled.
func TestAttackSupersededCallRingsOnSIP(t *testing.T) {
	sipptest.Require(t)
	rec := newRecorder()
	run, c := callee(t, scenario(t, "uas_cancel.xml"), rec, rgsip.Config{TrustAnswer: true})
	ref, err := c.PlaceCall(context.Background(), carrier.Call{
		ID: "call_old", To: "+447911123456", RingTimeout: 30 * time.Second, OnAnswer: carrier.HangUp, Channel: "answer_call",
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.waitEvent(t); e.Kind != carrier.EventRinging {
		t.Fatalf("event %+v, want ringing", e)
	}
	start := time.Now()
	if err := c.EndCall(context.Background(), carrier.CallEnd{ID: "call_old", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if e := rec.waitEvent(t); e.Kind != carrier.EventEnded || e.Cause != carrier.CauseCanceled {
		t.Fatalf("event %+v, want ended canceled", e)
	}
	d := time.Since(start)
	if d > 5*time.Second {
		t.Errorf("the call ended %v after EndCall", d)
	}
	t.Logf("CANCEL sent and the call ended %v after EndCall", d)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if i, _ := firstSent(run.Messages(), false, "CANCEL"); i < 0 {
		t.Fatal("no CANCEL reached the far end")
	}
	// Ending it again, or a call never placed, is a no-op.
	if err := c.EndCall(context.Background(), carrier.CallEnd{ID: "call_old", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if err := c.EndCall(context.Background(), carrier.CallEnd{ID: "never"}); err != nil {
		t.Fatal(err)
	}
}

// answer_call over a trunk whose operator has not vouched for its answers
// (trust_answer) is refused before any INVITE: a bare 200 OK is what a
// switched-off phone's voicemail sends too.
func TestAttackVoicemailAnswersAnsweredCallSIPRefused(t *testing.T) {
	rec := newRecorder()
	c := startCarrier(t, rgsip.Config{Trunk: "sip:127.0.0.1:9", Events: rec, Listen: []string{"127.0.0.1:0"}})
	_, err := c.PlaceCall(context.Background(), carrier.Call{ID: "call_vm", To: "+447911123456", RingTimeout: time.Second, OnAnswer: carrier.HangUp, Channel: "answer_call"})
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Retryable || ce.Code != "unsupported" {
		t.Fatalf("answer_call without trust_answer: %v, want a terminal unsupported error", err)
	}
}
