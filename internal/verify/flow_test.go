package verify_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/verify"
)

// The flow (Check, Next, workflow fallback, flash caller IDs, answering
// machines) tested in the domain: a real SQLite store, the recorder as the
// carrier layer, events fed in as an adapter would report them. The
// end-to-end tests in internal/server cover the same paths through HTTP
// and the simulator, for the wiring.

// flashPattern is the flash-call caller-ID range of the flow tests (London
// numbers, all valid): seven free digits, one of them the prefix.
const flashPattern = "+44207XXXXXXX"

// flowFixture is an app with a pool number and a flash caller-ID range,
// on a recorder whose answers the test scripts.
func flowFixture(t *testing.T) (fixture, *recorder) {
	t.Helper()
	rec := &recorder{}
	f := setupOutbound(t, rec)
	f.caller.App = f.operate(t)
	return f, rec
}

// operate gives the fixture's app what flows need: a pool number (missed
// calls, the caller ID of answer_call and voice_otp) and a flash range.
// Operator work lives here only, so that moving it out of verify.Service
// is one change. It returns the app as changed (a Caller carries the app
// it authenticated as).
func (f fixture) operate(t *testing.T) verify.App {
	t.Helper()
	if _, err := f.op.AddNumber(t.Context(), "app_t", "+12025550100", verify.AnyCountry); err != nil {
		t.Fatal(err)
	}
	ranges := []verify.CallerIDRange{{Country: verify.AnyCountry, Pattern: flashPattern}}
	app, err := f.op.UpdateSettings(t.Context(), f.caller.Tenant(), verify.SettingsPatch{FlashCallerIDs: &ranges})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// runJobs runs every due outbound job once, as the server's runner does
// (claim, then run each), and returns how many there were.
func (f fixture) runJobs(t *testing.T) int {
	t.Helper()
	js, err := f.svc.ClaimJobs(t.Context(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		f.svc.RunJob(t.Context(), j)
	}
	return len(js)
}

func (f fixture) begin(t *testing.T, r verify.StartRequest) verify.Verification {
	t.Helper()
	v, _, err := f.svc.Start(t.Context(), f.caller, r)
	if err != nil {
		t.Fatalf("start %+v: %v", r, err)
	}
	return v
}

func (f fixture) get(t *testing.T, id string) verify.Verification {
	t.Helper()
	v, err := f.store.Verification(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// report feeds an event about outbound command id in as its adapter would.
func (f fixture) report(t *testing.T, kind carrier.EventKind, id string, mod ...func(*carrier.Event)) {
	t.Helper()
	e := carrier.Event{Kind: kind, ID: id, Ref: "ref-" + id, Carrier: "rec", At: f.clock.now()}
	for _, m := range mod {
		m(&e)
	}
	if err := f.svc.CarrierEvent(t.Context(), e); err != nil {
		t.Fatalf("carrier event %s: %v", kind, err)
	}
}

func answeredBy(who string) func(*carrier.Event) {
	return func(e *carrier.Event) { e.AnsweredBy = who }
}
func cause(c string) func(*carrier.Event) { return func(e *carrier.Event) { e.Cause = c } }

// lastCall and lastText are the recorder's latest commands.
func (r *recorder) lastCall(t *testing.T) carrier.Call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("no call was placed")
	}
	return r.calls[len(r.calls)-1]
}

func (r *recorder) lastText(t *testing.T) carrier.SMS {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.texts) == 0 {
		t.Fatal("no text was sent")
	}
	return r.texts[len(r.texts)-1]
}

func (r *recorder) endedIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.ended {
		ids = append(ids, e.ID)
	}
	return ids
}

// codeOf is the code the step's command carried to the phone: the text's
// digits, the voice call's {{code}}, the flash caller ID's last digits.
func codeOf(t *testing.T, rec *recorder, v verify.Verification) string {
	t.Helper()
	switch v.Channel {
	case verify.ChannelSMSOTP:
		if m := rec.lastText(t); m.VerificationID == v.ID {
			return sixDigits.FindString(m.Text)
		}
	case verify.ChannelVoiceOTP:
		if c := rec.lastCall(t); c.VerificationID == v.ID {
			return c.Vars["code"]
		}
	case verify.ChannelFlashCall:
		if c := rec.lastCall(t); c.VerificationID == v.ID {
			return c.From[len(c.From)-v.CodeLength:]
		}
	}
	t.Fatalf("no %s command of %s carries a code", v.Channel, v.ID)
	return ""
}

