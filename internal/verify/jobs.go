package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/seal"
)

// jobPayloadLabel derives the job payload key from the server secret. It
// is part of the stored format: changing it loses every pending job.
const jobPayloadLabel = "ringgate job payload key"

// seal encrypts a job's command with AES-256-GCM under a key derived from
// the server secret: the command holds the code, which is otherwise kept
// only as an HMAC. The job id is not bound in, since the payload is sealed
// before it is stored and nothing else reads it.
func (s *Service) seal(cmd command) ([]byte, error) {
	plain, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	return s.box.Seal("", plain), nil
}

func (s *Service) open(payload []byte) (command, error) {
	var cmd command
	plain, err := s.box.Open("", payload)
	if errors.Is(err, seal.ErrMalformed) {
		return cmd, errors.New("job payload is too short")
	}
	if err != nil {
		return cmd, fmt.Errorf("open job payload (was the server secret changed?): %w", err)
	}
	if err := json.Unmarshal(plain, &cmd); err != nil {
		return cmd, fmt.Errorf("decode command: %w", err)
	}
	return cmd, nil
}

// ClaimJobs leases up to limit due outbound jobs for lease.
func (s *Service) ClaimJobs(ctx context.Context, limit int, lease time.Duration) ([]Job, error) {
	var jobs []Job
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.Now()
		var err error
		jobs, err = tx.ClaimJobs(ctx, now, now.Add(lease), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return jobs, nil
}

// RunJob hands one claimed job to the carriers and records what became of
// it; an error is logged.
func (s *Service) RunJob(ctx context.Context, j Job) {
	if err := s.runJob(ctx, j); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "outbound job", slog.String("job", j.ID), slog.Any("err", err))
	}
}

func (s *Service) runJob(ctx context.Context, j Job) error {
	v, err := s.store.Verification(ctx, j.VerificationID)
	if err != nil {
		return err
	}
	if j.Kind != JobHangUp && (v.Status.Terminal() || v.Step != j.Step) {
		return s.settleJob(ctx, j, JobCanceled, "", "", nil)
	}
	cmd, err := s.open(j.Payload)
	if err != nil {
		return s.settleJob(ctx, j, JobFailed, "", "", err)
	}
	name, ref, sendErr := s.send(ctx, j, cmd)
	if j.Kind == JobHangUp {
		ref = "" // the call's ref stays its own job's: events must find the call
	}
	switch {
	case sendErr == nil:
		return s.settleJob(ctx, j, JobSent, name, ref, nil)
	case carrier.Retryable(sendErr) && j.Attempts < maxJobAttempts:
		return s.settleJob(ctx, j, JobPending, name, "", sendErr)
	default:
		return s.settleJob(ctx, j, JobFailed, name, "", sendErr)
	}
}

// send hands the command to the carrier layer.
func (s *Service) send(ctx context.Context, j Job, cmd command) (name, ref string, err error) {
	if s.out == nil {
		return "", "", &carrier.Error{Carrier: "none", Code: "no_route", Err: errors.New("no carrier is configured")}
	}
	var rc carrier.Receipt
	if j.Kind == JobHangUp {
		err = s.out.EndCall(ctx, cmd.Carrier, carrier.CallEnd{ID: cmd.CallID, Ref: cmd.Ref, VerificationID: j.VerificationID})
		return cmd.Carrier, "", err
	}
	if j.Kind == JobSMS {
		rc, err = s.out.SendSMS(ctx, carrier.SMS{
			ID: j.ID, VerificationID: j.VerificationID, AppID: j.AppID, From: cmd.From, To: cmd.To,
			Country: cmd.Country, Text: cmd.Text, Sandbox: cmd.Sandbox, AppName: cmd.AppName,
		})
		return rc.Carrier, rc.Ref, err
	}
	c := carrier.Call{
		ID: j.ID, VerificationID: j.VerificationID, AppID: j.AppID, Channel: string(cmd.Channel),
		From: cmd.From, To: cmd.To, Country: cmd.Country, RingTimeout: time.Duration(cmd.RingMS) * time.Millisecond,
		DropOnRing: cmd.DropOnRing, OnAnswer: cmd.OnAnswer, Vars: cmd.Vars, Locale: cmd.Locale, Sandbox: cmd.Sandbox,
	}
	if cmd.OnAnswer == carrier.RunDialplan {
		if c.Dialplan, err = dialplanOf(cmd.DialplanXML, cmd.Locale); err != nil {
			return "", "", &carrier.Error{Carrier: "ringgate", Code: "dialplan", Err: err}
		}
	}
	rc, err = s.out.PlaceCall(ctx, c)
	return rc.Carrier, rc.Ref, err
}

// dialplanOf parses an app's dialplan, or returns the built-in one in
// locale's language.
func dialplanOf(xml, locale string) (*ivr.Dialplan, error) {
	if xml == "" {
		return ivr.DefaultFor(locale), nil
	}
	return ivr.Parse([]byte(xml))
}

