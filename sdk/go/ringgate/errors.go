package ringgate

import (
	"fmt"
	"time"
)

// Error is an RFC 9457 problem the API answered, or (Code empty) a non-2xx
// response that was not problem JSON, e.g. from a proxy. Switch on Code,
// which is stable; Title and Detail are for people.
//
//	var pe *ringgate.Error
//	if errors.As(err, &pe) && pe.Code == ringgate.CodeInvalidPhone { … }
type Error struct {
	Status      int    `json:"status"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Detail      string `json:"detail,omitempty"`
	Instance    string `json:"instance,omitempty"`
	Code        string `json:"code"`
	Field       string `json:"field,omitempty"`
	Line        int    `json:"line,omitempty"`
	Limit       string `json:"limit,omitempty"`
	RetryAfterS int    `json:"retry_after_s,omitempty"`
	// RetryAfter is the response's Retry-After header, if any.
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("ringgate: %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Title != "" {
		s += ": " + e.Title
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// The problem codes (Problem.code in openapi.json).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidPhone         = "invalid_phone"
	CodeUnsupportedChannel   = "unsupported_channel"
	CodeCallbackRequired     = "callback_required"
	CodeInvalidCode          = "invalid_code"
	CodeMalformedJSON        = "malformed_json"
	CodeInvalidParameter     = "invalid_parameter"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeNoSuchRoute          = "no_such_route"
	CodeSimulatorDisabled    = "simulator_disabled"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeNotPending           = "not_pending"
	CodeNotCheckable         = "not_checkable"
	CodeNoNextStep           = "no_next_step"
	CodeConflict             = "conflict"
	CodeBodyTimeout          = "body_timeout"
	CodeBodyTooLarge         = "body_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeNoPoolNumber         = "no_pool_number"
	CodeNoCallerID           = "no_caller_id"
	CodeNoRoute              = "no_route"
	CodeInvalidDialplan      = "invalid_dialplan"
	CodeIdempotencyKeyReused = "idempotency_key_reused"
	CodeInternal             = "internal"
	CodeUnavailable          = "unavailable"
	CodeNoCall               = "no_call"
	CodeCallState            = "call_state"
	CodeRateLimited          = "rate_limited"
	CodePrefixBlocked        = "prefix_blocked"
	CodeCountryNotAllowed    = "country_not_allowed"
	CodePrefixDenied         = "prefix_denied"
	CodeRiskDenied           = "risk_denied"
	CodeUnknownField         = "unknown_field"
	CodeSMSToLandline        = "sms_to_landline"
	CodePremiumNumber        = "premium_number"
)
