package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/testutil"
	"github.com/ringgate/ringgate/internal/verify"
)

const (
	alice = "+442079460018" // an ordinary phone
	cli   = "+442079460999"
)

const codePrompt = "Hello, your Acme verification code is 2 5 1 7. Press 1 to repeat."

type checkCall struct{ verificationID, cli, code string }

// recorder is an EventHandler and Check hook that remembers what it got.
type recorder struct {
	mu     sync.Mutex
	events []carrier.Event
	checks []checkCall
	order  []string // events and checks, interleaved as they arrived
}

func (r *recorder) CarrierEvent(_ context.Context, e carrier.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.order = append(r.order, e.ID+" "+summary(e))
	return nil
}

func (r *recorder) check(_ context.Context, id, cli, code string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, checkCall{id, cli, code})
	r.order = append(r.order, "check "+id)
	return nil
}

func summary(e carrier.Event) string {
	s := string(e.Kind)
	switch e.Kind {
	case carrier.EventAnswered:
		s += ":" + e.AnsweredBy
	case carrier.EventPrompt:
		s += ":" + e.Text
	case carrier.EventDTMF:
		s += ":" + e.Digits
	case carrier.EventEnded, carrier.EventSMSFailed:
		s += ":" + e.Cause
		if e.SIPStatus != 0 {
			s += fmt.Sprintf("/%d", e.SIPStatus)
		}
	}
	return s
}

// of returns the summaries of the events about id.
func (r *recorder) of(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{}
	for _, e := range r.events {
		if e.ID == id {
			out = append(out, summary(e))
		}
	}
	return out
}

func (r *recorder) checksSnapshot() []checkCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.checks)
}

// await waits until id has had want's events, and compares them.
func (r *recorder) await(t *testing.T, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := r.of(id)
		if len(got) >= len(want) || time.Now().After(deadline) {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("events of %s:\n got %q\nwant %q", id, got, want)
			}
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// quiet asserts that id gets no events beyond what it has, for a while.
// In a synctest bubble (the tests whose timers matter run in one) the
// while is fake time: every timer due within d has fired when it returns.
func (r *recorder) quiet(t *testing.T, id string, d time.Duration) {
	t.Helper()
	before := r.of(id)
	time.Sleep(d)
	if after := r.of(id); !reflect.DeepEqual(before, after) {
		t.Fatalf("events of %s went on: %q → %q", id, before, after)
	}
}

func newSim(t *testing.T, cfg Config) (*Carrier, *recorder) {
	t.Helper()
	r := &recorder{}
	cfg.Events = r
	if cfg.Check == nil {
		cfg.Check = r.check
	}
	if cfg.GatherScale == 0 {
		cfg.GatherScale = 0.01 // the default plan's 3.5 s is 35 ms
	}
	c := New(cfg)
	t.Cleanup(func() { c.Close() })
	return c, r
}

var ctx = context.Background()

func voiceCall(id, to string) carrier.Call {
	return carrier.Call{
		ID: id, VerificationID: "ver_" + id, From: cli, To: to, RingTimeout: time.Minute,
		OnAnswer: carrier.RunDialplan, Vars: map[string]string{ivr.VarCode: "2517", ivr.VarApp: "Acme"},
	}
}

func mustPlace(t *testing.T, c *Carrier, call carrier.Call) string {
	t.Helper()
	ref, err := c.PlaceCall(ctx, call)
	if err != nil || ref == "" {
		t.Fatalf("PlaceCall = %q, %v", ref, err)
	}
	return ref
}

func TestVoiceDefaultDialplan(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, voiceCall("c1", alice))
	r.await(t, "c1", "ringing")
	if v := c.Phone(alice); len(v.Calls) != 1 || v.Calls[0].State != StateRinging {
		t.Fatalf("phone %+v", v)
	}
	if err := c.Answer(ctx, alice, "human"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "answered:human", "prompt:"+codePrompt)
	if err := c.DTMF(ctx, alice, "1"); err != nil {
		t.Fatal(err)
	}
	// Nothing pressed after the repeat: the gather times out and the plan
	// hangs up.
	r.await(t, "c1", "ringing", "answered:human", "prompt:"+codePrompt, "dtmf:1", "prompt:"+codePrompt, "ended:completed")
	v := c.Phone(alice)
	if len(v.Calls) != 1 {
		t.Fatalf("calls %+v", v.Calls)
	}
	got := v.Calls[0]
	if got.State != StateEnded || got.ID != "c1" || got.From != cli || got.To != alice || got.StartedAt.IsZero() ||
		!reflect.DeepEqual(got.Transcript, []string{codePrompt, codePrompt}) {
		t.Fatalf("call %+v", got)
	}
	if err := c.DTMF(ctx, alice, "1"); !errors.Is(err, ErrNoCall) {
		t.Fatalf("DTMF after the end = %v", err)
	}
	if n := len(r.checksSnapshot()); n != 0 {
		t.Fatalf("%d checks from an ordinary phone", n)
	}
}