// wrongCode differs from code in its last digit.
func wrongCode(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

func wantErr(t *testing.T, err error, code verify.Code, what string) {
	t.Helper()
	var e *verify.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// Check, per channel with a code: a malformed code is refused and not
// counted, a wrong one is counted, the right one verifies once; and five
// wrong ones fail the verification.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		req     verify.StartRequest
		byCLI   bool // check with the flash call's whole caller ID
		allowed int  // wrong checks before the verification fails
	}{
		{name: "sms_otp", req: verify.StartRequest{Channel: verify.ChannelSMSOTP}, allowed: verify.MaxAttempts},
		{name: "voice_otp", req: verify.StartRequest{Channel: verify.ChannelVoiceOTP}, allowed: verify.MaxAttempts},
		{name: "flash_call code", req: verify.StartRequest{Channel: verify.ChannelFlashCall}, allowed: verify.MaxAttempts},
		{name: "flash_call cli", req: verify.StartRequest{Channel: verify.ChannelFlashCall}, byCLI: true, allowed: verify.MaxAttempts},
		// A four-digit flash code gets one check (verify.MaxGuessOdds).
		{name: "flash_call 4 digits", req: verify.StartRequest{Channel: verify.ChannelFlashCall, CodeLength: 4}, allowed: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, rec := flowFixture(t)
			for i, right := range []bool{true, false} {
				tc.req.Phone = fmt.Sprintf("+44791112345%d", i)
				v := f.begin(t, tc.req)
				if f.runJobs(t) == 0 { // the step's command, and the hang-up of the last case's call
					t.Fatal("no command went out")
				}
				code := codeOf(t, rec, v)
				tenant := f.caller.Tenant()
				_, err := f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{Code: code[1:]})
				wantErr(t, err, verify.CodeInvalidCode, "a code one digit short")
				_, err = f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{Code: code, CLI: "+442012345678"})
				wantErr(t, err, verify.CodeInvalid, "both code and cli")
				if got := f.get(t, v.ID); got.Attempts != 0 {
					t.Fatalf("refused checks were counted: %d attempts", got.Attempts)
				}
				check := func(code string) (verify.CheckResult, error) {
					r := verify.CheckRequest{Code: code}
					if tc.byCLI {
						r = verify.CheckRequest{CLI: rec.lastCall(t).From[:len(rec.lastCall(t).From)-len(code)] + code}
					}
					return f.svc.Check(t.Context(), tenant, v.ID, r)
				}
				if !right {
					for i := 1; i <= tc.allowed; i++ {
						res, err := check(wrongCode(code))
						if err != nil || res.Valid || res.Verification.Attempts != i || res.AttemptsRemaining != tc.allowed-i {
							t.Fatalf("wrong check %d: %+v, %v", i, res, err)
						}
					}
					got := f.get(t, v.ID)
					if got.Status != verify.StatusFailed || got.Reason != verify.ReasonMaxAttempts {
						t.Fatalf("after %d wrong checks: %s/%s", tc.allowed, got.Status, got.Reason)
					}
					_, err = check(code)
					wantErr(t, err, verify.CodeNotPending, "the right code after max_attempts")
					continue
				}
				if tc.allowed > 1 {
					res, err := check(wrongCode(code))
					if err != nil || res.Valid || res.AttemptsRemaining != tc.allowed-1 || res.Verification.Status != verify.StatusPending {
						t.Fatalf("wrong check: %+v, %v", res, err)
					}
				}
				// A successful check reports the attempts it left, not 0.
				used := 1
				if tc.allowed > 1 {
					used = 2
				}
				res, err := check(code)
				if err != nil || !res.Valid || res.AttemptsRemaining != tc.allowed-used || res.Verification.Status != verify.StatusVerified ||
					res.Verification.VerifiedChannel != v.Channel || res.Verification.CodeHash != "" {
					t.Fatalf("right check: %+v, %v", res, err)
				}
				_, err = check(code)
				wantErr(t, err, verify.CodeNotPending, "the code again")
				evs := f.events(t, v.ID)
				if evs[len(evs)-1] != verify.EventVerified {
					t.Fatalf("events %v do not end verified", evs)
				}
			}
		})
	}
}

