package verify

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error class. The HTTP layer maps each to
// a status in one place; clients switch on it.
type Code string

// Error codes.
const (
	CodeInvalid             Code = "invalid_request"     // a field is wrong; Field says which
	CodeInvalidPhone        Code = "invalid_phone"       // the phone number cannot be used
	CodeUnsupportedChannel  Code = "unsupported_channel" // unknown, or not available here
	CodeNoCallback          Code = "callback_required"   // no callback_url and no app default
	CodeNoNumber            Code = "no_pool_number"      // the pool has no number for the country
	CodeNoCallerID          Code = "no_caller_id"        // flash_call: the app has no caller-ID range for the country
	CodeNoRoute             Code = "no_route"            // no carrier serves the channel
	CodeNotCheckable        Code = "not_checkable"       // the current channel has no code
	CodeNoNextStep          Code = "no_next_step"
	CodeInvalidCode         Code = "invalid_code" // a code or cli of the wrong form (not counted as an attempt)
	CodeInvalidDialplan     Code = "invalid_dialplan"
	CodeNotFound            Code = "not_found"
	CodeNotPending          Code = "not_pending" // the verification already ended
	CodeIdempotencyMismatch Code = "idempotency_key_reused"
	CodeConflict            Code = "conflict"
	CodeUnauthorized        Code = "unauthorized"
	CodeForbidden           Code = "forbidden"
	CodeInternal            Code = "internal"

	// Abuse controls (docs/abuse.md).
	CodeRateLimited       Code = "rate_limited"        // a rate or resend limit; Limit names it
	CodePrefixBlocked     Code = "prefix_blocked"      // the SMS-pumping guard blocked the prefix for a while
	CodeCountryNotAllowed Code = "country_not_allowed" // the app's geo permissions exclude the country for the channel
	CodePrefixDenied      Code = "prefix_denied"       // the number is in a denied (high-cost) range
	CodeRiskDenied        Code = "risk_denied"         // the app's risk hook said no
	CodeSMSToLandline     Code = "sms_to_landline"     // an SMS-only start to a fixed line (Twilio's 60205)
	CodePremiumNumber     Code = "premium_number"      // a premium-rate or shared-cost destination
)

// Error is a domain error with a code and a message fit for an API client.
type Error struct {
	Code    Code
	Field   string // the request field at fault, if any
	Line    int    // the line of an uploaded document at fault (a dialplan), if any
	Message string
	Err     error // wrapped cause, not shown to clients
	// Limit names the limit that refused a request (CodeRateLimited,
	// CodePrefixBlocked), RetryAfter when it may succeed again.
	Limit      string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an *Error about one request field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Store errors. Implementations return these (possibly wrapped).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict") // a uniqueness rule would be broken
)

// ErrorCode returns the Code of err: its own for an *Error, CodeNotFound for
// ErrNotFound, CodeInternal otherwise.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	}
	return CodeInternal
}
