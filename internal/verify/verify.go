package verify

import (
	"encoding/json"
	"time"
)

// Channel is a verification method.
type Channel string

// Channels.
const (
	ChannelMissedCall Channel = "missed_call"
	ChannelFlashCall  Channel = "flash_call"
	ChannelAnswerCall Channel = "answer_call"
	ChannelVoiceOTP   Channel = "voice_otp"
	ChannelSMSOTP     Channel = "sms_otp"
)

// Known reports whether c names a channel ringgate knows of.
func (c Channel) Known() bool {
	switch c {
	case ChannelMissedCall, ChannelFlashCall, ChannelAnswerCall, ChannelVoiceOTP, ChannelSMSOTP:
		return true
	}
	return false
}

// Status is where a verification is in its life.
type Status string

// Statuses. Every status but pending is terminal.
const (
	StatusPending  Status = "pending"
	StatusVerified Status = "verified"
	StatusFailed   Status = "failed"
	StatusExpired  Status = "expired"
	StatusCanceled Status = "canceled"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusVerified, StatusFailed, StatusExpired, StatusCanceled:
		return true
	}
	return false
}

// Terminal reports whether no further change can happen.
func (s Status) Terminal() bool { return s != StatusPending }

// Reason explains a terminal status other than verified.
type Reason string

// Reasons.
const (
	ReasonNone         Reason = ""
	ReasonNotDialed    Reason = "not_dialed"
	ReasonCanceled     Reason = "canceled"
	ReasonMaxAttempts  Reason = "max_attempts"
	ReasonWrongCode    Reason = "wrong_code"
	ReasonCarrierError Reason = "carrier_error"
	ReasonBlocked      Reason = "blocked"
	ReasonNoAnswer     Reason = "no_answer"
	ReasonNotChecked   Reason = "not_checked" // a code was sent, and never checked in time
	ReasonMachine      Reason = "machine"     // voice_otp: an answering machine took the call
	ReasonBusy         Reason = "busy"        // the call found the line busy (or the callee declined it)
	// ReasonUndelivered: the carrier accepted the text and it never reached
	// the handset (a receipt said so), unlike carrier_error, where the
	// carrier refused it or failed to take it.
	ReasonUndelivered Reason = "undelivered"
	// ReasonWrongNumber: the caller called a pool number other than the one
	// the verification showed (a misdial, or a spoofer guessing blind), as
	// many times as the app allows (Settings.MaxWrongNumberCalls).
	ReasonWrongNumber Reason = "wrong_number"
	// ReasonSuperseded: a new start for the same phone replaced it.
	ReasonSuperseded Reason = "superseded"
)

// Step is one channel of a workflow and how long it is given.
type Step struct {
	Channel     Channel
	Timeout     time.Duration
	CodeLength  int           // code channels: digits of the code
	RingTimeout time.Duration // flash_call: how long it may ring before we drop it
}

// UsesCode reports whether the channel ends with a check of a code (or a
// flash call's caller ID) by the app.
func (c Channel) UsesCode() bool {
	switch c {
	case ChannelFlashCall, ChannelVoiceOTP, ChannelSMSOTP:
		return true
	}
	return false
}

// Result codes, as seed 003's API reports them.
const (
	ResultVerified    = "000"
	ResultNotVerified = "001"
)

// Verification is one attempt to prove that a person holds a phone number.
type Verification struct {
	ID          string
	AppID       string
	Phone       string // E.164
	Country     string // ISO region of Phone
	Channel     Channel
	Status      Status
	Reason      Reason
	DialNumber  string // missed_call: the pool number the user must call (E.164)
	CallbackURL string
	// Workflow is the channels to try in order; Step indexes the current
	// one, whose channel is Channel and whose deadline is ExpiresAt.
	Workflow []Step
	Step     int
	// CodeHash is the HMAC of the current step's code (flash_call: the last
	// CodeLength digits of the caller ID), "" when the step has none or it
	// was used. CLIPrefix is the flash caller ID without its code digits,
	// CLIFilter the regular expression the app's phone matches it with.
	CodeHash   string
	CodeLength int
	CLIPrefix  string
	CLIFilter  string
	// CallerID is the number answer_call and voice_otp call from, which the
	// app on the phone may watch for.
	CallerID        string
	Locale          string
	VerifiedChannel Channel // the channel that verified it
	Metadata        map[string]string
	Sandbox         bool // started with a test key
	Attempts        int

	// IdempotencyKey and RequestHash make a retried start return the first
	// result, and a reused key with another body fail.
	IdempotencyKey string
	RequestHash    string

	CreatedAt   time.Time
	UpdatedAt   time.Time
	ExpiresAt   time.Time
	CompletedAt time.Time // zero while pending
}

