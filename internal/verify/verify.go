package verify

import (
	"encoding/json"
	"time"
)

// Channel is a verification method.
type Channel string

// Channels. Only missed_call has a carrier path today; the others are
// recognised so that requests for them get a precise error.
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
)

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
	Metadata    map[string]string
	Sandbox     bool // started with a test key
	Attempts    int

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
	CreatedAt          time.Time
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
)

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
}