// Channels without a code cannot be checked, and a cli is only for flash
// calls.
func TestCheckRefusals(t *testing.T) {
	t.Parallel()
	f, _ := flowFixture(t)
	tenant := f.caller.Tenant()
	for i, ch := range []verify.Channel{verify.ChannelMissedCall, verify.ChannelAnswerCall} {
		v := f.begin(t, verify.StartRequest{Phone: "+44791112345" + string(rune('0'+i)), Channel: ch})
		_, err := f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{Code: "123456"})
		wantErr(t, err, verify.CodeNotCheckable, string(ch))
	}
	v := f.begin(t, verify.StartRequest{Phone: "+447911123459", Channel: verify.ChannelSMSOTP})
	_, err := f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{CLI: "+442012345678"})
	wantErr(t, err, verify.CodeInvalid, "cli on sms_otp")
	_, err = f.svc.Check(t.Context(), verify.Tenant{AppID: "app_other"}, v.ID, verify.CheckRequest{Code: "123456"})
	wantErr(t, err, verify.CodeNotFound, "another app's verification")
	if got := f.get(t, v.ID); got.Attempts != 0 {
		t.Fatalf("refused checks were counted: %d", got.Attempts)
	}
}

// A flash call comes from a number of the app's range whose last digits
// are the code, is dropped on ring and hung up if answered; the start
// tells the app's phone the filter and the prefix is checked too.
func TestFlashCallCLI(t *testing.T) {
	t.Parallel()
	f, rec := flowFixture(t)
	v := f.begin(t, verify.StartRequest{Phone: "+447911123456", Channel: verify.ChannelFlashCall})
	f.runJobs(t)
	c := rec.lastCall(t)
	filter := regexp.MustCompile(v.CLIFilter)
	fixed := strings.TrimRight(flashPattern, "X")
	if !filter.MatchString(c.From) || len(c.From) != len(flashPattern) || !strings.HasPrefix(c.From, fixed) {
		t.Fatalf("caller ID %q: not of %s (filter %s)", c.From, flashPattern, v.CLIFilter)
	}
	if !c.DropOnRing || c.OnAnswer != carrier.HangUp || c.RingTimeout != verify.DefaultRingTimeout || c.To != v.Phone ||
		c.Channel != string(verify.ChannelFlashCall) {
		t.Fatalf("flash call command: %+v", c)
	}
	if v.CodeLength != verify.DefaultFlashLength || v.CLIPrefix != c.From[:len(c.From)-v.CodeLength] {
		t.Fatalf("verification: length %d prefix %q, call from %q", v.CodeLength, v.CLIPrefix, c.From)
	}
	// The same code digits from another number of the range are wrong: the
	// prefix is part of what the phone must have seen.
	code := c.From[len(v.CLIPrefix):]
	other := []byte(v.CLIPrefix)
	other[len(other)-1] = '0' + (other[len(other)-1]-'0'+1)%10
	res, err := f.svc.Check(t.Context(), f.caller.Tenant(), v.ID, verify.CheckRequest{CLI: string(other) + code})
	if err != nil || res.Valid || res.Verification.Attempts != 1 {
		t.Fatalf("cli with another prefix: %+v, %v", res, err)
	}
	// A flash call that rang and was dropped has done its work.
	f.report(t, carrier.EventRinging, c.ID)
	f.report(t, carrier.EventEnded, c.ID, cause(carrier.CauseDropped))
	if got := f.get(t, v.ID); got.Status != verify.StatusPending {
		t.Fatalf("after the dropped flash call: %s/%s", got.Status, got.Reason)
	}
	res, err = f.svc.Check(t.Context(), f.caller.Tenant(), v.ID, verify.CheckRequest{CLI: " " + c.From + " "})
	if err != nil || !res.Valid {
		t.Fatalf("cli: %+v, %v", res, err)
	}
}