// ResultCode is "000" for verified, "001" for any other terminal status, and
// "" while pending.
func (v *Verification) ResultCode() string {
	switch {
	case v.Status == StatusVerified:
		return ResultVerified
	case v.Status.Terminal():
		return ResultNotVerified
	}
	return ""
}

// App is a tenant: one business integration with its own keys, callback and
// number pool.
type App struct {
	ID                 string
	Name               string
	DefaultCallbackURL string
	WebhookSecret      string // whsec_…
	Settings           Settings
	CreatedAt          time.Time
}

// Settings are an app's choices for the outbound channels.
type Settings struct {
	// SMSTemplates maps a locale ("en", "fr", "pt-BR") to the text of
	// sms_otp messages, with {code} and {app}. Built-in texts cover locales
	// the app does not set.
	SMSTemplates map[string]string `json:"sms_templates,omitempty"`
	// AndroidAppHash is appended to texts for the SMS Retriever API, so an
	// Android app reads the code without the SMS permission.
	AndroidAppHash string `json:"android_app_hash,omitempty"`
	// SMSSender is the sender ID or number texts come from; "" is the
	// carrier's default.
	SMSSender string `json:"sms_sender,omitempty"`
	// DialplanXML is the voice_otp dialplan; "" is the built-in one.
	DialplanXML string `json:"dialplan_xml,omitempty"`
	// FlashCallerIDs are the caller-ID ranges flash calls come from, per
	// country ("*" for any): a pattern like "+44207946XXXX" whose trailing
	// X digits carry the code.
	FlashCallerIDs []CallerIDRange `json:"flash_caller_ids,omitempty"`

	// Abuse controls (docs/abuse.md). RateLimits replace the server's
	// limits of the same scope and window; AllowedCountries maps a channel
	// (or "*") to the countries it may reach; DenyPrefixes add to the
	// server's deny list; RiskHook is asked before every start.
	RateLimits       []RateLimit         `json:"rate_limits,omitempty"`
	AllowedCountries map[string][]string `json:"allowed_countries,omitempty"`
	DenyPrefixes     []string            `json:"deny_prefixes,omitempty"`
	RiskHook         *RiskHook           `json:"risk_hook,omitempty"`
	// MaxWrongNumberCalls is how many calls from a pending missed call's
	// phone to another pool number end it (failed, wrong_number): 0 is the
	// default, 1, and at most MaxWrongNumberCallsCap.
	MaxWrongNumberCalls int `json:"max_wrong_number_calls,omitempty"`
	// MatchedCallEvents is what a call that verifies a missed call
	// records: "" (or "verified", the default) records and sends
	// verification.verified alone, whose data.call says who called which
	// number when: one event and one webhook per call, as an app expects of
	// a verification service. "both" records call.received before it and
	// sends both as webhooks (twice the rows and webhooks per call); apps
	// made before it became the default kept it (migration 0011).
	MatchedCallEvents string `json:"matched_call_events,omitempty"`
}

// Values of Settings.MatchedCallEvents.
const (
	MatchedCallBoth     = "both"
	MatchedCallVerified = "verified"
)

// CallerIDRange is a block of numbers an app may call from.
type CallerIDRange struct {
	Country string `json:"country"`
	Pattern string `json:"pattern"`
}

// KeyKind says what an API key may do.
type KeyKind string

// Key kinds. Test keys are for the sandbox.
const (
	KeyLive KeyKind = "live"
	KeyTest KeyKind = "test"
)

// APIKey is a credential of an App. Only its hash is stored.
type APIKey struct {
	ID        string
	AppID     string
	Hash      string // HashAPIKey of the secret
	Prefix    string // the first characters, to tell keys apart in lists
	Kind      KeyKind
	CreatedAt time.Time
	RevokedAt time.Time
	// Scope is what the key may do (keys.go); ScopeAdmin for keys made
	// before scopes existed.
	Scope Scope
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt time.Time
	// LastUsedAt is when the key last authenticated a request, to about a
	// minute (TouchEvery).
	LastUsedAt time.Time
}

// AnyCountry marks a pool number that serves callers from every country.
const AnyCountry = "*"

// Number is a pool number users dial for missed-call verification.
type Number struct {
	AppID     string
	Number    string // E.164
	Country   string // ISO region it serves, or AnyCountry
	CreatedAt time.Time
}

