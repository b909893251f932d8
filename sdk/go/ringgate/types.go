package ringgate

import (
	"encoding/json"
	"time"
)

// The types below mirror the schemas of ringgate's openapi.json, field for
// field (TestTypesMatchOpenAPI fails when the document gains a field the
// SDK lacks). Nullable timestamps are pointers; other nullable values decode
// null as their zero value.

// Channel is how a phone is verified.
type Channel string

// The channels.
const (
	MissedCall Channel = "missed_call"
	FlashCall  Channel = "flash_call"
	AnswerCall Channel = "answer_call"
	VoiceOTP   Channel = "voice_otp"
	SMSOTP     Channel = "sms_otp"
)

// Status is a verification's status.
type Status string

// The statuses; all but StatusPending are final.
const (
	StatusPending  Status = "pending"
	StatusVerified Status = "verified"
	StatusFailed   Status = "failed"
	StatusExpired  Status = "expired"
	StatusCanceled Status = "canceled"
)

// Final reports whether no more change will come.
func (s Status) Final() bool { return s != StatusPending && s != "" }

// Result codes: "000" verified, "001" not (see Reason). Empty while pending.
const (
	ResultVerified    = "000"
	ResultNotVerified = "001"
)

// Reasons a verification ended without being verified.
const (
	ReasonNotDialed    = "not_dialed"
	ReasonNotChecked   = "not_checked"
	ReasonNoAnswer     = "no_answer"
	ReasonMachine      = "machine"
	ReasonMaxAttempts  = "max_attempts"
	ReasonCarrierError = "carrier_error"
	ReasonCanceled     = "canceled"
	ReasonWrongCode    = "wrong_code"
	ReasonBlocked      = "blocked"
	ReasonWrongNumber  = "wrong_number"
	ReasonSuperseded   = "superseded"
	ReasonBusy         = "busy"        // the line was busy, or the callee declined
	ReasonUndelivered  = "undelivered" // the carrier took the text; its receipt says it never arrived
)

