package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ringgate/ringgate/internal/verify"
)

// Problem is an RFC 9457 problem detail. Code is stable for clients to
// switch on; Type is the same code as a URN, since a problem type need not
// resolve and ringgate runs on the operator's own host name.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	// Line is the line of an uploaded document (a dialplan) at fault.
	Line int `json:"line,omitempty"`
	// Limit names the limit that refused the request (429), and
	// RetryAfterS repeats the Retry-After header.
	Limit       string `json:"limit,omitempty"`
	RetryAfterS int    `json:"retry_after_s,omitempty"`
}

// HTTP-level problem codes; domain codes come from verify.Code.
const (
	codeMalformed        = "malformed_json"
	codeUnknownField     = "unknown_field"
	codeTooLarge         = "body_too_large"
	codeTimeout          = "body_timeout"
	codeMediaType        = "unsupported_media_type"
	codeMethod           = "method_not_allowed"
	codeRoute            = "no_such_route"
	codeUnavailable      = "unavailable"
	codeSimulatorOff     = "simulator_disabled"
	codeInvalidParameter = "invalid_parameter"
	codeSimNoCall        = "no_call"    // a simulated phone has no call in progress
	codeSimCallState     = "call_state" // its call is not in a state that allows the action
)

// statusOf maps every error code to its HTTP status, in one place.
var statusOf = map[string]int{
	string(verify.CodeInvalid):             http.StatusBadRequest,
	string(verify.CodeInvalidPhone):        http.StatusBadRequest,
	string(verify.CodeUnsupportedChannel):  http.StatusBadRequest,
	string(verify.CodeNoCallback):          http.StatusBadRequest,
	string(verify.CodeNoNumber):            http.StatusUnprocessableEntity,
	string(verify.CodeNoCallerID):          http.StatusUnprocessableEntity,
	string(verify.CodeNoRoute):             http.StatusUnprocessableEntity,
	string(verify.CodeNotCheckable):        http.StatusConflict,
	string(verify.CodeNoNextStep):          http.StatusConflict,
	string(verify.CodeInvalidCode):         http.StatusBadRequest,
	string(verify.CodeInvalidDialplan):     http.StatusUnprocessableEntity,
	string(verify.CodeNotFound):            http.StatusNotFound,
	string(verify.CodeNotPending):          http.StatusConflict,
	string(verify.CodeIdempotencyMismatch): http.StatusUnprocessableEntity,
	string(verify.CodeConflict):            http.StatusConflict,
	string(verify.CodeUnauthorized):        http.StatusUnauthorized,
	string(verify.CodeForbidden):           http.StatusForbidden,
	string(verify.CodeInternal):            http.StatusInternalServerError,
	string(verify.CodeRateLimited):         http.StatusTooManyRequests,
	string(verify.CodePrefixBlocked):       http.StatusTooManyRequests,
	string(verify.CodeCountryNotAllowed):   http.StatusForbidden,
	string(verify.CodePrefixDenied):        http.StatusForbidden,
	string(verify.CodeRiskDenied):          http.StatusForbidden,
	string(verify.CodeSMSToLandline):       http.StatusBadRequest,
	string(verify.CodePremiumNumber):       http.StatusForbidden,
	codeMalformed:                          http.StatusBadRequest,
	codeUnknownField:                       http.StatusBadRequest,
	codeInvalidParameter:                   http.StatusBadRequest,
	codeTooLarge:                           http.StatusRequestEntityTooLarge,
	codeTimeout:                            http.StatusRequestTimeout,
	codeMediaType:                          http.StatusUnsupportedMediaType,
	codeMethod:                             http.StatusMethodNotAllowed,
	codeRoute:                              http.StatusNotFound,
	codeUnavailable:                        http.StatusServiceUnavailable,
	codeSimulatorOff:                       http.StatusNotFound,
	codeSimNoCall:                          http.StatusNotFound,
	codeSimCallState:                       http.StatusConflict,
}

func writeProblem(w http.ResponseWriter, r *http.Request, code, field, detail string) {
	writeProblemAt(w, r, code, field, 0, detail)
}

func writeProblemAt(w http.ResponseWriter, r *http.Request, code, field string, line int, detail string) {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{
		Type: "urn:ringgate:problem:" + code, Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, Code: code, Field: field, Line: line,
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringgate"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeError renders any error from the domain. Internal errors are logged
// and shown without their cause.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *verify.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		writeLimited(w, r, e)
		return
	}
	if errors.As(err, &e) && e.Code != verify.CodeInternal {
		writeProblemAt(w, r, string(e.Code), e.Field, e.Line, e.Message)
		return
	}
	if errors.Is(err, verify.ErrNotFound) {
		writeProblem(w, r, string(verify.CodeNotFound), "", "not found")
		return
	}
	if r.Context().Err() != nil {
		return // the client went away; nobody reads the answer
	}
	a.log.ErrorContext(r.Context(), "request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	writeProblem(w, r, string(verify.CodeInternal), "", "the server could not complete the request; it has been logged")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
