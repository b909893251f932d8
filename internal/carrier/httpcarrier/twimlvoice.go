package httpcarrier

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

// CommandID is the id ringgate put in a callback URL (?id=…): a 400
// problem, and false, when it is missing or too long.
func CommandID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.URL.Query().Get("id")
	if id == "" || len(id) > 128 {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "id is missing or too long")
		return "", false
	}
	return id, true
}

// Emitter hands a carrier's events to the domain, stamped with the
// carrier's name and the time, and logs the ones it could not record.
type Emitter struct {
	Carrier string
	Events  carrier.EventHandler
	Now     func() time.Time
	Log     *slog.Logger
}

// Emit records e; the error says it could not be (the webhook should then
// fail, so that the provider sends it again).
func (em Emitter) Emit(ctx context.Context, e carrier.Event) error {
	e.Carrier = em.Carrier
	if e.At.IsZero() {
		e.At = em.Now()
	}
	err := em.Events.CarrierEvent(ctx, e)
	if err != nil {
		em.Log.Error("recording a carrier event", slog.String("carrier", em.Carrier), slog.String("kind", string(e.Kind)), slog.String("id", e.ID), slog.Any("err", err))
	}
	return err
}

// TwiMLVoice runs a voice_otp call's dialplan over TwiML-style call
// control, which Twilio (TwiML) and Telnyx (TeXML) share: the provider asks
// /answer once the call is answered (with AnsweredBy from its machine
// detection) and /gather after each <Gather>, and both are answered with
// the dialplan's next actions as TwiML. The session travels sealed in the
// gather URL, so any node can answer.
type TwiMLVoice struct {
	Emitter
	Seal *Sealer
	// Callback builds the URL of one of the carrier's own webhooks.
	Callback func(path string, q url.Values) string
	// Inbound decides calls to the account's numbers; Country is the region
	// of national-format numbers in them.
	Inbound carrier.InboundHandler
	Country string
}

// Incoming answers a call to one of the account's numbers: ringgate
// decides (a missed_call verification, or nobody's), and the call is
// always refused with <Reject/> before answer, so the caller pays
// nothing. If the decision cannot be made (the store is down) the provider
// gets 503 and tries the number's fallback URL.
func (v TwiMLVoice) Incoming(w http.ResponseWriter, r *http.Request, p url.Values) {
	in := carrier.InboundCall{
		From: p.Get("From"), To: p.Get("To"), Country: v.Country, Carrier: v.Carrier,
		CallID: p.Get("CallSid"), At: v.Now(),
	}
	if in.From == "" || in.To == "" {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "From and To are required")
		return
	}
	// The call id is what makes a replay an idempotent no-op: the domain
	// answers a call id it has seen with its first answer.
	if in.CallID == "" {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "CallSid is required")
		return
	}
	d, err := v.Inbound.InboundCall(r.Context(), in)
	if err != nil {
		v.Log.Error("inbound call", slog.String("carrier", v.Carrier), slog.String("call_sid", in.CallID), slog.Any("err", err))
		Problem(w, http.StatusServiceUnavailable, "unavailable", "the call could not be handled now")
		return
	}
	reason := "rejected"
	if d.SIPStatus == 486 || d.SIPStatus == 600 {
		reason = "busy"
	}
	WriteXML(w, TwiMLReject(reason))
}

// Answer starts the dialplan for whoever answered.
func (v TwiMLVoice) Answer(w http.ResponseWriter, r *http.Request, p url.Values) {
	id, call, ok := v.open(w, r, p)
	if !ok {
		return
	}
	by := AnsweredBy(p.Get("AnsweredBy"))
	// Ref names the call the provider is answering for: the domain checks
	// it against the call this id was placed as.
	if err := v.Emit(r.Context(), carrier.Event{Kind: carrier.EventAnswered, ID: id, AnsweredBy: by, Ref: p.Get("CallSid")}); err != nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	v.respond(w, r, id, call, call.Session.Answered(by))
}

// answerOnly is what an answer_call's sealed /answered token holds.
const answerOnly = "answer_call"

// SealAnswerOnly returns the token an answer_call's answer URL carries:
// sealed to the call id, so that a body signed for one call cannot be
// replayed to another's URL.
func (v TwiMLVoice) SealAnswerOnly(id string) string { return v.Seal.Seal(id, []byte(answerOnly)) }

