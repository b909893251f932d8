package carrier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringgate/ringgate/internal/ivr"
)

// Outbound lifecycle. The domain hands an adapter a command (PlaceCall,
// SendSMS) from a job it has recorded durably; the adapter starts it and
// returns at once, then reports what the network does as Events, each
// carrying the command's ID, through the EventHandler it was built with.
// An adapter reports at most one EventEnded per call and at most one of
// EventSMSDelivered / EventSMSFailed per message; the handler ignores
// repeats, so an adapter that cannot tell a retransmission may pass it on.

// OnAnswer says what an outbound call does if the far end answers.
type OnAnswer string

// What to do on answer.
const (
	// HangUp ends the call at once (flash_call: it should never have been
	// answered; answer_call: the answer itself is the proof, and the call
	// is dropped within two seconds, seed 000).
	HangUp OnAnswer = "hangup"
	// RunDialplan runs Call.Dialplan (voice_otp): answering-machine
	// detection, speak the code, repeat on "1", hang up on timeout.
	RunDialplan OnAnswer = "dialplan"
)

// Call is an outbound call to place.
type Call struct {
	ID             string // ringgate's id for this call; every Event about it carries it
	VerificationID string
	AppID          string
	Channel        string // flash_call, answer_call or voice_otp: for routing
	From           string // caller ID, E.164 (flash_call: its last digits are the code); "" for the carrier's default
	To             string // E.164
	Country        string // ISO region of To
	// RingTimeout is the longest the call may ring unanswered; the adapter
	// cancels it then (EventEnded, CauseNoAnswer).
	RingTimeout time.Duration
	// DropOnRing cancels the call as soon as the far end rings (flash_call:
	// the caller ID has reached the phone, nothing needs answering).
	DropOnRing bool
	OnAnswer   OnAnswer
	// Dialplan is run on answer when OnAnswer is RunDialplan, with Vars
	// ({{code}} …) filled in.
	Dialplan *ivr.Dialplan
	Vars     map[string]string
	// Locale is the verification's language ("fr", "pt-BR"): carriers that
	// speak choose their voice or recordings by it.
	Locale  string
	Sandbox bool // started with a test key: the simulator carries it
}

// SMS is a text message to send.
type SMS struct {
	ID             string // ringgate's id; delivery receipts carry it
	VerificationID string
	AppID          string
	From           string // sender ID or number; "" for the carrier's default
	To             string // E.164
	Country        string
	Text           string
	// AppName is the app's display name, which the simulator shows as the
	// sender when From is "" (a real carrier uses its default then).
	AppName string
	Sandbox bool
}

// Sender places calls and sends texts. PlaceCall and SendSMS return once
// the network has accepted the command (or refused it: an *Error); what
// happens next arrives as Events. ref is the carrier's own id, for logs.
type Sender interface {
	Name() string
	PlaceCall(ctx context.Context, c Call) (ref string, err error)
	SendSMS(ctx context.Context, m SMS) (ref string, err error)
}

// CallEnd names an outbound call to end: ringgate's id for it (Call.ID)
// and the carrier's own (the ref PlaceCall returned).
type CallEnd struct {
	ID             string
	Ref            string
	VerificationID string
}

// CallEnder is a Sender that can end a call it placed: cancel it while it
// rings (SIP CANCEL), hang it up once answered (SIP BYE, the HTTP
// carriers' "complete/hang up the call" request). The domain asks for it
// when the step that placed the call is over (moved on, verified,
// expired, canceled), so that the call neither rings on nor speaks a code
// nobody can check any more. EndCall of a call that is already over, or
// that the adapter no longer knows, succeeds: the call is over either way.
// Errors are typed like PlaceCall's; a retryable one is tried again.
// Every adapter that places calls implements it (each has an interface
// guard).
type CallEnder interface {
	EndCall(ctx context.Context, c CallEnd) error
}

// EventKind is what happened to an outbound call or message.
type EventKind string