// Next moves on at once, ends the left step's call, and is refused at the
// last step and once the verification has ended; the codes of left steps
// no longer verify.
func TestNext(t *testing.T) {
	t.Parallel()
	f, rec := flowFixture(t)
	tenant := f.caller.Tenant()
	v := f.begin(t, verify.StartRequest{Phone: "+447911123456", Workflow: []verify.StepRequest{
		{Channel: verify.ChannelFlashCall}, {Channel: verify.ChannelVoiceOTP}, {Channel: verify.ChannelSMSOTP},
	}})
	f.runJobs(t)
	flash := rec.lastCall(t)
	n, err := f.svc.Next(t.Context(), tenant, v.ID)
	if err != nil || n.Step != 1 || n.Channel != verify.ChannelVoiceOTP || n.CLIFilter != "" || n.CLIPrefix != "" || n.Status != verify.StatusPending {
		t.Fatalf("next: %+v, %v", n, err)
	}
	// The runner places the voice call and hangs up the flash call.
	if got := f.runJobs(t); got != 2 {
		t.Fatalf("%d jobs after next, want the voice call and the flash call's hang-up", got)
	}
	if ended := rec.endedIDs(); !slices.Equal(ended, []string{flash.ID}) {
		t.Fatalf("calls ended %v, want the flash call %s", ended, flash.ID)
	}
	voiceCode := codeOf(t, rec, n)
	if n, err = f.svc.Next(t.Context(), tenant, v.ID); err != nil || n.Channel != verify.ChannelSMSOTP || n.Step != 2 {
		t.Fatalf("second next: %+v, %v", n, err)
	}
	_, err = f.svc.Next(t.Context(), tenant, v.ID)
	wantErr(t, err, verify.CodeNoNextStep, "next at the last step")
	f.runJobs(t)
	// The voice call of step 1 may still report; it changes nothing.
	f.report(t, carrier.EventEnded, rec.calls[1].ID, cause(carrier.CauseNoAnswer))
	if res, err := f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{Code: voiceCode}); err != nil || res.Valid {
		t.Fatalf("step 1's code on step 2: %+v, %v", res, err)
	}
	res, err := f.svc.Check(t.Context(), tenant, v.ID, verify.CheckRequest{Code: codeOf(t, rec, n)})
	if err != nil || !res.Valid || res.Verification.VerifiedChannel != verify.ChannelSMSOTP {
		t.Fatalf("text code: %+v, %v", res, err)
	}
	_, err = f.svc.Next(t.Context(), tenant, v.ID)
	wantErr(t, err, verify.CodeNotPending, "next once verified")
	if steps := countEvents(t, f, v.ID, verify.EventStep); steps != 2 {
		t.Fatalf("%d verification.step events, want 2", steps)
	}
}