func TestVoiceAnsweredByMachine(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, voiceCall("c1", alice))
	r.await(t, "c1", "ringing")
	if err := c.Answer(ctx, alice, "machine"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "answered:machine", "ended:machine")
	if v := c.Phone(alice); len(v.Calls[0].Transcript) != 0 || v.Calls[0].State != StateEnded {
		t.Fatalf("call %+v", v.Calls[0])
	}
}

func TestVoiceCustomDialplan(t *testing.T) {
	plan, err := ivr.Parse([]byte(`<dialplan name="x">
<menu name="m" maxDigits="2" timeout="500"><play>Code {{code}}</play>
<keypress pressed="42"><play>Bye</play><hangup/></keypress></menu></dialplan>`))
	if err != nil {
		t.Fatal(err)
	}
	c, r := newSim(t, Config{GatherScale: 100}) // 50 s: only the keys end it
	call := voiceCall("c1", alice)
	call.Dialplan = plan
	mustPlace(t, c, call)
	r.await(t, "c1", "ringing")
	if err := c.Answer(ctx, alice, "human"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "answered:human", "prompt:Code 2 5 1 7")
	if err := c.DTMF(ctx, alice, "42"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "answered:human", "prompt:Code 2 5 1 7", "dtmf:42", "prompt:Bye", "ended:completed")
}

func TestRingTimeoutAndFlash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := newSim(t, Config{})
		call := voiceCall("c1", alice)
		call.RingTimeout = 30 * time.Millisecond
		mustPlace(t, c, call)
		r.await(t, "c1", "ringing", "ended:no_answer")

		flash := carrier.Call{ID: "c2", VerificationID: "v2", From: cli, To: alice, DropOnRing: true, OnAnswer: carrier.HangUp, RingTimeout: time.Minute}
		mustPlace(t, c, flash)
		r.await(t, "c2", "ringing", "ended:dropped")
		if err := c.Answer(ctx, alice, "human"); !errors.Is(err, ErrNoCall) {
			t.Fatalf("Answer with nothing ringing = %v", err)
		}
		if n := len(r.checksSnapshot()); n != 0 {
			t.Fatalf("%d checks from an ordinary phone", n)
		}
	})
}

func TestAnswerCall(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, carrier.Call{ID: "c1", From: cli, To: alice, OnAnswer: carrier.HangUp, RingTimeout: time.Minute})
	r.await(t, "c1", "ringing")
	if err := c.Answer(ctx, alice, "human"); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "answered:human", "ended:completed")
}