// settleJob records what became of a job, if this runner still holds it,
// and what it means for the verification: call.placed / sms.sent, or a
// failed step.
func (s *Service) settleJob(ctx context.Context, j Job, status, name, ref string, cause error) error {
	err := s.apply(ctx, func(w *writer) error {
		cur, err := w.Job(ctx, j.ID)
		if err != nil {
			return err
		}
		if cur.Status != JobRunning || !cur.LeaseUntil.Equal(j.LeaseUntil) {
			return nil // the lease ran out and another runner has it
		}
		now := s.Now()
		cur.Status, cur.Carrier, cur.CarrierRef, cur.LeaseUntil, cur.UpdatedAt = status, name, ref, time.Time{}, now
		cur.LastError = ""
		if cause != nil {
			cur.LastError = cause.Error()
		}
		if status == JobPending {
			cur.NextAttemptAt = now.Add(jobRetryBase << (cur.Attempts - 1))
		} else {
			cur.Payload = nil // the code has no use once the command ran
		}
		if err := w.UpdateJob(ctx, cur); err != nil {
			return err
		}
		if j.Kind == JobHangUp {
			return nil // ending a call changes nothing about its verification
		}
		v, err := w.LockVerification(ctx, j.VerificationID)
		if err != nil {
			return err
		}
		if v.Status.Terminal() || v.Step != j.Step {
			if status == JobSent && j.Kind == JobCall {
				// The step ended while the call was being placed: end it now.
				return w.queueHangUp(ctx, cur, w.note(Notice{AppID: v.AppID, VerificationID: v.ID}))
			}
			return nil
		}
		out := &OutboundView{ID: j.ID, Carrier: name}
		switch status {
		case JobSent:
			typ := EventCallPlaced
			if j.Kind == JobSMS {
				typ = EventSMSSent
			}
			_, err := w.record(ctx, v, typ, detail{out: out})
			return err
		case JobFailed:
			out.Error, out.Cause = cur.LastError, "carrier_error"
			return w.stepFailed(ctx, v, ReasonCarrierError, out)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle job %s: %w", j.ID, err)
	}
	return nil
}

// CarrierEvent applies what a carrier reports about an outbound call or
// text. Events of a step that is over, or of a verification that ended,
// change nothing; repeats of an ended call or a receipt are ignored.
func (s *Service) CarrierEvent(ctx context.Context, e carrier.Event) error {
	if e.Kind == carrier.EventPrompt || e.Kind == carrier.EventDTMF {
		// The transcript holds the code, and digits are the callee's: neither
		// belongs in a stored event.
		return nil
	}
	err := s.apply(ctx, func(w *writer) error {
		id := e.ID
		if id == "" {
			var err error
			if id, err = jobIDByRef(ctx, w, e); err != nil {
				return err
			}
			if id == "" {
				return carrier.ErrUnknownRef
			}
		}
		j, err := w.Job(ctx, id)
		if errors.Is(err, ErrNotFound) {
			s.log.WarnContext(ctx, "carrier event for an unknown call or message", slog.String("id", e.ID), slog.String("ref", e.Ref), slog.String("carrier", e.Carrier))
			return nil
		}
		if err != nil {
			return err
		}
		if !refMatches(j, e) {
			// A webhook whose signature does not cover the URL (Telnyx signs
			// the body only) could carry one message's receipt to another's
			// id: the body names the carrier's own id, and it must be the one
			// this command was sent under.
			s.log.WarnContext(ctx, "carrier event names another call or message than the one sent under this id, or none; ignored",
				slog.String("id", e.ID), slog.String("ref", e.Ref), slog.String("job_ref", j.CarrierRef), slog.String("carrier", e.Carrier))
			return nil
		}
		v, err := w.LockVerification(ctx, j.VerificationID)
		if err != nil {
			return err
		}
		if v.Status.Terminal() {
			return nil
		}
		return s.carrierEventTx(ctx, w, v, j, e)
	})
	if err != nil {
		return fmt.Errorf("carrier event %s %s: %w", e.Kind, e.ID, err)
	}
	return nil
}

// refMatches reports whether an event that names both ringgate's id and
// the carrier's own id names the carrier id the job was sent under (in any
// of the spellings the carrier gave). A call event must name the call:
// once the job has settled with the carrier's call id, a call event
// without a Ref is refused (an adapter that reads ringgate's id from a
// URL the provider does not sign could otherwise carry one call's answer
// to another job). A job not yet settled with its ref (the event raced
// PlaceCall's return), a message event without a Ref, or an event of
// another carrier than the job's cannot be checked and passes.
func refMatches(j Job, e carrier.Event) bool {
	if e.ID == "" || j.CarrierRef == "" || (e.Carrier != "" && j.Carrier != "" && e.Carrier != j.Carrier) {
		return true
	}
	if e.Ref == "" {
		return !callEvent(e.Kind)
	}
	if j.CarrierRef == e.Ref {
		return true
	}
	return slices.Contains(e.RefAlt, j.CarrierRef)
}

// callEvent reports whether k is about a call (not a message).
func callEvent(k carrier.EventKind) bool {
	switch k {
	case carrier.EventRinging, carrier.EventAnswered, carrier.EventEnded, carrier.EventDTMF, carrier.EventPrompt:
		return true
	}
	return false
}

var eventTypes = map[carrier.EventKind]string{
	carrier.EventRinging:      EventCallRinging,
	carrier.EventAnswered:     EventCallAnswered,
	carrier.EventEnded:        EventCallEnded,
	carrier.EventSMSDelivered: EventSMSDelivered,
	carrier.EventSMSFailed:    EventSMSFailed,
}

func (s *Service) carrierEventTx(ctx context.Context, w *writer, v Verification, j Job, e carrier.Event) error {
	typ, ok := eventTypes[e.Kind]
	if !ok {
		return nil
	}
	past, err := s.outboundHistory(ctx, w, v.ID, j.ID)
	if err != nil {
		return err
	}
	// Each fact once; but an answer first reported without a verdict may be
	// reported again once answering-machine detection has judged it.
	verdict := e.Kind == carrier.EventAnswered && judged(e.AnsweredBy) && !past.judged
	if past.seen[typ] && !verdict {
		return nil
	}
	out := &OutboundView{ID: j.ID, Carrier: e.Carrier, AnsweredBy: e.AnsweredBy, Cause: e.Cause}
	if _, err := w.record(ctx, v, typ, detail{out: out}); err != nil {
		return err
	}
	if v.Step != j.Step {
		return nil // a call of a step the workflow has left
	}
	switch {
	case e.Kind == carrier.EventAnswered && v.Channel == ChannelAnswerCall:
		// Only a person proves the number: voicemail answers a phone that
		// is switched off. An answer not (yet) judged waits for the
		// verdict; the call ending without one fails the step.
		switch e.AnsweredBy {
		case carrier.AnsweredHuman:
			return w.finish(ctx, v, StatusVerified, ReasonNone, detail{out: out})
		case carrier.AnsweredMachine:
			return w.stepFailed(ctx, v, ReasonMachine, out)
		}
	case e.Kind == carrier.EventSMSFailed:
		reason := ReasonCarrierError
		if e.Cause == carrier.CauseUndelivered {
			reason = ReasonUndelivered
		}
		return w.stepFailed(ctx, v, reason, out)
	case e.Kind == carrier.EventEnded:
		if reason, failed := callFailed(v.Channel, e.Cause, past); failed {
			return w.stepFailed(ctx, v, reason, out)
		}
	}
	return nil
}

// callFailed says whether an ended call leaves its step with no way to
// succeed, and why. A flash call that rang has done its work however it
// ended; a voice call answered by a person has spoken the code.
func callFailed(ch Channel, cause string, past history) (Reason, bool) {
	switch cause {
	case carrier.CauseUnreachable, carrier.CauseFailed, carrier.CauseNoMedia:
		return ReasonCarrierError, true
	case carrier.CauseBusy, carrier.CauseRejected:
		if ch != ChannelFlashCall { // a flash call's caller ID may have shown all the same
			return ReasonBusy, true
		}
	}
	switch ch {
	case ChannelAnswerCall:
		// Calls answered by a person verified already. One answered by a
		// machine, or answered and never judged, proves nothing.
		if cause == carrier.CauseMachine || past.machine {
			return ReasonMachine, true
		}
		return ReasonNoAnswer, true
	case ChannelVoiceOTP:
		if cause == carrier.CauseMachine {
			return ReasonMachine, true
		}
		if !past.human {
			return ReasonNoAnswer, true
		}
	}
	return ReasonNone, false
}

// history is what was recorded already about one outbound command.
type history struct {
	seen    map[string]bool // event types
	human   bool            // answered by a person (or by someone detection could not judge)
	machine bool            // answered, and judged a machine
	judged  bool            // an answer with a verdict (human or machine) was recorded
}

// judged reports whether answeredBy is a verdict of answering-machine
// detection rather than "unknown".
func judged(answeredBy string) bool {
	return answeredBy == carrier.AnsweredHuman || answeredBy == carrier.AnsweredMachine
}

// outboundHistory reads a verification's events about outbound command id:
// carriers retransmit, and each fact is kept once.
func (s *Service) outboundHistory(ctx context.Context, tx Tx, vid, id string) (history, error) {
	h := history{seen: map[string]bool{}}
	evs, err := tx.Events(ctx, vid, 0, 1000)
	if err != nil {
		return h, err
	}
	for _, e := range evs {
		var env struct {
			Data EventData `json:"data"`
		}
		if json.Unmarshal(e.Payload, &env) != nil || env.Data.Outbound == nil || env.Data.Outbound.ID != id {
			continue
		}
		h.seen[e.Type] = true
		if e.Type == EventCallAnswered {
			by := env.Data.Outbound.AnsweredBy
			h.human = h.human || by != carrier.AnsweredMachine
			h.machine = h.machine || by == carrier.AnsweredMachine
			h.judged = h.judged || judged(by)
		}
	}
	h.human = h.human && !h.machine
	return h, nil
}