// A step that times out or whose call or text fails hands over to the
// next step by itself; at the last step, the verification ends with the
// reason.
func TestWorkflowFallback(t *testing.T) {
	t.Parallel()
	type step = verify.StepRequest
	missed, sms, voice, flash, answer := verify.ChannelMissedCall, verify.ChannelSMSOTP, verify.ChannelVoiceOTP, verify.ChannelFlashCall, verify.ChannelAnswerCall
	refused := &carrier.Error{Carrier: "rec", Code: "invalid_number", Err: errors.New("no such number")}
	for _, tc := range []struct {
		name     string
		workflow []step
		fail     map[verify.Channel]error
		// act does to step 0 what makes it fail; cmd is its command's id.
		act        func(t *testing.T, f fixture, cmd string)
		wantStatus verify.Status
		wantReason verify.Reason
		wantStep   int
	}{
		{name: "missed call times out", workflow: []step{{Channel: missed, TimeoutS: 10}, {Channel: sms}},
			act: func(t *testing.T, f fixture, _ string) { f.expire(t, 10*time.Second) }, wantStep: 1},
		{name: "text times out at the last step", workflow: []step{{Channel: sms, TimeoutS: 60}},
			act:        func(t *testing.T, f fixture, _ string) { f.expire(t, time.Minute) },
			wantStatus: verify.StatusExpired, wantReason: verify.ReasonNotChecked},
		{name: "text undelivered", workflow: []step{{Channel: sms}, {Channel: voice}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventSMSFailed, id, cause(carrier.CauseUndelivered))
			}, wantStep: 1},
		{name: "text undelivered at the last step", workflow: []step{{Channel: sms}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventSMSFailed, id, cause(carrier.CauseUndelivered))
			}, wantStatus: verify.StatusFailed, wantReason: verify.ReasonUndelivered},
		{name: "text failed by the network at the last step", workflow: []step{{Channel: sms}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventSMSFailed, id, cause(carrier.CauseFailed))
			}, wantStatus: verify.StatusFailed, wantReason: verify.ReasonCarrierError},
		{name: "text refused by the carrier", workflow: []step{{Channel: sms}, {Channel: voice}},
			fail: map[verify.Channel]error{sms: refused}, wantStep: 1},
		{name: "text refused at the last step", workflow: []step{{Channel: sms}},
			fail: map[verify.Channel]error{sms: refused}, wantStatus: verify.StatusFailed, wantReason: verify.ReasonCarrierError},
		{name: "voice call never answered", workflow: []step{{Channel: voice}, {Channel: sms}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventRinging, id)
				f.report(t, carrier.EventEnded, id, cause(carrier.CauseNoAnswer))
			}, wantStep: 1},
		{name: "voice call busy at the last step", workflow: []step{{Channel: voice}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventEnded, id, cause(carrier.CauseBusy))
			}, wantStatus: verify.StatusFailed, wantReason: verify.ReasonBusy},
		{name: "flash call unreachable", workflow: []step{{Channel: flash}, {Channel: sms}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventEnded, id, cause(carrier.CauseUnreachable))
			}, wantStep: 1},
		{name: "answer call rings out", workflow: []step{{Channel: answer}, {Channel: flash}},
			act: func(t *testing.T, f fixture, id string) {
				f.report(t, carrier.EventEnded, id, cause(carrier.CauseNoAnswer))
			}, wantStep: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, rec := flowFixture(t)
			rec.fail = tc.fail
			v := f.begin(t, verify.StartRequest{Phone: "+447911123456", Workflow: tc.workflow})
			f.runJobs(t)
			if tc.act != nil {
				tc.act(t, f, lastCommand(t, f, v.ID))
			}
			f.runJobs(t)
			if tc.wantStatus == "" {
				tc.wantStatus = verify.StatusPending
			}
			got := f.get(t, v.ID)
			if got.Status != tc.wantStatus || got.Reason != tc.wantReason || got.Step != tc.wantStep {
				t.Fatalf("got %s/%s at step %d, want %s/%s at step %d", got.Status, got.Reason, got.Step, tc.wantStatus, tc.wantReason, tc.wantStep)
			}
			if tc.wantStatus != verify.StatusPending {
				return
			}
			next := tc.workflow[tc.wantStep].Channel
			if got.Channel != next || got.DialNumber != "" {
				t.Fatalf("after the fallback: channel %s, dial number %q", got.Channel, got.DialNumber)
			}
			if countEvents(t, f, v.ID, verify.EventStep) != 1 {
				t.Fatalf("events %v: want one verification.step", f.events(t, v.ID))
			}
			// The next step's command went out, and its code verifies.
			if next.UsesCode() {
				res, err := f.svc.Check(t.Context(), f.caller.Tenant(), v.ID, verify.CheckRequest{Code: codeOf(t, rec, got)})
				if err != nil || !res.Valid || res.Verification.VerifiedChannel != next {
					t.Fatalf("check on the fallback step: %+v, %v", res, err)
				}
			}
		})
	}
}

