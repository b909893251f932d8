package verify_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
)

// recorder is the carrier layer seen from the service: it records every
// command and answers with err, or with fail[channel] when the script names
// the command's channel ("sms_otp" for texts).
type recorder struct {
	mu    sync.Mutex
	err   error
	fail  map[verify.Channel]error
	calls []carrier.Call
	texts []carrier.SMS
	ended []carrier.CallEnd
}

func (r *recorder) PlaceCall(_ context.Context, c carrier.Call) (carrier.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return carrier.Receipt{Carrier: "rec", Ref: "ref-" + c.ID}, r.answer(verify.Channel(c.Channel))
}

// answer is the scripted error for a command on ch.
func (r *recorder) answer(ch verify.Channel) error {
	if err, ok := r.fail[ch]; ok {
		return err
	}
	return r.err
}

func (r *recorder) SendSMS(_ context.Context, m carrier.SMS) (carrier.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, m)
	return carrier.Receipt{Carrier: "rec", Ref: "ref-" + m.ID}, r.answer(verify.ChannelSMSOTP)
}

func (r *recorder) Routable(string, string, string, bool) bool { return true }

func (r *recorder) EndCall(_ context.Context, name string, c carrier.CallEnd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = append(r.ended, c)
	return nil
}

func (r *recorder) sent() (int, []carrier.SMS) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls) + len(r.texts), append([]carrier.SMS(nil), r.texts...)
}

func setupOutbound(t *testing.T, out verify.Outbound) fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := newClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	svc, err := verify.NewService(verify.Config{Store: st, Secret: bytes.Repeat([]byte{7}, 32), Now: clk.now, Outbound: out})
	if err != nil {
		t.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: st, Verify: svc})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := op.CreateApp(t.Context(), verify.NewApp{ID: "app_t", Name: "Shop", DefaultCallbackURL: "https://example.com/hook"})
	if err != nil {
		t.Fatal(err)
	}
	caller, err := svc.Authenticate(t.Context(), cr.APIKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, op: op, store: st, clock: clk, caller: caller}
}