func TestPhoneHangup(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, voiceCall("c1", alice))
	r.await(t, "c1", "ringing")
	if err := c.Hangup(ctx, alice); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "ended:rejected/603")

	c2, r2 := newSim(t, Config{GatherScale: 100})
	mustPlace(t, c2, voiceCall("c2", alice))
	r2.await(t, "c2", "ringing")
	if err := c2.Answer(ctx, alice, "human"); err != nil {
		t.Fatal(err)
	}
	if err := c2.Hangup(ctx, alice); err != nil {
		t.Fatal(err)
	}
	r2.await(t, "c2", "ringing", "answered:human", "prompt:"+codePrompt, "ended:completed")
	if err := c2.Hangup(ctx, alice); !errors.Is(err, ErrNoCall) {
		t.Fatalf("second Hangup = %v", err)
	}
}

func TestPhoneCommandErrors(t *testing.T) {
	c, r := newSim(t, Config{GatherScale: 100})
	var bad *InvalidNumberError
	if err := c.Answer(ctx, "0207", "human"); !errors.As(err, &bad) {
		t.Errorf("Answer bad number = %v", err)
	}
	if err := c.Answer(ctx, alice, "human"); !errors.Is(err, ErrNoCall) {
		t.Errorf("Answer unknown phone = %v", err)
	}
	mustPlace(t, c, voiceCall("c1", alice))
	r.await(t, "c1", "ringing")
	if err := c.Answer(ctx, alice, "robot"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Answer as robot = %v", err)
	}
	if err := c.DTMF(ctx, alice, "1"); !errors.Is(err, ErrCallState) {
		t.Errorf("DTMF while ringing = %v", err)
	}
	if err := c.Answer(ctx, alice, "human"); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx, alice, "human"); !errors.Is(err, ErrCallState) {
		t.Errorf("Answer twice = %v", err)
	}
	for _, d := range []string{"", "1a", strings.Repeat("1", 33)} {
		if err := c.DTMF(ctx, alice, d); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("DTMF %q = %v", d, err)
		}
	}
	if err := c.DTMF(ctx, alice, "*#"); err != nil {
		t.Errorf("DTMF *# = %v", err)
	}
}

func TestSMS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		c, r := newSim(t, Config{Now: func() time.Time { return now }})
		ref, err := c.SendSMS(ctx, carrier.SMS{ID: "m1", VerificationID: "v1", From: "Acme", To: alice, Text: "Your Acme code is 123456"})
		if err != nil || ref == "" {
			t.Fatalf("SendSMS = %q, %v", ref, err)
		}
		r.await(t, "m1", "sms_delivered")
		v := c.Phone(alice)
		want := []MessageView{{ID: "m1", From: "Acme", Text: "Your Acme code is 123456", ReceivedAt: verify.StampOf(now)}}
		if !reflect.DeepEqual(v.Messages, want) || len(v.Calls) != 0 {
			t.Fatalf("phone %+v", v)
		}
		// /sim/phones writes times as the API does: UTC, always milliseconds.
		if b, _ := json.Marshal(v); !strings.Contains(string(b), `"received_at":"2026-01-02T03:04:05.000Z"`) {
			t.Fatalf("phone JSON %s: want received_at with milliseconds", b)
		}
		if again, err := c.SendSMS(ctx, carrier.SMS{ID: "m1", To: alice, Text: "x"}); err != nil || again != ref {
			t.Fatalf("repeat = %q, %v; want %q", again, err, ref)
		}
		r.quiet(t, "m1", 20*time.Millisecond)
		if n := len(c.Phone(alice).Messages); n != 1 {
			t.Fatalf("%d messages after a repeat", n)
		}
	})
}

