package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The write path. Every change to a verification is one store transaction
// that writes the new state, its event, the webhook delivery for the event
// (the outbox row) and any outbound job together; the notices the
// transaction collected are published after it commits (apply). Every
// transition runs through the helpers below, on a writer.

// writer is one store transaction of the write path: the transaction, and
// the notices its transitions collected. Each record adds one notice;
// apply publishes them once the transaction has committed.
type writer struct {
	Tx
	// later is Tx.Deferred(): the transitions' own writes, whose errors
	// end the transaction, go through it, so that a store may send them
	// together with the next statement or the commit.
	later   Tx
	s       *Service
	notices []*Notice
	events  []*Event // events[i] is notices[i]'s event, nil if none
}

// note adds a notice and returns it, so a later step in the same
// transaction can mark it (a queued job, a queued hang-up).
func (w *writer) note(n Notice) *Notice {
	return w.noteEvent(n, nil)
}

// noteEvent adds the notice of event e, which takes e's id when published.
func (w *writer) noteEvent(n Notice, e *Event) *Notice {
	p := &n
	w.notices = append(w.notices, p)
	w.events = append(w.events, e)
	return p
}

// apply runs fn in one store transaction and, once it has committed,
// publishes the notices fn's transitions collected. A transaction the
// store runs again (a retried conflict) starts with no notices.
func (s *Service) apply(ctx context.Context, fn func(w *writer) error) error {
	var w *writer
	err := s.store.Tx(ctx, func(tx Tx) error {
		w = &writer{Tx: tx, later: tx.Deferred(), s: s}
		return fn(w)
	})
	if err != nil {
		return err
	}
	for i, n := range w.notices {
		if e := w.events[i]; e != nil {
			n.EventID = e.ID
		}
		s.publish(*n)
	}
	return nil
}