// expire moves the clock on by d and lets the expiry sweep run.
func (f fixture) expire(t *testing.T, d time.Duration) {
	t.Helper()
	f.clock.add(d)
	if _, err := f.svc.ExpireDue(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
}

// lastCommand is the id of the verification's latest call or text job.
func lastCommand(t *testing.T, f fixture, vid string) string {
	t.Helper()
	id := ""
	for _, j := range jobsOf(t, f, vid) {
		if j.Kind != verify.JobHangUp {
			id = j.ID
		}
	}
	return id
}

// An answering machine proves nothing: on voice_otp and answer_call the
// step fails with machine and the workflow moves on, or the verification
// fails with machine. A person verifies answer_call at once, and leaves
// voice_otp waiting for the spoken code.
func TestMachineFallback(t *testing.T) {
	t.Parallel()
	sms, voice, answer := verify.ChannelSMSOTP, verify.ChannelVoiceOTP, verify.ChannelAnswerCall
	type ev struct {
		kind carrier.EventKind
		by   string
		end  string
	}
	for _, tc := range []struct {
		name       string
		workflow   []verify.Channel
		events     []ev
		wantStatus verify.Status
		wantReason verify.Reason
		wantStep   int
	}{
		{name: "voice_otp machine hangs up", workflow: []verify.Channel{voice, sms},
			events:   []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredMachine}, {kind: carrier.EventEnded, end: carrier.CauseMachine}},
			wantStep: 1},
		{name: "voice_otp machine on the last step", workflow: []verify.Channel{voice},
			events:     []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredMachine}, {kind: carrier.EventEnded, end: carrier.CauseMachine}},
			wantStatus: verify.StatusFailed, wantReason: verify.ReasonMachine},
		{name: "voice_otp person", workflow: []verify.Channel{voice, sms},
			events: []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredHuman}, {kind: carrier.EventEnded, end: carrier.CauseCompleted}}},
		{name: "answer_call machine", workflow: []verify.Channel{answer, sms},
			events:   []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredMachine}},
			wantStep: 1},
		{name: "answer_call machine on the last step", workflow: []verify.Channel{answer},
			events:     []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredMachine}},
			wantStatus: verify.StatusFailed, wantReason: verify.ReasonMachine},
		{name: "answer_call unjudged, then machine", workflow: []verify.Channel{answer},
			events:     []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredUnknown}, {kind: carrier.EventAnswered, by: carrier.AnsweredMachine}},
			wantStatus: verify.StatusFailed, wantReason: verify.ReasonMachine},
		{name: "answer_call unjudged, then ended", workflow: []verify.Channel{answer},
			events:     []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredUnknown}, {kind: carrier.EventEnded, end: carrier.CauseCompleted}},
			wantStatus: verify.StatusFailed, wantReason: verify.ReasonNoAnswer},
		{name: "answer_call person", workflow: []verify.Channel{answer, sms},
			events:     []ev{{kind: carrier.EventAnswered, by: carrier.AnsweredUnknown}, {kind: carrier.EventAnswered, by: carrier.AnsweredHuman}},
			wantStatus: verify.StatusVerified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, rec := flowFixture(t)
			var wf []verify.StepRequest
			for _, ch := range tc.workflow {
				wf = append(wf, verify.StepRequest{Channel: ch})
			}
			v := f.begin(t, verify.StartRequest{Phone: "+447911123456", Workflow: wf})
			f.runJobs(t)
			call := rec.lastCall(t)
			if call.From != "+12025550100" || call.Channel != string(tc.workflow[0]) {
				t.Fatalf("call %+v: want it from the pool number", call)
			}
			f.report(t, carrier.EventRinging, call.ID)
			for _, e := range tc.events {
				f.report(t, e.kind, call.ID, answeredBy(e.by), cause(e.end))
			}
			if tc.wantStatus == "" {
				tc.wantStatus = verify.StatusPending
			}
			got := f.get(t, v.ID)
			if got.Status != tc.wantStatus || got.Reason != tc.wantReason || got.Step != tc.wantStep {
				t.Fatalf("got %s/%s at step %d, want %s/%s at step %d", got.Status, got.Reason, got.Step, tc.wantStatus, tc.wantReason, tc.wantStep)
			}
			switch {
			case tc.wantStatus == verify.StatusVerified:
				if got.VerifiedChannel != tc.workflow[0] {
					t.Fatalf("verified by %s", got.VerifiedChannel)
				}
			case tc.wantStep == 1:
				// The fallback text goes out, and the machine's call is
				// ended if it has not ended already.
				f.runJobs(t)
				if txt := rec.lastText(t); txt.VerificationID != v.ID {
					t.Fatalf("fallback text %+v", txt)
				}
			case tc.wantStatus == verify.StatusPending:
				// A person heard the voice code: it verifies after the call.
				res, err := f.svc.Check(t.Context(), f.caller.Tenant(), v.ID, verify.CheckRequest{Code: call.Vars["code"]})
				if err != nil || !res.Valid {
					t.Fatalf("spoken code: %+v, %v", res, err)
				}
			}
		})
	}
}