// TestPhoneViewJSON pins /sim/phones' JSON, times with milliseconds in UTC
// as the API writes them (a clock in another zone still writes Z).
func TestPhoneViewJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
	c, r := newSim(t, Config{Now: func() time.Time { return at }})
	empty, _ := json.Marshal(c.Phone(alice))
	if string(empty) != `{"number":"+442079460018","calls":[],"messages":[]}` {
		t.Fatalf("empty phone: %s", empty)
	}
	mustPlace(t, c, carrier.Call{ID: "c1", From: cli, To: alice, OnAnswer: carrier.HangUp})
	if _, err := c.SendSMS(ctx, carrier.SMS{ID: "m1", From: "Acme", To: alice, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "m1", "sms_delivered")
	b, _ := json.Marshal(c.Phone(alice))
	want := `{"number":"+442079460018","calls":[{"id":"c1","from":"+442079460999","to":"+442079460018","state":"ringing","started_at":"2026-01-02T03:04:05.000Z","transcript":[]}],"messages":[{"from":"Acme","text":"hi","received_at":"2026-01-02T03:04:05.000Z"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestMagicNumbersAreValid(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range MagicNumbers {
		n, err := phone.ParseE164(m.Number)
		if err != nil || n.E164 != m.Number || n.Country != "GB" {
			t.Errorf("%s: %+v %v", m.Number, n, err)
		}
		seen[m.Number] = true
	}
	for _, n := range []string{NumberSelfVerify, NumberNoAnswer, NumberCarrierError, NumberMachine, NumberSMSUndelivered, NumberBusy} {
		if !seen[n] {
			t.Errorf("%s missing from MagicNumbers", n)
		}
	}
}

func TestMagicSelfVerify(t *testing.T) {
	c, r := newSim(t, Config{})
	flash := carrier.Call{ID: "flash", VerificationID: "v_flash", From: "+442079460123", To: NumberSelfVerify, DropOnRing: true, OnAnswer: carrier.HangUp}
	mustPlace(t, c, flash)
	r.await(t, "flash", "ringing", "ended:dropped")

	mustPlace(t, c, carrier.Call{ID: "ans", VerificationID: "v_ans", From: cli, To: NumberSelfVerify, OnAnswer: carrier.HangUp})
	r.await(t, "ans", "ringing", "answered:human", "ended:completed")

	mustPlace(t, c, voiceCall("voice", NumberSelfVerify))
	r.await(t, "voice", "ringing", "answered:human", "prompt:"+codePrompt, "ended:completed")

	if _, err := c.SendSMS(ctx, carrier.SMS{ID: "sms", VerificationID: "v_sms", To: NumberSelfVerify, Text: "Acme: 98 is not it, your code is 0042917. Ignore 12."}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "sms", "sms_delivered")

	testutil.Eventually(2*time.Second, func() bool { return len(r.checksSnapshot()) >= 3 })
	got := r.checksSnapshot()
	slices.SortFunc(got, func(a, b checkCall) int { return strings.Compare(a.verificationID, b.verificationID) })
	want := []checkCall{{"v_flash", "+442079460123", ""}, {"v_sms", "", "0042917"}, {"ver_voice", "", "2517"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("checks %+v\nwant %+v", got, want)
	}
	// The code is checked after the prompt was reported, before the end.
	r.mu.Lock()
	order := slices.Clone(r.order)
	r.mu.Unlock()
	i := slices.Index(order, "voice prompt:"+codePrompt)
	if i < 0 || i+2 >= len(order) || !slices.Contains(order[i+1:], "check ver_voice") ||
		slices.Index(order, "check ver_voice") > slices.Index(order, "voice ended:completed") {
		t.Fatalf("order %q", order)
	}
}

func TestMagicSelfVerifyWithoutHook(t *testing.T) {
	c := New(Config{})
	defer c.Close()
	if _, err := c.SendSMS(ctx, carrier.SMS{ID: "m", To: NumberSelfVerify, Text: "code 1234"}); err != nil {
		t.Fatal(err)
	}
}

func TestMagicNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := newSim(t, Config{RingTimeout: 40 * time.Millisecond})
		call := voiceCall("c1", NumberNoAnswer)
		call.RingTimeout = 0 // the carrier's default applies
		mustPlace(t, c, call)
		r.await(t, "c1", "ringing", "ended:no_answer")
		if _, err := c.SendSMS(ctx, carrier.SMS{ID: "m1", VerificationID: "v", To: NumberNoAnswer, Text: "code 1234"}); err != nil {
			t.Fatal(err)
		}
		r.await(t, "m1", "sms_delivered")
		r.quiet(t, "m1", 20*time.Millisecond)
		if n := len(r.checksSnapshot()); n != 0 {
			t.Fatalf("%d checks", n)
		}
	})
}

func TestMagicCarrierError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := newSim(t, Config{Name: "sim-a"})
		_, err := c.PlaceCall(ctx, voiceCall("c1", NumberCarrierError))
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable || ce.Code != carrier.CauseFailed || ce.Carrier != "sim-a" || carrier.Retryable(err) {
			t.Fatalf("PlaceCall = %v", err)
		}
		_, err = c.SendSMS(ctx, carrier.SMS{ID: "m1", To: NumberCarrierError, Text: "x"})
		if !errors.As(err, &ce) || ce.Retryable || ce.Code != carrier.CauseFailed {
			t.Fatalf("SendSMS = %v", err)
		}
		r.quiet(t, "c1", 20*time.Millisecond)
		if len(r.of("c1"))+len(r.of("m1")) != 0 {
			t.Fatal("events for refused commands")
		}
		if v := c.Phone(NumberCarrierError); len(v.Calls)+len(v.Messages) != 0 {
			t.Fatalf("phone %+v", v)
		}
	})
}

func TestMagicMachine(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, voiceCall("c1", NumberMachine))
	r.await(t, "c1", "ringing", "answered:machine", "ended:machine")
	mustPlace(t, c, carrier.Call{ID: "c2", From: cli, To: NumberMachine, OnAnswer: carrier.HangUp})
	// answer_call: the machine's answer ends the call as "machine" too, so
	// that the domain never takes it for a person.
	r.await(t, "c2", "ringing", "answered:machine", "ended:machine")
}

// EndCall cancels a ringing call and hangs up an answered one; the phone
// can no longer answer it, and ending it again changes nothing.
func TestEndCall(t *testing.T) {
	c, r := newSim(t, Config{})
	const to = "+447911123456"
	ref := mustPlace(t, c, voiceCall("c1", to))
	r.await(t, "c1", "ringing")
	if err := c.EndCall(ctx, carrier.CallEnd{ID: "c1", Ref: "other-ref"}); err != nil {
		t.Fatal(err)
	}
	if v := c.Phone(to); v.Calls[0].State != StateRinging {
		t.Fatalf("a CallEnd naming another ref ended the call: %+v", v.Calls[0])
	}
	if err := c.EndCall(ctx, carrier.CallEnd{ID: "c1", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c1", "ringing", "ended:canceled/487")
	if v := c.Phone(to); v.Calls[0].State != StateEnded || v.Calls[0].Cause != carrier.CauseCanceled {
		t.Fatalf("after EndCall: %+v", v.Calls[0])
	}
	if err := c.Answer(ctx, to, carrier.AnsweredHuman); !errors.Is(err, ErrNoCall) {
		t.Fatalf("answering an ended call: %v", err)
	}
	if err := c.EndCall(ctx, carrier.CallEnd{ID: "c1", Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if err := c.EndCall(ctx, carrier.CallEnd{ID: "never-placed"}); err != nil {
		t.Fatal(err)
	}
	// Answered: hung up mid-dialplan.
	mustPlace(t, c, voiceCall("c2", to))
	r.await(t, "c2", "ringing")
	if err := c.Answer(ctx, to, carrier.AnsweredHuman); err != nil {
		t.Fatal(err)
	}
	if err := c.EndCall(ctx, carrier.CallEnd{ID: "c2"}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "c2", "ringing", "answered:human", "prompt:Hello, your Acme verification code is 2 5 1 7. Press 1 to repeat.", "ended:canceled")
	if err := c.DTMF(ctx, to, "1"); !errors.Is(err, ErrNoCall) {
		t.Fatalf("keys on an ended call: %v", err)
	}
}

func TestMagicSMSUndelivered(t *testing.T) {
	c, r := newSim(t, Config{})
	if _, err := c.SendSMS(ctx, carrier.SMS{ID: "m1", To: NumberSMSUndelivered, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	r.await(t, "m1", "sms_failed:undelivered")
	mustPlace(t, c, voiceCall("c1", NumberSMSUndelivered))
	r.await(t, "c1", "ringing")
	if v := c.Phone(NumberSMSUndelivered); len(v.Messages) != 0 || len(v.Calls) != 1 || v.Calls[0].State != StateRinging {
		t.Fatalf("phone %+v", v)
	}
}

func TestMagicBusy(t *testing.T) {
	c, r := newSim(t, Config{})
	mustPlace(t, c, voiceCall("c1", NumberBusy))
	r.await(t, "c1", "ended:busy/486")
	if v := c.Phone(NumberBusy); len(v.Calls) != 1 || v.Calls[0].State != StateEnded {
		t.Fatalf("phone %+v", v)
	}
}

// A handler that needs what the caller holds while it sends (a database
// transaction) must not deadlock the command: events come later, on
// another goroutine.
func TestEventsAfterCommandReturns(t *testing.T) {
	var tx sync.Mutex
	got := make(chan carrier.Event, 10)
	h := handlerFunc(func(_ context.Context, e carrier.Event) error {
		tx.Lock()
		defer tx.Unlock()
		got <- e
		return nil
	})
	c := New(Config{Events: h})
	defer c.Close()
	tx.Lock()
	done := make(chan error, 1)
	go func() {
		_, err := c.PlaceCall(ctx, voiceCall("c1", NumberBusy)) // ends at once
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("PlaceCall waited for the event handler")
	}
	select {
	case e := <-got:
		t.Fatalf("event %+v delivered while the caller's transaction was open", e)
	case <-time.After(20 * time.Millisecond):
	}
	tx.Unlock()
	select {
	case e := <-got:
		if e.Kind != carrier.EventEnded || e.Cause != carrier.CauseBusy {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no event after the transaction ended")
	}
}

type handlerFunc func(context.Context, carrier.Event) error

func (f handlerFunc) CarrierEvent(ctx context.Context, e carrier.Event) error { return f(ctx, e) }

func TestOutageAndFailover(t *testing.T) {
	a, ra := newSim(t, Config{Name: "sim-a", Down: true})
	b, rb := newSim(t, Config{Name: "sim-b"})
	// A minimal router: the first carrier that accepts, moving on only
	// when the failure is retryable.
	send := func(m carrier.SMS) (string, error) {
		var err error
		for _, s := range []carrier.Sender{a, b} {
			var ref string
			if ref, err = s.SendSMS(ctx, m); err == nil {
				return s.Name(), nil
			}
			_ = ref
			if !carrier.Retryable(err) {
				return "", err
			}
		}
		return "", err
	}
	_, err := a.PlaceCall(ctx, voiceCall("c0", alice))
	var ce *carrier.Error
	if !errors.As(err, &ce) || !ce.Retryable || ce.Carrier != "sim-a" || ce.Code != "unavailable" {
		t.Fatalf("PlaceCall while down = %v", err)
	}
	if name, err := send(carrier.SMS{ID: "m1", To: alice, Text: "x"}); err != nil || name != "sim-b" {
		t.Fatalf("failover = %q, %v", name, err)
	}
	rb.await(t, "m1", "sms_delivered")
	rb.mu.Lock()
	carrierName := rb.events[0].Carrier
	rb.mu.Unlock()
	if carrierName != "sim-b" {
		t.Fatalf("event carrier %q", carrierName)
	}
	if _, err := send(carrier.SMS{ID: "m2", To: NumberCarrierError, Text: "x"}); err == nil || carrier.Retryable(err) {
		t.Fatalf("terminal error = %v", err)
	}
	a.SetDown(false)
	if name, err := send(carrier.SMS{ID: "m3", To: alice, Text: "x"}); err != nil || name != "sim-a" {
		t.Fatalf("after the outage = %q, %v", name, err)
	}
	ra.await(t, "m3", "sms_delivered")
	if a.Name() != "sim-a" || New(Config{}).Name() != "sim" {
		t.Fatal("names")
	}
}

func TestCloseStopsTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := newSim(t, Config{GatherScale: 0.02}) // 70 ms gather
		call := voiceCall("ring", alice)
		call.RingTimeout = 40 * time.Millisecond
		mustPlace(t, c, call)
		mustPlace(t, c, voiceCall("talk", "+442079460017"))
		if err := c.Answer(ctx, "+442079460017", "human"); err != nil {
			t.Fatal(err)
		}
		r.await(t, "ring", "ringing")
		r.await(t, "talk", "ringing", "answered:human", "prompt:"+codePrompt)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		if got := r.of("ring"); len(got) != 1 {
			t.Fatalf("ring timer ran after Close: %q", got)
		}
		if got := r.of("talk"); len(got) != 3 {
			t.Fatalf("gather timer ran after Close: %q", got)
		}
		// Not only were no events delivered: the timers did not run.
		if s := c.Phone(alice).Calls[0].State; s != StateRinging {
			t.Fatalf("ringing call is %s after Close", s)
		}
		if v := c.Phone("+442079460017").Calls[0]; v.State != StateAnswered || len(v.Transcript) != 1 {
			t.Fatalf("answered call is %+v after Close", v)
		}
		_, err := c.PlaceCall(ctx, voiceCall("late", alice))
		if !carrier.Retryable(err) {
			t.Fatalf("PlaceCall after Close = %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRepeatedPlaceCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := newSim(t, Config{})
		ref := mustPlace(t, c, voiceCall("c1", alice))
		if again := mustPlace(t, c, voiceCall("c1", alice)); again != ref {
			t.Fatalf("ref %q then %q", ref, again)
		}
		r.await(t, "c1", "ringing")
		r.quiet(t, "c1", 20*time.Millisecond)
		if n := len(c.Phone(alice).Calls); n != 1 {
			t.Fatalf("%d calls", n)
		}
		if _, err := c.PlaceCall(ctx, carrier.Call{To: alice}); err == nil || carrier.Retryable(err) {
			t.Fatalf("call without ID = %v", err)
		}
		var bad *InvalidNumberError
		if _, err := c.PlaceCall(ctx, carrier.Call{ID: "x", To: "+4412"}); !errors.As(err, &bad) || carrier.Retryable(err) {
			t.Fatalf("bad number = %v", err)
		}
	})
}

func TestMemoryBounds(t *testing.T) {
	c, r := newSim(t, Config{MaxPhones: 2, MaxPerPhone: 2})
	for i := 1; i <= 3; i++ {
		mustPlace(t, c, voiceCall(fmt.Sprintf("c%d", i), alice))
	}
	// The oldest call, still ringing, is forgotten and ended.
	r.await(t, "c1", "ringing", "ended:failed")
	v := c.Phone(alice)
	if len(v.Calls) != 2 || v.Calls[0].ID != "c2" || v.Calls[1].ID != "c3" {
		t.Fatalf("calls %+v", v.Calls)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.SendSMS(ctx, carrier.SMS{ID: fmt.Sprintf("m%d", i), To: alice, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if v := c.Phone(alice); len(v.Messages) != 2 || v.Messages[0].ID != "m2" {
		t.Fatalf("messages %+v", v.Messages)
	}
	// Two more phones: alice, the least recently used, is forgotten.
	for _, n := range []string{"+442079460011", "+442079460012"} {
		if _, err := c.SendSMS(ctx, carrier.SMS{ID: "to" + n, To: n, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if v := c.Phone(alice); len(v.Calls)+len(v.Messages) != 0 {
		t.Fatalf("alice kept %+v", v)
	}
	r.await(t, "c3", "ringing", "ended:failed")
	if n := len(c.Phone("+442079460011").Messages); n != 1 {
		t.Fatalf("newer phone has %d messages", n)
	}
}