// publish tells the publisher, if any, of one committed change.
func (s *Service) publish(n Notice) {
	if s.pub != nil {
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
// queues its webhook (the outbox row) in the same transaction. It adds
// the event's notice and returns it.
func (w *writer) record(ctx context.Context, v Verification, typ string, d detail) (*Notice, error) {
	s := w.s
	now := s.Now()
	data := EventData{View: s.ViewOf(v, false), Call: d.call, Outbound: d.out, Check: d.check, StepChange: d.step, Fraud: d.fraud}
	body, err := json.Marshal(Envelope{Type: typ, Timestamp: StampOf(now), Data: data})
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	// Written through later: the event's id is known once the write has
	// been sent, and the notice takes it after commit (apply).
	e := &Event{VerificationID: v.ID, AppID: v.AppID, Type: typ, Payload: body, CreatedAt: now}
	n := Notice{AppID: v.AppID, VerificationID: v.ID, Type: typ, Channel: v.Channel, StartedAt: v.CreatedAt, At: now}
	if !WebhookEvent(typ) || v.CallbackURL == "" { // "": the app polls
		if err := w.later.InsertEvent(ctx, e); err != nil {
			return nil, fmt.Errorf("record %s: %w", typ, err)
		}
		return w.noteEvent(n, e), nil
	}
	dl := Delivery{
		ID: NewID("msg_"), AppID: v.AppID, VerificationID: v.ID, Type: typ,
		URL: v.CallbackURL, Payload: body, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now,
		Sandbox: v.Sandbox,
	}
	// Handed to this node's dispatcher after commit, leased to it; or, with
	// no hand-off, claimed by a dispatcher woken by the notice.
	handed := s.handOff > 0
	if handed {
		dl.LeaseUntil = now.Add(s.handOff)
	}
	if err := w.later.InsertEventDelivery(ctx, e, dl); err != nil {
		return nil, fmt.Errorf("record %s and queue its webhook: %w", typ, err)
	}
	if handed {
		n.Handed = []Delivery{dl}
	} else {
		n.Deliveries = true
	}
	return w.noteEvent(n, e), nil
}

var terminalEvent = map[Status]string{
	StatusVerified: EventVerified,
	StatusExpired:  EventExpired,
	StatusCanceled: EventCanceled,
	StatusFailed:   EventFailed,
}

// finish moves a pending verification to a terminal status and records it.
// A verified one records the channel that verified it; every terminal
// status burns the code. It adds one notice.
func (w *writer) finish(ctx context.Context, v Verification, st Status, reason Reason, d detail) error {
	if v.Status.Terminal() {
		return Errorf(CodeNotPending, "verification %s is already %s", v.ID, v.Status)
	}
	now := w.s.Now()
	v.Status, v.Reason, v.UpdatedAt, v.CompletedAt, v.CodeHash = st, reason, now, now, ""
	if st == StatusVerified {
		v.VerifiedChannel = v.Channel
		if err := w.s.countVerified(ctx, w, v); err != nil {
			return err
		}
	}
	if err := w.later.UpdateVerification(ctx, v); err != nil {
		return fmt.Errorf("update verification: %w", err)
	}
	n, err := w.record(ctx, v, terminalEvent[st], d)
	if err != nil {
		return err
	}
	return w.endStepCalls(ctx, v, n)
}

// queueJob inserts j, if any, and marks the notice so the runner wakes.
func (w *writer) queueJob(ctx context.Context, j *Job, n *Notice) error {
	if j == nil {
		return nil
	}
	if err := w.later.InsertJob(ctx, *j); err != nil {
		return fmt.Errorf("queue %s job: %w", j.Kind, err)
	}
	n.Jobs = true
	return nil
}

// stepOver ends the current step of v without success: the workflow moves
// on to its next step, or, at the last, v ends with status and reason (and
// d in its final event). It adds one notice.
func (w *writer) stepOver(ctx context.Context, v Verification, st Status, reason Reason, d detail) error {
	if v.Step+1 < len(v.Workflow) {
		return w.advance(ctx, v, string(reason))
	}
	return w.finish(ctx, v, st, reason, d)
}

// advance starts v's next step and records verification.step. It adds
// one notice.
func (w *writer) advance(ctx context.Context, v Verification, why string) error {
	app, err := w.App(ctx, v.AppID)
	if err != nil {
		return err
	}
	from, left := v.Channel, v
	job, err := w.s.prepareStep(ctx, w, app, &v, v.Step+1)
	var de *Error
	if errors.As(err, &de) {
		// The step cannot run (its pool emptied since the start): skip it.
		return w.stepFailed(ctx, v, ReasonCarrierError, nil)
	}
	if err != nil {
		return err
	}
	if err := w.later.UpdateVerification(ctx, v); err != nil {
		return fmt.Errorf("update verification: %w", err)
	}
	n, err := w.record(ctx, v, EventStep, detail{step: &StepChange{FromChannel: from, Why: why}})
	if err != nil {
		return err
	}
	if err := w.queueJob(ctx, job, n); err != nil {
		return err
	}
	return w.endStepCalls(ctx, left, n)
}

// endStepCalls queues a hang-up for every call the current step of v has
// placed and that has not ended: the step is over (moved on, verified,
// expired, canceled, failed), and its call must neither ring on nor speak
// a code that can no longer be checked. A call still being placed is
// hung up when its job settles (settleJob); one not yet placed never will
// be (runJob cancels it).
func (w *writer) endStepCalls(ctx context.Context, v Verification, n *Notice) error {
	switch v.Channel {
	case ChannelFlashCall, ChannelAnswerCall, ChannelVoiceOTP:
	default:
		return nil // the step placed no call (missed_call, sms_otp)
	}
	jobs, err := w.Jobs(ctx, v.ID)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Kind != JobCall || j.Step != v.Step || j.Status != JobSent || j.Carrier == "" {
			continue
		}
		past, err := w.s.outboundHistory(ctx, w, v.ID, j.ID)
		if err != nil {
			return err
		}
		if past.seen[EventCallEnded] {
			continue
		}
		if err := w.queueHangUp(ctx, j, n); err != nil {
			return err
		}
	}
	return nil
}

// queueHangUp queues the job that ends call j through the carrier that
// placed it.
func (w *writer) queueHangUp(ctx context.Context, j Job, n *Notice) error {
	payload, err := w.s.seal(command{CallID: j.ID, Carrier: j.Carrier, Ref: j.CarrierRef})
	if err != nil {
		return err
	}
	now := w.s.Now()
	return w.queueJob(ctx, &Job{
		ID: NewID("hu_"), AppID: j.AppID, VerificationID: j.VerificationID, Step: j.Step, Kind: JobHangUp,
		Payload: payload, Status: JobPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}, n)
}

// stepFailed ends the current step because a call or text failed: the
// workflow moves on, or v fails with reason and the outbound detail.
func (w *writer) stepFailed(ctx context.Context, v Verification, reason Reason, out *OutboundView) error {
	return w.stepOver(ctx, v, StatusFailed, reason, detail{out: out})
}
