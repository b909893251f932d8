// Package otpapi answers seed 001's missed-call API (the SMS Gateway Center
// style "2-Factor Authentication via Missed Call"): POST /OTPApi/send with
// sendMethod=generate and medium=misscall starts a ringgate missed-call
// verification, and its callback reaches the customer's URL once the
// verification ends, whether or not the user dialled.
//
// That provider publishes the request fields and the callback's, not its
// error codes nor its plain and XML renderings; ringgate's choices are in
// docs/compat.md and in the constants below.
package otpapi

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/compat/wire"
	"github.com/ringgate/ringgate/internal/verify"
)

// Path is the one route.
const Path = "/OTPApi/send"

// Owns reports whether path is this API's.
func Owns(path string) bool { return path == Path || strings.HasPrefix(path, "/OTPApi/") }

// TimeLayout is how times are written in responses and callbacks (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// Status codes of the response (ringgate's choice; the provider does not
// publish its own). The HTTP status says the same.
const (
	CodeOK            = "200"
	CodeBadRequest    = "400" // a missing or invalid field
	CodeUnauthorized  = "401" // no or wrong apiKey / userId and password
	CodeInvalidMobile = "402" // mobile is not a valid number
	CodeNotFound      = "404" // an unknown path under /OTPApi/
	CodeMethod        = "405" // not POST
	CodeBlocked       = "403" // country not allowed, denied prefix, risk hook
	CodeTooLarge      = "413"
	CodeRateLimited   = "429"
	CodeNoNumber      = "503" // the app's pool has no number for the mobile's country
	CodeInternal      = "500" // ringgate's own failure (its database), never bad input
)

// Verifier is what the API needs of the verification service.
type Verifier interface {
	Authenticate(ctx context.Context, key string) (verify.Caller, error)
	Start(ctx context.Context, c verify.Caller, r verify.StartRequest) (verify.Verification, bool, error)
	Get(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error)
	Now() time.Time
}

// Config wires a Handler.
type Config struct {
	Verifier Verifier
	Store    compat.Store
	// CheckURL vets a callback URL (the webhook policy: scheme, refused
	// networks); nil accepts any http(s) URL.
	CheckURL func(string) error
	Logger   *slog.Logger
}

// Handler serves POST /OTPApi/send.
type Handler struct {
	v     Verifier
	st    compat.Store
	check func(string) error
	log   *slog.Logger
}

// New returns the handler.
func New(cfg Config) *Handler {
	h := &Handler{v: cfg.Verifier, st: cfg.Store, check: cfg.CheckURL, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.check == nil {
		h.check = func(raw string) error {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http(s) URL")
			}
			return nil
		}
	}
	return h
}

// Response is the answer, in every format.
type Response struct {
	XMLName       xml.Name `json:"-" xml:"response"`
	Status        string   `json:"status" xml:"status"` // success or error
	StatusCode    string   `json:"statusCode" xml:"statusCode"`
	Reason        string   `json:"reason" xml:"reason"`
	TransactionID string   `json:"transactionId,omitempty" xml:"transactionId,omitempty"`
	Mobile        string   `json:"mobile,omitempty" xml:"mobile,omitempty"`
	MissCallTo    string   `json:"missCallTo,omitempty" xml:"missCallTo,omitempty"`
	CreateTime    string   `json:"createTime,omitempty" xml:"createTime,omitempty"`
	ExpiryTime    string   `json:"expiryTime,omitempty" xml:"expiryTime,omitempty"`
}

// format is the requested rendering: json (default), plain or xml.
func format(r *http.Request, form url.Values) string {
	f := strings.ToLower(form.Get("format"))
	if f == "" {
		f = strings.ToLower(r.URL.Query().Get("format"))
	}
	switch f {
	case "plain", "xml":
		return f
	}
	return "json"
}

func write(w http.ResponseWriter, f string, status int, resp Response) {
	switch f {
	case "plain":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		if resp.Status == "success" {
			fmt.Fprintf(w, "success|%s|%s|%s|%s\n", resp.TransactionID, resp.Mobile, resp.MissCallTo, resp.ExpiryTime)
		} else {
			fmt.Fprintf(w, "error|%s|%s\n", resp.StatusCode, strings.NewReplacer("|", "/", "\n", " ").Replace(resp.Reason))
		}
	case "xml":
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(resp)
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	}
}