func (f fixture) startSMS(t *testing.T, phone string, workflow ...verify.StepRequest) verify.Verification {
	t.Helper()
	req := verify.StartRequest{Phone: phone, Channel: verify.ChannelSMSOTP}
	if len(workflow) > 0 {
		req = verify.StartRequest{Phone: phone, Workflow: workflow}
	}
	v, _, err := f.svc.Start(t.Context(), f.caller, req)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func jobsOf(t *testing.T, f fixture, id string) []verify.Job {
	t.Helper()
	js, err := f.store.Jobs(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// The text is sent once; neither the stored verification nor the stored
// job holds the code in the clear, and the job's payload is erased once
// the carrier has it.
func TestJobSendsOnceAndKeepsNoCode(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123456")
	js := jobsOf(t, f, v.ID)
	if len(js) != 1 || js[0].Status != verify.JobPending || len(js[0].Payload) == 0 {
		t.Fatalf("jobs after start: %+v", js)
	}
	sealed := js[0].Payload
	if n, err := runJobs(t.Context(), f.svc); err != nil || n != 1 {
		t.Fatalf("RunJobs = %d, %v", n, err)
	}
	_, texts := rec.sent()
	if len(texts) != 1 {
		t.Fatalf("%d texts sent", len(texts))
	}
	code := sixDigits.FindString(texts[0].Text)
	if code == "" || texts[0].To != "+447911123456" || texts[0].ID != js[0].ID {
		t.Fatalf("text %+v", texts[0])
	}
	if bytes.Contains(sealed, []byte(code)) {
		t.Error("the sealed payload holds the code in the clear")
	}
	got, _ := f.store.Verification(t.Context(), v.ID)
	if got.CodeHash == "" || bytes.Contains([]byte(got.CodeHash), []byte(code)) {
		t.Errorf("code hash %q", got.CodeHash)
	}
	js = jobsOf(t, f, v.ID)
	if js[0].Status != verify.JobSent || len(js[0].Payload) != 0 || js[0].Carrier != "rec" {
		t.Errorf("job after sending: %+v", js[0])
	}
	if n, _ := runJobs(t.Context(), f.svc); n != 0 {
		t.Errorf("a sent job was claimed again")
	}
	if n, _ := rec.sent(); n != 1 {
		t.Errorf("%d commands in all, want 1", n)
	}
}

// A runner that dies after claiming leaves the job to the next runner once
// the lease is over, and not before.
func TestJobOfDeadRunnerRunsAfterLease(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123457")
	err := f.store.Tx(t.Context(), func(tx verify.Tx) error {
		now := f.clock.now()
		_, err := tx.ClaimJobs(t.Context(), now, now.Add(30*time.Second), 10) // and then the node dies
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := runJobs(t.Context(), f.svc); n != 0 {
		t.Fatal("a leased job was claimed")
	}
	f.clock.add(31 * time.Second)
	if n, err := runJobs(t.Context(), f.svc); n != 1 || err != nil {
		t.Fatalf("after the lease: RunJobs = %d, %v", n, err)
	}
	if n, _ := rec.sent(); n != 1 {
		t.Fatalf("%d commands, want 1", n)
	}
	if js := jobsOf(t, f, v.ID); js[0].Status != verify.JobSent || js[0].Attempts != 2 {
		t.Fatalf("job %+v", js[0])
	}
}

// Retryable failures are retried with backoff; when they run out, the step
// fails and the workflow moves on (here to the last step, whose terminal
// failure ends the verification).
func TestJobRetriesThenStepFails(t *testing.T) {
	rec := &recorder{err: &carrier.Error{Carrier: "rec", Retryable: true, Code: "unavailable", Err: errors.New("503")}}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123458",
		verify.StepRequest{Channel: verify.ChannelSMSOTP, TimeoutS: 600},
		verify.StepRequest{Channel: verify.ChannelVoiceOTP, TimeoutS: 600})
	for i := range 10 {
		if _, err := runJobs(t.Context(), f.svc); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.Verification(t.Context(), v.ID)
		if got.Step == 1 {
			if n, _ := rec.sent(); n != 4 {
				t.Fatalf("moved on after %d tries, want 4", n)
			}
			break
		}
		if i == 9 {
			t.Fatalf("never moved on: %+v", got)
		}
		f.clock.add(time.Minute)
	}
	rec.mu.Lock()
	rec.err = &carrier.Error{Carrier: "rec", Code: "invalid_number", Err: errors.New("no such number")}
	rec.mu.Unlock()
	if _, err := runJobs(t.Context(), f.svc); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Verification(t.Context(), v.ID)
	if got.Status != verify.StatusFailed || got.Reason != verify.ReasonCarrierError || got.Channel != verify.ChannelVoiceOTP {
		t.Fatalf("after a terminal failure on the last step: %+v", got)
	}
}

// A late event of a step the workflow has left changes nothing, and a
// repeated receipt is recorded once.
func TestCarrierEventsOfOldStepsAndRepeats(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123459",
		verify.StepRequest{Channel: verify.ChannelSMSOTP},
		verify.StepRequest{Channel: verify.ChannelAnswerCall})
	runJobs(t.Context(), f.svc)
	smsID := jobsOf(t, f, v.ID)[0].ID
	for range 2 {
		if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventSMSDelivered, ID: smsID, Carrier: "rec"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Next(t.Context(), verify.LiveTenant("app_t"), v.ID); err != nil {
		t.Fatal(err)
	}
	// The text fails after the workflow left it: no effect on step 1.
	if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventSMSFailed, ID: smsID, Cause: carrier.CauseUndelivered}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Verification(t.Context(), v.ID)
	if got.Status != verify.StatusPending || got.Step != 1 {
		t.Fatalf("after a late receipt: %+v", got)
	}
	evs, _ := f.store.Events(t.Context(), v.ID, 0, 100)
	delivered := 0
	for _, e := range evs {
		if e.Type == verify.EventSMSDelivered {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("sms.delivered recorded %d times", delivered)
	}
	// The answered call of step 1 verifies.
	runJobs(t.Context(), f.svc)
	var callID, callRef string
	for _, j := range jobsOf(t, f, v.ID) {
		if j.Kind == verify.JobCall {
			callID, callRef = j.ID, j.CarrierRef
		}
	}
	// A call event must name the call placed under this id: none, or
	// another call's ref, changes nothing.
	for _, ref := range []string{"", "ref-another-call"} {
		if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventAnswered, ID: callID, AnsweredBy: carrier.AnsweredHuman, Ref: ref}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.store.Verification(t.Context(), v.ID); got.Status != verify.StatusPending {
			t.Fatalf("an answer naming call %q verified the call %q: %+v", ref, callRef, got)
		}
	}
	if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventAnswered, ID: callID, AnsweredBy: carrier.AnsweredHuman, Ref: callRef}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.store.Verification(t.Context(), v.ID)
	if got.Status != verify.StatusVerified || got.VerifiedChannel != verify.ChannelAnswerCall {
		t.Fatalf("after the answer: %+v", got)
	}
}

// A receipt that names the text only by the carrier's id (the adapter
// restarted since sending) is matched through the stored carrier ref, in
// whichever of its spellings the store holds; another carrier's id does not
// match.
func TestCarrierEventByCarrierRef(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123458")
	runJobs(t.Context(), f.svc)
	j := jobsOf(t, f, v.ID)[0]
	if j.CarrierRef != "ref-"+j.ID {
		t.Fatalf("job %+v", j)
	}
	for _, e := range []carrier.Event{
		{Kind: carrier.EventSMSDelivered, Carrier: "other", Ref: j.CarrierRef},
		{Kind: carrier.EventSMSDelivered, Carrier: "rec", Ref: "nope"},
	} {
		if err := f.svc.CarrierEvent(t.Context(), e); !errors.Is(err, carrier.ErrUnknownRef) {
			t.Fatalf("event %+v: %v, want ErrUnknownRef", e, err)
		}
	}
	if n := countEvents(t, f, v.ID, verify.EventSMSDelivered); n != 0 {
		t.Fatalf("%d sms.delivered from refs that are not the job's", n)
	}
	e := carrier.Event{Kind: carrier.EventSMSDelivered, Carrier: "rec", Ref: "1a2b", RefAlt: []string{"6699", j.CarrierRef}}
	if err := f.svc.CarrierEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, f, v.ID, verify.EventSMSDelivered); n != 1 {
		t.Fatalf("%d sms.delivered, want 1 through the alternative ref", n)
	}
}

func countEvents(t *testing.T, f fixture, vid, typ string) int {
	t.Helper()
	evs, err := f.store.Events(t.Context(), vid, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// A receipt posted to one text's id but naming another message (a signed
// body replayed to another URL, where the signature does not cover the
// URL) is ignored; naming the text's own carrier id, it counts.
func TestCarrierEventRefMustMatchTheJob(t *testing.T) {
	rec := &recorder{}
	f := setupOutbound(t, rec)
	v := f.startSMS(t, "+447911123459")
	runJobs(t.Context(), f.svc)
	j := jobsOf(t, f, v.ID)[0]
	if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventSMSDelivered, ID: j.ID, Carrier: "rec", Ref: "ref-someone-else"}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, f, v.ID, verify.EventSMSDelivered); n != 0 {
		t.Fatalf("%d sms.delivered from a receipt naming another message", n)
	}
	if err := f.svc.CarrierEvent(t.Context(), carrier.Event{Kind: carrier.EventSMSDelivered, ID: j.ID, Carrier: "rec", Ref: j.CarrierRef}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, f, v.ID, verify.EventSMSDelivered); n != 1 {
		t.Fatalf("%d sms.delivered, want 1 from the text's own receipt", n)
	}
}

// runJobs claims up to ten due jobs and runs them concurrently, as the
// job runner (internal/jobs) does, waits for them all, and returns how
// many it claimed.
func runJobs(ctx context.Context, svc *verify.Service) (int, error) {
	jobs, err := svc.ClaimJobs(ctx, 10, time.Minute)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { svc.RunJob(ctx, j) })
	}
	wg.Wait()
	return len(jobs), nil
}