// Event types: what happened to a verification. Every event is kept, shown on
// the live stream, and (but for EventCreated) sent to the callback URL.
const (
	EventCreated      = "verification.created"
	EventCallReceived = "call.received"
	EventVerified     = "verification.verified"
	EventExpired      = "verification.expired"
	EventCanceled     = "verification.canceled"
	EventFailed       = "verification.failed"
	// EventStep: a workflow moved on to its next channel (by timeout, a
	// failed step, or POST …/next). The data's channel is the new one.
	EventStep         = "verification.step"
	EventCheckFailed  = "check.failed" // a wrong code; data has attempts
	EventCallPlaced   = "call.placed"
	EventCallRinging  = "call.ringing"
	EventCallAnswered = "call.answered"
	EventCallEnded    = "call.ended"
	EventSMSSent      = "sms.sent"
	EventSMSDelivered = "sms.delivered"
	EventSMSFailed    = "sms.failed"
)

// webhookEvents are the event types sent to the callback URL: outcomes and
// what the app may act on. The rest (created, call progress) are kept and
// streamed live, but would only be noise in a webhook endpoint.
var webhookEvents = map[string]bool{
	EventCallReceived: true, EventVerified: true, EventExpired: true, EventCanceled: true,
	EventFailed: true, EventStep: true, EventSMSDelivered: true, EventSMSFailed: true,
	EventPrefixBlocked: true,
}

// WebhookEvent reports whether events of type typ are sent as webhooks.
func WebhookEvent(typ string) bool { return webhookEvents[typ] }

// Event is one recorded change of a verification. Payload is the complete
// JSON envelope ({"type","timestamp","data"}) exactly as webhooks and the live
// stream carry it, so replaying it later shows what was true then.
type Event struct {
	ID             int64 // assigned by the store; increases with time
	VerificationID string
	AppID          string
	Type           string
	Payload        json.RawMessage
	CreatedAt      time.Time
}

// Call outcomes, recorded for every inbound call.
const (
	CallVerified    = "verified"     // matched a pending verification and verified it
	CallWrongNumber = "wrong_number" // the caller has a pending verification, for another dial number
	CallLate        = "late"         // matched, but the verification had already run out
	CallNoMatch     = "no_match"     // nobody waits for this caller
	CallDiverted    = "diverted"     // forwarded to the dial number (carrier.InboundCall.Diverted): verifies nothing
	CallRateLimited = "rate_limited" // the caller ID is over abuse.calls_per_caller: refused, matched against nothing
	CallDuplicate   = "duplicate"    // a retransmission of a call already handled (not recorded again)
)

// Call is an inbound call as ringgate saw it. Calls that match nothing are
// recorded here and never become verifications.
type Call struct {
	ID             string
	Carrier        string
	CarrierCallID  string
	From           string // normalised when possible, else as received
	To             string
	AppID          string // "" when it matched no verification
	VerificationID string
	Outcome        string
	SIPStatus      int
	ReceivedAt     time.Time
}

// Delivery states of the webhook outbox.
const (
	DeliveryPending   = "pending"   // not tried yet, or tried and due again
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // retries exhausted (or refused for good); POST …/retry re-queues
)

// Delivery is one webhook message in the outbox: written in the same
// transaction as the event it reports, delivered at least once afterwards.
type Delivery struct {
	ID             string // the webhook-id header; stable across retries
	AppID          string
	VerificationID string
	EventID        int64
	Type           string
	URL            string
	Payload        []byte
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	DeliveredAt    time.Time
	Sandbox        bool // a sandbox verification's, which test keys see
	// LeaseUntil, when set on a delivery being queued, is the lease it is
	// queued under: this node's dispatcher was handed it (Notice.Handed)
	// and no other claims it before then (Config.DeliveryLease).
	LeaseUntil time.Time
}

// Job kinds: outbound commands a verification step hands the carriers.
const (
	JobCall = "call"
	JobSMS  = "sms"
	// JobHangUp ends a call of a step that is over, through the carrier
	// that placed it (Job.Step is the call's step).
	JobHangUp = "hangup"
)

// Job states.
const (
	JobPending  = "pending"  // due at NextAttemptAt (again, after a retryable failure)
	JobRunning  = "running"  // claimed until LeaseUntil; a lapsed lease is claimable again
	JobSent     = "sent"     // a carrier accepted it; its events follow
	JobFailed   = "failed"   // every carrier refused it, or retries ran out
	JobCanceled = "canceled" // its step was over before it ran
)

// Job is an outbound command recorded in the same transaction as the step
// that needs it and run after commit, so a crash between the two loses
// nothing (the command runs at least once).
type Job struct {
	ID             string // also the carrier.Call / carrier.SMS id events carry
	AppID          string
	VerificationID string
	Step           int
	Kind           string
	// Payload is the sealed command (it holds the code): see Service.seal.
	Payload       []byte
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    time.Time
	Carrier       string
	CarrierRef    string
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