// StartRequest starts a verification: Phone and either Channel or Workflow.
type StartRequest struct {
	Phone        string            `json:"phone"`
	Channel      Channel           `json:"channel,omitempty"`
	Workflow     []WorkflowStep    `json:"workflow,omitempty"`
	Country      string            `json:"country,omitempty"`
	CallbackURL  string            `json:"callback_url,omitempty"`
	TimeoutS     int               `json:"timeout_s,omitempty"`
	CodeLength   int               `json:"code_length,omitempty"`
	RingTimeoutS int               `json:"ring_timeout_s,omitempty"`
	Locale       string            `json:"locale,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// ClientIP is the end user's address (never your server's): the
	// per-IP rate limit counts it.
	ClientIP string `json:"client_ip,omitempty"`
}

// WorkflowStep is one step of a workflow. In a request TimeoutS may be 0
// (the channel's default); the server always answers it.
type WorkflowStep struct {
	Channel  Channel `json:"channel"`
	TimeoutS int     `json:"timeout_s,omitempty"`
}

// VerificationData is a verification as webhooks and events carry it.
type VerificationData struct {
	ID                   string            `json:"id"`
	Status               Status            `json:"status"`
	Channel              Channel           `json:"channel"`
	Phone                string            `json:"phone"`
	Country              string            `json:"country"`
	DialNumber           string            `json:"dial_number,omitempty"`
	ExpiresAt            time.Time         `json:"expires_at"`
	CreatedAt            time.Time         `json:"created_at"`
	UpdatedAt            time.Time         `json:"updated_at"`
	CompletedAt          *time.Time        `json:"completed_at"`
	Metadata             map[string]string `json:"metadata"`
	ResultCode           string            `json:"result_code"`
	Reason               string            `json:"reason"`
	Sandbox              bool              `json:"sandbox"`
	Workflow             []WorkflowStep    `json:"workflow"`
	Step                 int               `json:"step"`
	VerifiedChannel      Channel           `json:"verified_channel"`
	Attempts             int               `json:"attempts"`
	CodeLength           int               `json:"code_length,omitempty"`
	CLIFilter            string            `json:"cli_filter,omitempty"`
	InterceptionTimeoutS int               `json:"interception_timeout_s,omitempty"`
	CallerID             string            `json:"caller_id,omitempty"`
	Locale               string            `json:"locale,omitempty"`
}

// Verification is a verification as the API returns it.
type Verification struct {
	VerificationData
	// ClientToken lets a browser follow this verification (status, check,
	// next, events); hand it to the page, never the API key.
	ClientToken string `json:"client_token"`
}

// CheckRequest carries the code the user typed, or (flash call) the caller
// ID the app on the phone caught. Set exactly one.
type CheckRequest struct {
	Code string `json:"code,omitempty"`
	CLI  string `json:"cli,omitempty"`
}

// CheckResult is a check's outcome and the verification after it.
type CheckResult struct {
	Verification
	Valid             bool `json:"valid"`
	AttemptsRemaining int  `json:"attempts_remaining"`
}

// PublicStatus is the page-safe view a client token reads (phone masked).
type PublicStatus struct {
	ID         string  `json:"id"`
	Status     Status  `json:"status"`
	Channel    Channel `json:"channel"`
	Phone      string  `json:"phone"`
	DialNumber string  `json:"dial_number,omitempty"`
	// The number to dial written for reading aloud: national (for a
	// visitor in DialCountry) and spaced international.
	DialNumberNational      string     `json:"dial_number_national,omitempty"`
	DialNumberInternational string     `json:"dial_number_international,omitempty"`
	DialCountry             string     `json:"dial_country,omitempty"`
	ExpiresAt               time.Time  `json:"expires_at"`
	ExpiresInS              int        `json:"expires_in_s"`
	ResultCode              string     `json:"result_code"`
	Reason                  string     `json:"reason"`
	CompletedAt             *time.Time `json:"completed_at"`
	CodeLength              int        `json:"code_length,omitempty"`
	NextChannel             Channel    `json:"next_channel,omitempty"`
}

// PublicCheckResult is a check's outcome for a client-token holder.
type PublicCheckResult struct {
	PublicStatus
	Valid             bool `json:"valid"`
	AttemptsRemaining int  `json:"attempts_remaining"`
}

// CallView is the missed call an event is about.
type CallView struct {
	From       string    `json:"from"`
	To         string    `json:"to"`
	Matched    bool      `json:"matched"`
	ReceivedAt time.Time `json:"received_at"`
	Reason     string    `json:"reason,omitempty"`
}

// OutboundView is the outbound call or text an event is about.
type OutboundView struct {
	ID         string `json:"id,omitempty"`
	Carrier    string `json:"carrier,omitempty"`
	AnsweredBy string `json:"answered_by,omitempty"`
	Cause      string `json:"cause,omitempty"`
	Error      string `json:"error,omitempty"`
}

// CheckView is the check an event is about.
type CheckView struct {
	Attempts int `json:"attempts"`
}

// StepChange says why a workflow moved on.
type StepChange struct {
	FromChannel Channel `json:"from_channel"`
	Why         string  `json:"why"`
}

// FraudView is the prefix block a fraud.prefix_blocked event reports.
type FraudView struct {
	Prefix   string    `json:"prefix"`
	Started  int       `json:"started"`
	Verified int       `json:"verified"`
	Until    time.Time `json:"until"`
}

// EventData is the verification at an event, and what the event is about.
type EventData struct {
	VerificationData
	Call       *CallView     `json:"call,omitempty"`
	Outbound   *OutboundView `json:"outbound,omitempty"`
	Check      *CheckView    `json:"check,omitempty"`
	StepChange *StepChange   `json:"step_change,omitempty"`
	Fraud      *FraudView    `json:"fraud,omitempty"`
}

// EventType names an event.
type EventType string

// The event types. Webhooks carry the final ones, EventStep,
// EventCallReceived, EventSMSDelivered, EventSMSFailed and
// EventPrefixBlocked; the live stream carries all.
const (
	EventCreated       EventType = "verification.created"
	EventCallReceived  EventType = "call.received"
	EventStep          EventType = "verification.step"
	EventCheckFailed   EventType = "check.failed"
	EventCallPlaced    EventType = "call.placed"
	EventCallRinging   EventType = "call.ringing"
	EventCallAnswered  EventType = "call.answered"
	EventCallEnded     EventType = "call.ended"
	EventSMSSent       EventType = "sms.sent"
	EventSMSDelivered  EventType = "sms.delivered"
	EventSMSFailed     EventType = "sms.failed"
	EventVerified      EventType = "verification.verified"
	EventExpired       EventType = "verification.expired"
	EventCanceled      EventType = "verification.canceled"
	EventFailed        EventType = "verification.failed"
	EventPrefixBlocked EventType = "fraud.prefix_blocked"
)

// Final reports whether the event ends its verification.
func (t EventType) Final() bool {
	switch t {
	case EventVerified, EventExpired, EventCanceled, EventFailed:
		return true
	}
	return false
}

// Event is one webhook or live-stream event (the WebhookEvent schema).
type Event struct {
	Type      EventType `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// VerificationList is one page of verifications.
type VerificationList struct {
	Data       []Verification `json:"data"`
	NextCursor string         `json:"next_cursor"`
}

// ListVerificationsParams filters a listing; all optional.
type ListVerificationsParams struct {
	Phone  string
	Status Status
	Limit  int // page size, 1 to 100 (server default 100)
	Cursor string
}

// App is the app an API key belongs to.
type App struct {
	ID                 string      `json:"id"`
	Name               string      `json:"name"`
	DefaultCallbackURL string      `json:"default_callback_url"`
	Settings           AppSettings `json:"settings"`
	CreatedAt          time.Time   `json:"created_at"`
}

// AppSettings are an app's settings.
type AppSettings struct {
	SMSTemplates        map[string]string   `json:"sms_templates,omitempty"`
	AndroidAppHash      string              `json:"android_app_hash,omitempty"`
	SMSSender           string              `json:"sms_sender,omitempty"`
	DialplanXML         string              `json:"dialplan_xml,omitempty"`
	FlashCallerIDs      []CallerIDRange     `json:"flash_caller_ids,omitempty"`
	RateLimits          []RateLimit         `json:"rate_limits,omitempty"`
	AllowedCountries    map[string][]string `json:"allowed_countries,omitempty"`
	DenyPrefixes        []string            `json:"deny_prefixes,omitempty"`
	RiskHook            *RiskHook           `json:"risk_hook,omitempty"`
	MaxWrongNumberCalls int                 `json:"max_wrong_number_calls,omitempty"`
	// MatchedCallEvents is "both" for call.received and
	// verification.verified per verifying call; absent is one event and
	// one webhook (verification.verified), the default.
	MatchedCallEvents string `json:"matched_call_events,omitempty"`
}

// SettingsPatch changes an app: a nil field is left as it is, a set one
// replaces that setting whole, an empty value clears it.
type SettingsPatch struct {
	Name                *string              `json:"name,omitempty"`
	DefaultCallbackURL  *string              `json:"default_callback_url,omitempty"`
	SMSTemplates        *map[string]string   `json:"sms_templates,omitempty"`
	AndroidAppHash      *string              `json:"android_app_hash,omitempty"`
	SMSSender           *string              `json:"sms_sender,omitempty"`
	DialplanXML         *string              `json:"dialplan_xml,omitempty"`
	FlashCallerIDs      *[]CallerIDRange     `json:"flash_caller_ids,omitempty"`
	RateLimits          *[]RateLimit         `json:"rate_limits,omitempty"`
	AllowedCountries    *map[string][]string `json:"allowed_countries,omitempty"`
	DenyPrefixes        *[]string            `json:"deny_prefixes,omitempty"`
	RiskHook            *RiskHook            `json:"risk_hook,omitempty"`
	MaxWrongNumberCalls *int                 `json:"max_wrong_number_calls,omitempty"`
	// MatchedCallEvents: "verified" (the default) or "both".
	MatchedCallEvents *string `json:"matched_call_events,omitempty"`
}

// String returns a pointer to s, for SettingsPatch fields.
func String(s string) *string { return &s }

// Int returns a pointer to n, for SettingsPatch fields.
func Int(n int) *int { return &n }

// CallerIDRange is a flash-call caller-ID range, e.g. "+442079XXXXXX".
type CallerIDRange struct {
	Country string `json:"country,omitempty"`
	Pattern string `json:"pattern"`
}

// RateLimit is one of an app's start limits.
type RateLimit struct {
	Scope   string `json:"scope"`
	Max     int    `json:"max"`
	WindowS int    `json:"window_s"`
}

// RiskHook is an app's risk-check URL.
type RiskHook struct {
	URL        string `json:"url"`
	FailClosed bool   `json:"fail_closed,omitempty"`
}

// WebhookSecret is a rotated webhook secret.
type WebhookSecret struct {
	WebhookSecret            string     `json:"webhook_secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
}

// Erasure is what DELETE /v1/phones/{phone} removed.
type Erasure struct {
	Phone   string `json:"phone"`
	Deleted struct {
		Verifications int `json:"verifications"`
		Events        int `json:"events"`
		Jobs          int `json:"jobs"`
		Deliveries    int `json:"deliveries"`
		Calls         int `json:"calls"`
	} `json:"deleted"`
}

// DeliveryStatus is a webhook delivery's state.
type DeliveryStatus string

// The delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one webhook delivery.
type Delivery struct {
	ID             string         `json:"id"`
	VerificationID string         `json:"verification_id"`
	Type           EventType      `json:"type"`
	URL            string         `json:"url"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	LastStatusCode int            `json:"last_status_code"`
	LastError      string         `json:"last_error"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at"`
	CreatedAt      time.Time      `json:"created_at"`
	DeliveredAt    *time.Time     `json:"delivered_at"`
}

// DeliveryList is one page of deliveries.
type DeliveryList struct {
	Data       []Delivery `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// ListDeliveriesParams filters the webhook log; all optional.
type ListDeliveriesParams struct {
	Status         DeliveryStatus
	VerificationID string
	Limit          int
	Cursor         string
}

// KeyScope is what an API key may do.
type KeyScope string

// The scopes.
const (
	ScopeVerify KeyScope = "verify"
	ScopeAdmin  KeyScope = "admin"
)

// APIKey is an API key without its secret.
type APIKey struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	Kind       string     `json:"kind"`
	Scope      KeyScope   `json:"scope"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Current    bool       `json:"current"`
}

// NewAPIKey is a key as created: Key is shown this once.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// NewAPIKeyRequest creates a key. Kind is "live" or "test" (default: the
// calling key's).
type NewAPIKeyRequest struct {
	Scope     KeyScope   `json:"scope"`
	Kind      string     `json:"kind,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// APIKeyList is the app's keys.
type APIKeyList struct {
	Data       []APIKey `json:"data"`
	NextCursor string   `json:"next_cursor"`
}

// AuditEntry is one admin action.
type AuditEntry struct {
	ID     string          `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail"`
}

// AuditList is one page of the audit log.
type AuditList struct {
	Data       []AuditEntry `json:"data"`
	NextCursor string       `json:"next_cursor"`
}

// ListAuditParams filters the audit log; all optional.
type ListAuditParams struct {
	Action string
	Limit  int
	Cursor string
}

// PrefixBlock is a number prefix the SMS-pumping guard blocked.
type PrefixBlock struct {
	Prefix    string    `json:"prefix"`
	Reason    string    `json:"reason"`
	Started   int       `json:"started"`
	Verified  int       `json:"verified"`
	BlockedAt time.Time `json:"blocked_at"`
	Until     time.Time `json:"until"`
}

// PrefixBlockList is the app's blocked prefixes.
type PrefixBlockList struct {
	Data       []PrefixBlock `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

// CompatCredentials are the public halves of an app's credentials for the
// compatible APIs (docs/compat.md in the server's repository).
type CompatCredentials struct {
	TwilioAccountSID    string    `json:"twilio_account_sid"`
	TwilioAPIKeySID     string    `json:"twilio_api_key_sid"`
	VonageAPIKey        string    `json:"vonage_api_key"`
	VonageApplicationID string    `json:"vonage_application_id"`
	VonagePublicKey     bool      `json:"vonage_public_key"` // whether one is installed
	VonageStatusURL     string    `json:"vonage_status_url"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// NewCompatCredentials are freshly made compat credentials, secrets
// included: shown once.
type NewCompatCredentials struct {
	AppID                 string `json:"app_id"`
	TwilioAccountSID      string `json:"twilio_account_sid"`
	TwilioAuthToken       string `json:"twilio_auth_token"`
	TwilioAPIKeySID       string `json:"twilio_api_key_sid"`
	TwilioAPIKeySecret    string `json:"twilio_api_key_secret"`
	VonageAPIKey          string `json:"vonage_api_key"`
	VonageAPISecret       string `json:"vonage_api_secret"`
	VonageApplicationID   string `json:"vonage_application_id"`
	VonageSignatureSecret string `json:"vonage_signature_secret"`
}

// VonagePublicKeyRequest is PUT …/vonage-public-key's body.
type VonagePublicKeyRequest struct {
	PublicKey string `json:"public_key"`
}

// VonageStatusURLRequest is PUT …/vonage-status-url's body.
type VonageStatusURLRequest struct {
	URL string `json:"url"`
}
