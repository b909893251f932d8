package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

func (s *Service) publish(ns []Notice) {
	if s.pub == nil {
		return
	}
	for _, n := range ns {
		s.pub.Publish(n)
	}
}

// detail is what an event says beyond the verification itself.
type detail struct {
	call  *CallView
	out   *OutboundView
	check *CheckView
	step  *StepChange
	fraud *FraudView
}

// record stores an event about v and, for the types sent as webhooks,
// queues its webhook in the same transaction.
func (s *Service) record(ctx context.Context, tx Tx, v Verification, typ string, d detail) (Notice, error) {
	now := s.Now()
	data := EventData{View: s.ViewOf(v, false), Call: d.call, Outbound: d.out, Check: d.check, StepChange: d.step, Fraud: d.fraud}
	body, err := json.Marshal(Envelope{Type: typ, Timestamp: now, Data: data})
	if err != nil {
		return Notice{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	e := Event{VerificationID: v.ID, AppID: v.AppID, Type: typ, Payload: body, CreatedAt: now}
	if err := tx.InsertEvent(ctx, &e); err != nil {
		return Notice{}, fmt.Errorf("record %s: %w", typ, err)
	}
	n := Notice{AppID: v.AppID, VerificationID: v.ID, EventID: e.ID, Type: typ, Channel: v.Channel, StartedAt: v.CreatedAt, At: now}
	if !WebhookEvent(typ) || v.CallbackURL == "" { // "": the app polls
		return n, nil
	}
	dl := Delivery{
		ID: NewID("msg_"), AppID: v.AppID, VerificationID: v.ID, EventID: e.ID, Type: typ,
		URL: v.CallbackURL, Payload: body, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now,
		Sandbox: v.Sandbox,
	}
	if err := tx.InsertDelivery(ctx, dl); err != nil {
		return Notice{}, fmt.Errorf("queue %s webhook: %w", typ, err)
	}
	n.Deliveries = true
	return n, nil
}

var terminalEvent = map[Status]string{
	StatusVerified: EventVerified,
	StatusExpired:  EventExpired,
	StatusCanceled: EventCanceled,
	StatusFailed:   EventFailed,
}

// finish moves a pending verification to a terminal status and records it.
// A verified one records the channel that verified it; every terminal
// status burns the code.
func (s *Service) finish(ctx context.Context, tx Tx, v Verification, st Status, reason Reason, d detail) (Notice, error) {
	if v.Status.Terminal() {
		return Notice{}, Errorf(CodeNotPending, "verification %s is already %s", v.ID, v.Status)
	}
	now := s.Now()
	v.Status, v.Reason, v.UpdatedAt, v.CompletedAt, v.CodeHash = st, reason, now, now, ""
	if st == StatusVerified {
		v.VerifiedChannel = v.Channel
		if err := s.countVerified(ctx, tx, v); err != nil {
			return Notice{}, err
		}
	}
	if err := tx.UpdateVerification(ctx, v); err != nil {
		return Notice{}, fmt.Errorf("update verification: %w", err)
	}
	n, err := s.record(ctx, tx, v, terminalEvent[st], d)
	if err != nil {
		return n, err
	}
	return n, s.endStepCalls(ctx, tx, v, &n)
}

// queueJob inserts j, if any, and marks the notice so the runner wakes.
func (s *Service) queueJob(ctx context.Context, tx Tx, j *Job, n *Notice) error {
	if j == nil {
		return nil
	}
	if err := tx.InsertJob(ctx, *j); err != nil {
		return fmt.Errorf("queue %s job: %w", j.Kind, err)
	}
	n.Jobs = true
	return nil
}

// stepOver ends the current step of v without success: the workflow moves
// on to its next step, or, at the last, v ends with status and reason (and
// d in its final event). It adds one notice.
func (s *Service) stepOver(ctx context.Context, tx Tx, v Verification, st Status, reason Reason, d detail, notices *[]Notice) error {
	if v.Step+1 < len(v.Workflow) {
		return s.advance(ctx, tx, v, string(reason), notices)
	}
	n, err := s.finish(ctx, tx, v, st, reason, d)
	if err != nil {
		return err
	}
	*notices = append(*notices, n)
	return nil
}

// advance starts v's next step and records verification.step.
func (s *Service) advance(ctx context.Context, tx Tx, v Verification, why string, notices *[]Notice) error {
	app, err := tx.App(ctx, v.AppID)
	if err != nil {
		return err
	}
	from, left := v.Channel, v
	job, err := s.prepareStep(ctx, tx, app, &v, v.Step+1)
	var de *Error
	if errors.As(err, &de) {
		// The step cannot run (its pool emptied since the start): skip it.
		return s.stepFailed(ctx, tx, v, ReasonCarrierError, nil, notices)
	}
	if err != nil {
		return err
	}
	if err := tx.UpdateVerification(ctx, v); err != nil {
		return fmt.Errorf("update verification: %w", err)
	}
	n, err := s.record(ctx, tx, v, EventStep, detail{step: &StepChange{FromChannel: from, Why: why}})
	if err != nil {
		return err
	}
	if err := s.queueJob(ctx, tx, job, &n); err != nil {
		return err
	}
	if err := s.endStepCalls(ctx, tx, left, &n); err != nil {
		return err
	}
	*notices = append(*notices, n)
	return nil
}

// endStepCalls queues a hang-up for every call the current step of v has
// placed and that has not ended: the step is over (moved on, verified,
// expired, canceled, failed), and its call must neither ring on nor speak
// a code that can no longer be checked. A call still being placed is
// hung up when its job settles (settleJob); one not yet placed never will
// be (runJob cancels it).
func (s *Service) endStepCalls(ctx context.Context, tx Tx, v Verification, n *Notice) error {
	switch v.Channel {
	case ChannelFlashCall, ChannelAnswerCall, ChannelVoiceOTP:
	default:
		return nil // the step placed no call (missed_call, sms_otp)
	}
	jobs, err := tx.Jobs(ctx, v.ID)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Kind != JobCall || j.Step != v.Step || j.Status != JobSent || j.Carrier == "" {
			continue
		}
		past, err := s.outboundHistory(ctx, tx, v.ID, j.ID)
		if err != nil {
			return err
		}
		if past.seen[EventCallEnded] {
			continue
		}
		if err := s.queueHangUp(ctx, tx, j, n); err != nil {
			return err
		}
	}
	return nil
}

// queueHangUp queues the job that ends call j through the carrier that
// placed it.
func (s *Service) queueHangUp(ctx context.Context, tx Tx, j Job, n *Notice) error {
	payload, err := s.seal(command{CallID: j.ID, Carrier: j.Carrier, Ref: j.CarrierRef})
	if err != nil {
		return err
	}
	now := s.Now()
	return s.queueJob(ctx, tx, &Job{
		ID: NewID("hu_"), AppID: j.AppID, VerificationID: j.VerificationID, Step: j.Step, Kind: JobHangUp,
		Payload: payload, Status: JobPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}, n)
}

// stepFailed ends the current step because a call or text failed: the
// workflow moves on, or v fails with reason and the outbound detail.
func (s *Service) stepFailed(ctx context.Context, tx Tx, v Verification, reason Reason, out *OutboundView, notices *[]Notice) error {
	return s.stepOver(ctx, tx, v, StatusFailed, reason, detail{out: out}, notices)
}