// AnswerOnly takes an answer_call's answer. The provider asks it only once
// its answering-machine detection has judged the answer (synchronous
// MachineDetection), so AnsweredBy carries the verdict the domain needs: a
// person verifies, a machine fails the step, unknown proves nothing. The
// call is then hung up: nothing is said.
func (v TwiMLVoice) AnswerOnly(w http.ResponseWriter, r *http.Request, p url.Values) {
	id, ok := CommandID(w, r)
	if !ok {
		return
	}
	if b, err := v.Seal.Open(id, r.URL.Query().Get("s")); err != nil || string(b) != answerOnly {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "s is not a token this carrier sealed for this call")
		return
	}
	by := AnsweredBy(p.Get("AnsweredBy"))
	if err := v.Emit(r.Context(), carrier.Event{Kind: carrier.EventAnswered, ID: id, AnsweredBy: by, Ref: p.Get("CallSid")}); err != nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	WriteXML(w, TwiMLHangup())
}

// Gather continues the dialplan with the digits pressed, or with the
// menu's timeout when Digits is empty.
func (v TwiMLVoice) Gather(w http.ResponseWriter, r *http.Request, p url.Values) {
	id, call, ok := v.open(w, r, p)
	if !ok {
		return
	}
	digits := p.Get("Digits")
	if digits == "" {
		v.respond(w, r, id, call, call.Session.Timeout())
		return
	}
	v.Emit(r.Context(), carrier.Event{Kind: carrier.EventDTMF, ID: id, Digits: digits, Ref: p.Get("CallSid")})
	v.respond(w, r, id, call, call.Session.Digits(digits))
}

func (v TwiMLVoice) open(w http.ResponseWriter, r *http.Request, p url.Values) (string, *IVRCall, bool) {
	id, ok := CommandID(w, r)
	if !ok {
		return "", nil, false
	}
	if p.Get("CallSid") == "" {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "CallSid is required")
		return "", nil, false
	}
	call, err := v.Seal.OpenIVR(id, r.URL.Query().Get("s"))
	if err != nil {
		Problem(w, http.StatusBadRequest, "invalid_parameter", "s is not a session this carrier sealed for this call")
		return "", nil, false
	}
	return id, call, true
}

func (v TwiMLVoice) respond(w http.ResponseWriter, r *http.Request, id string, call *IVRCall, acts []ivr.Action) {
	for _, e := range PromptEvents(v.Carrier, id, acts, v.Now()) {
		v.Emit(r.Context(), e)
	}
	gather := ""
	if !call.Session.Done() {
		tok, err := v.Seal.SealIVR(id, call.Plan, call.Vars, call.Session)
		if err != nil {
			v.Log.Error("sealing a dialplan session", slog.String("carrier", v.Carrier), slog.String("id", id), slog.Any("err", err))
			WriteXML(w, TwiMLHangup())
			return
		}
		gather = v.Callback("/gather", url.Values{"id": {id}, "s": {tok}})
	}
	WriteXML(w, TwiML(acts, gather))
}

// TwiMLCallStatus maps a TwiML-style status callback (Twilio's and
// TeXML's CallStatus: queued, initiated, ringing, in-progress, completed,
// busy, no-answer, canceled, failed) onto an event; final reports an
// EventEnded. sipCode is the SIP status of a failed call, where the
// provider sends one. A call that runs a dialplan reports its answer from
// /answer (with machine detection), so in-progress says nothing then.
func TwiMLCallStatus(status, answeredBy, sipCode string, dialplan bool) (e carrier.Event, final bool) {
	switch status {
	case "ringing":
		return carrier.Event{Kind: carrier.EventRinging}, false
	case "in-progress", "answered":
		if dialplan {
			return carrier.Event{}, false
		}
		return carrier.Event{Kind: carrier.EventAnswered, AnsweredBy: AnsweredBy(answeredBy)}, false
	case "completed":
		cause := carrier.CauseCompleted
		if AnsweredBy(answeredBy) == carrier.AnsweredMachine {
			cause = carrier.CauseMachine
		}
		return carrier.Event{Kind: carrier.EventEnded, Cause: cause}, true
	case "busy":
		return carrier.Event{Kind: carrier.EventEnded, Cause: carrier.CauseBusy}, true
	case "no-answer":
		return carrier.Event{Kind: carrier.EventEnded, Cause: carrier.CauseNoAnswer}, true
	case "canceled":
		return carrier.Event{Kind: carrier.EventEnded, Cause: carrier.CauseDropped}, true
	case "failed":
		cause := carrier.CauseFailed
		switch strings.TrimSpace(sipCode) {
		case "404", "410", "484", "480", "604":
			cause = carrier.CauseUnreachable
		case "603":
			cause = carrier.CauseRejected
		case "486", "600":
			cause = carrier.CauseBusy
		}
		return carrier.Event{Kind: carrier.EventEnded, Cause: cause}, true
	}
	return carrier.Event{}, false
}