func fail(w http.ResponseWriter, f string, status int, code, reason string) {
	write(w, f, status, Response{Status: "error", StatusCode: code, Reason: reason})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := format(r, nil)
	if r.URL.Path != Path {
		fail(w, f, http.StatusNotFound, CodeNotFound, "unknown path: the API is POST "+Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, f, http.StatusMethodNotAllowed, CodeMethod, "use POST")
		return
	}
	body, err := wire.ReadBody(r)
	if errors.Is(err, wire.ErrTooLarge) {
		fail(w, f, http.StatusRequestEntityTooLarge, CodeTooLarge, err.Error())
		return
	}
	if err != nil {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	form, err := wire.ParseForm(r.Header.Get("Content-Type"), body)
	if err != nil {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	f = format(r, form)
	caller, err := h.auth(r, form)
	if err != nil {
		fail(w, f, http.StatusUnauthorized, CodeUnauthorized, "invalid credentials: send the apiKey header, or userId and password")
		return
	}
	if m := form.Get("sendMethod"); m != "generate" {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, "sendMethod must be generate")
		return
	}
	if m := strings.ToLower(form.Get("medium")); m != "misscall" {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, "medium must be misscall")
		return
	}
	mobile := strings.TrimSpace(form.Get("mobile"))
	if mobile == "" {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, "mobile is required")
		return
	}
	callback := strings.TrimSpace(form.Get("callback"))
	if callback == "" {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, "callback is required: the result is sent there whether or not the user dials")
		return
	}
	if err := h.check(callback); err != nil {
		fail(w, f, http.StatusBadRequest, CodeBadRequest, "callback "+err.Error())
		return
	}
	req := verify.StartRequest{Phone: mobile, Country: strings.ToUpper(form.Get("country")), Channel: verify.ChannelMissedCall}
	if !strings.HasPrefix(mobile, "+") && req.Country == "" {
		// The provider takes national numbers with their country code and
		// no plus (91XXXXXXXXXX): read them as international.
		req.Phone = "+" + mobile
	}
	if s := form.Get("expiry"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 || n > 3600 {
			fail(w, f, http.StatusBadRequest, CodeBadRequest, "expiry is seconds from 10 to 3600")
			return
		}
		req.TimeoutS = n
	}
	if caller.App.DefaultCallbackURL == "" {
		// missed_call needs a ringgate callback too; without an app
		// default, ringgate's signed webhooks go to the same URL (JSON,
		// told apart from this API's form-encoded callback).
		req.CallbackURL = callback
	}
	ctx := r.Context()
	v, _, err := h.v.Start(ctx, caller, req)
	if err != nil {
		status, code := startError(err)
		if status == http.StatusInternalServerError {
			h.log.ErrorContext(ctx, "otpapi start", "err", err)
			fail(w, f, status, code, "internal error")
			return
		}
		fail(w, f, status, code, verifyMessage(err))
		return
	}
	now := h.v.Now()
	if err := h.st.InsertCallback(ctx, compat.Callback{
		ID: compat.NewUUID(), Kind: compat.KindOTPAPI, AppID: v.AppID, VerificationID: v.ID, Sandbox: v.Sandbox,
		CallbackURL: callback, State: compat.CallbackPending, NextAttemptAt: now, CreatedAt: now,
	}); err != nil {
		h.log.ErrorContext(ctx, "otpapi record", "err", err)
		fail(w, f, http.StatusInternalServerError, CodeInternal, "internal error")
		return
	}
	write(w, f, http.StatusOK, Response{
		Status: "success", StatusCode: CodeOK, TransactionID: v.ID, Mobile: v.Phone, MissCallTo: v.DialNumber,
		CreateTime: v.CreatedAt.UTC().Format(TimeLayout), ExpiryTime: v.ExpiresAt.UTC().Format(TimeLayout),
	})
}

// auth takes the apiKey header, else userId (the app id) and password (one
// of its API keys); both are ringgate API keys, so test keys reach the
// sandbox as on the native API.
func (h *Handler) auth(r *http.Request, form url.Values) (verify.Caller, error) {
	key := r.Header.Get("apiKey")
	if key == "" {
		key = form.Get("password")
	}
	if key == "" {
		return verify.Caller{}, compat.ErrBadCredentials
	}
	c, err := h.v.Authenticate(r.Context(), key)
	if err != nil {
		return verify.Caller{}, compat.ErrBadCredentials
	}
	if uid := form.Get("userId"); r.Header.Get("apiKey") == "" && uid != c.App.ID {
		return verify.Caller{}, compat.ErrBadCredentials
	}
	return c, nil
}

func verifyMessage(err error) string {
	var e *verify.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

func startError(err error) (int, string) {
	switch verify.ErrorCode(err) {
	case verify.CodeInvalidPhone:
		return http.StatusBadRequest, CodeInvalidMobile
	case verify.CodeInvalid, verify.CodeNoCallback, verify.CodeUnsupportedChannel:
		return http.StatusBadRequest, CodeBadRequest
	case verify.CodeRateLimited:
		return http.StatusTooManyRequests, CodeRateLimited
	case verify.CodeCountryNotAllowed, verify.CodePrefixBlocked, verify.CodePrefixDenied, verify.CodeRiskDenied:
		return http.StatusForbidden, CodeBlocked
	case verify.CodeNoNumber, verify.CodeNoRoute:
		return http.StatusServiceUnavailable, CodeNoNumber
	}
	return http.StatusInternalServerError, CodeInternal
}

// Fields are the callback's form fields.
func Fields(v verify.Verification) url.Values {
	status, reason := "fail", string(v.Reason)
	if v.Status == verify.StatusVerified {
		status, reason = "success", "dialled"
	}
	if reason == "" {
		reason = string(v.Status)
	}
	return url.Values{
		"transactionId": {v.ID},
		"mobile":        {v.Phone},
		"createTime":    {v.CreatedAt.UTC().Format(TimeLayout)},
		"expiryTime":    {v.ExpiresAt.UTC().Format(TimeLayout)},
		"missCallTo":    {v.DialNumber},
		"type":          {"misscall"},
		"method":        {"generate"},
		"status":        {status},
		"reason":        {reason},
	}
}

// Render is the callback's request: a form-encoded POST of Fields.
func Render(ctx context.Context, c compat.Callback, v verify.Verification) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.CallbackURL, strings.NewReader(Fields(v).Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