// Event kinds.
const (
	EventRinging      EventKind = "ringing"  // the far end is alerting (SIP 180/183)
	EventAnswered     EventKind = "answered" // answered; AnsweredBy says by whom, when known
	EventDTMF         EventKind = "dtmf"     // the callee pressed Digits
	EventPrompt       EventKind = "prompt"   // the call spoke Text (IVR transcript)
	EventEnded        EventKind = "ended"    // the call is over; Cause says why
	EventSMSDelivered EventKind = "sms_delivered"
	EventSMSFailed    EventKind = "sms_failed" // Cause says why
)

// Who answered, as answering-machine detection judged it.
const (
	AnsweredHuman   = "human"
	AnsweredMachine = "machine"
	AnsweredUnknown = "unknown" // no detection ran
)

// Causes of EventEnded and EventSMSFailed.
const (
	CauseCompleted   = "completed"   // answered, then hung up normally
	CauseDropped     = "dropped"     // we ended it before answer, as meant (flash_call)
	CauseNoAnswer    = "no_answer"   // rang out
	CauseBusy        = "busy"        // 486/600
	CauseRejected    = "rejected"    // the callee declined (603)
	CauseUnreachable = "unreachable" // 404/480/no route
	CauseMachine     = "machine"     // answering machine: hung up without speaking
	CauseCanceled    = "canceled"    // ringgate ended it because its step was over (EndCall)
	CauseFailed      = "failed"      // the network failed the call or message
	CauseNoMedia     = "no_media"    // answered with no audio ringgate can play (no common codec): hung up
	CauseUndelivered = "undelivered" // SMS: the handset never got it
)

// Event is something the network did with an outbound command.
type Event struct {
	Kind       EventKind
	ID         string // Call.ID or SMS.ID
	Carrier    string
	AnsweredBy string // EventAnswered
	Digits     string // EventDTMF
	Text       string // EventPrompt
	Cause      string // EventEnded, EventSMSFailed
	SIPStatus  int    // when the wire had one
	At         time.Time
	// Ref is the carrier's own id for the command, as Sender returned it,
	// for events whose ID the adapter no longer knows (it restarted since
	// sending): the handler finds the command by (Carrier, Ref). RefAlt
	// lists other spellings the carrier may have returned it in (SMPP
	// gateways write one id in hex and in decimal); they are tried in order
	// after Ref. When ID is set too, the handler checks that Ref (or one of
	// RefAlt) is the id the command was sent under, and ignores the event
	// otherwise. A call event must carry Ref: once the job knows the
	// carrier's id for the call, a call event without one is ignored (an
	// adapter that read ID from a URL the provider does not sign could
	// otherwise apply one call's event to another).
	Ref    string
	RefAlt []string
}

// ErrUnknownRef is what an EventHandler returns for an event that names a
// command only by the carrier's id (Event.Ref) and no command was sent
// under it. An adapter that can tell "not yet" from "never" (SMPP: a
// receipt may overtake its own submit_sm_resp) may ask the network to send
// the event again; otherwise it drops it.
var ErrUnknownRef = errors.New("no command was sent under this carrier id")

// EventHandler receives outbound Events. An error means the event could
// not be recorded (the store is down); adapters log it and, where their
// protocol allows, let the network retry.
type EventHandler interface {
	CarrierEvent(ctx context.Context, e Event) error
}

// Error is a failed command, typed so that the router knows whether another
// carrier may succeed where this one failed.
type Error struct {
	Carrier   string
	Retryable bool   // the carrier or its network failed: another route may work
	Code      string // a short cause (Cause* constants, or the carrier's own)
	Err       error
}

func (e *Error) Error() string {
	kind := "terminal"
	if e.Retryable {
		kind = "retryable"
	}
	return fmt.Sprintf("%s: %s error %s: %v", e.Carrier, kind, e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err is a carrier failure another route may not
// share. Errors that are not *Error (a cancelled context, a bug) are not.
func Retryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}
