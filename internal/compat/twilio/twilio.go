// Package twilio answers Twilio's Verify v2 API on ringgate's listener, so
// an app using an official Twilio client moves to ringgate by pointing the
// client at ringgate's host (docs/compat.md).
//
// Requests are form-encoded with PascalCase names, responses snake_case
// JSON with RFC 3339 dates, ids Twilio-style SIDs (VA… Services, VE…
// Verifications), errors Twilio's {code, message, more_info, status}. Auth
// is HTTP Basic with the app's Account SID and Auth Token or its API key
// SID and secret (internal/compat). A Service belongs to the app that made
// it; every lookup is scoped by the app, so another app's SIDs are 20404.
//
// Channels: sms and call are ringgate's sms_otp and voice_otp; ringgate's
// own missed_call, flash_call and answer_call are accepted by name, and
// every response carries a "ringgate" object with what they need (the
// number to dial, the caller-ID filter) and the verification's ringgate id.
package twilio

import (
	"context"
	"encoding/json"
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
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// Twilio's limits that ringgate keeps: five sends per verification, and
// (ringgate's own) five checks, the fifth miss ending it.
const (
	MaxSendAttempts   = 5
	DefaultCodeLength = 6
)

// Config wires a Handler.
type Config struct {
	Verifier compat.Verifier
	Keeper   compat.Keeper
	Store    compat.Store
	Logger   *slog.Logger
}

// Handler serves /v2/Services….
type Handler struct {
	v   compat.Verifier
	k   compat.Keeper
	st  compat.Store
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the handler.
func New(cfg Config) *Handler {
	h := &Handler{v: cfg.Verifier, k: cfg.Keeper, st: cfg.Store, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/Services", h.auth(h.createService))
	m.HandleFunc("GET /v2/Services/{sid}", h.auth(h.fetchService))
	m.HandleFunc("POST /v2/Services/{sid}/Verifications", h.auth(h.createVerification))
	m.HandleFunc("GET /v2/Services/{sid}/Verifications/{vsid}", h.auth(h.fetchVerification))
	m.HandleFunc("POST /v2/Services/{sid}/Verifications/{vsid}", h.auth(h.updateVerification))
	m.HandleFunc("POST /v2/Services/{sid}/VerificationCheck", h.auth(h.check))
	m.HandleFunc("/v2/Services", h.auth(h.notFound))
	m.HandleFunc("/v2/Services/", h.auth(h.notFound))
	h.mux = m
	return h
}

// Owns reports whether path is this API's.
func Owns(path string) bool {
	return path == "/v2/Services" || strings.HasPrefix(path, "/v2/Services/")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Error is a Twilio REST error.
type Error struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (e *Error) Error() string { return fmt.Sprintf("twilio %d: %s", e.Code, e.Message) }

func twErr(status, code int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...),
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)}
}

func invalidParam(name, format string, args ...any) *Error {
	return twErr(http.StatusBadRequest, 60200, "Invalid parameter `%s`: %s", name, fmt.Sprintf(format, args...))
}

func notFound(r *http.Request) *Error {
	return twErr(http.StatusNotFound, 20404, "The requested resource %s was not found", strings.TrimPrefix(r.URL.Path, "/v2"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var te *Error
	if !errors.As(err, &te) {
		h.log.ErrorContext(r.Context(), "twilio compat", "path", r.URL.Path, "err", err)
		te = twErr(http.StatusInternalServerError, 20500, "Internal Server Error")
	}
	if te.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	writeJSON(w, te.Status, te)
}

type principalKey struct{}

func principal(ctx context.Context) compat.Principal {
	p, _ := ctx.Value(principalKey{}).(compat.Principal)
	return p
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, form url.Values) error

// auth checks Basic credentials, reads the form of a POST, and renders
// whatever error the handler returns in Twilio's shape.
func (h *Handler) auth(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok {
			h.fail(w, r, twErr(http.StatusUnauthorized, 20003, "Authenticate"))
			return
		}
		p, err := h.k.AuthTwilio(r.Context(), user, pass)
		if errors.Is(err, compat.ErrBadCredentials) {
			h.fail(w, r, twErr(http.StatusUnauthorized, 20003, "Authenticate"))
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var form url.Values
		if r.Method == http.MethodPost {
			body, err := wire.ReadBody(r)
			if errors.Is(err, wire.ErrTooLarge) {
				h.fail(w, r, twErr(http.StatusRequestEntityTooLarge, 20001, "%v", err))
				return
			}
			if err != nil {
				h.fail(w, r, twErr(http.StatusBadRequest, 20001, "%v", err))
				return
			}
			if form, err = wire.ParseForm(r.Header.Get("Content-Type"), body); err != nil {
				h.fail(w, r, twErr(http.StatusBadRequest, 20001, "%v", err))
				return
			}
		}
		if err := fn(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), form); err != nil {
			h.fail(w, r, err)
		}
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	return notFound(r)
}

// serviceJSON is a Service resource.
type serviceJSON struct {
	SID                      string            `json:"sid"`
	AccountSID               string            `json:"account_sid"`
	FriendlyName             string            `json:"friendly_name"`
	CodeLength               int               `json:"code_length"`
	LookupEnabled            bool              `json:"lookup_enabled"`
	PSD2Enabled              bool              `json:"psd2_enabled"`
	SkipSMSToLandlines       bool              `json:"skip_sms_to_landlines"`
	DTMFInputRequired        bool              `json:"dtmf_input_required"`
	TTSName                  *string           `json:"tts_name"`
	DoNotShareWarningEnabled bool              `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled        bool              `json:"custom_code_enabled"`
	Push                     map[string]any    `json:"push"`
	TOTP                     map[string]any    `json:"totp"`
	DefaultTemplateSID       *string           `json:"default_template_sid"`
	Whatsapp                 map[string]any    `json:"whatsapp"`
	VerifyEventSubscription  bool              `json:"verify_event_subscription_enabled"`
	DateCreated              string            `json:"date_created"`
	DateUpdated              string            `json:"date_updated"`
	URL                      string            `json:"url"`
	Links                    map[string]string `json:"links"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *Handler) serviceView(r *http.Request, s compat.Service) serviceJSON {
	base := wire.BaseURL(r) + "/v2/Services/" + s.SID
	return serviceJSON{
		SID: s.SID, AccountSID: principal(r.Context()).Record.TwilioAccountSID, FriendlyName: s.FriendlyName,
		CodeLength: s.CodeLength, DTMFInputRequired: true,
		Push: map[string]any{}, TOTP: map[string]any{}, Whatsapp: map[string]any{},
		DateCreated: stamp(s.CreatedAt), DateUpdated: stamp(s.UpdatedAt), URL: base,
		Links: map[string]string{"verifications": base + "/Verifications", "verification_checks": base + "/VerificationCheck"},
	}
}

func (h *Handler) createService(w http.ResponseWriter, r *http.Request, form url.Values) error {
	p := principal(r.Context())
	name := strings.TrimSpace(form.Get("FriendlyName"))
	if name == "" {
		return invalidParam("FriendlyName", "FriendlyName is required")
	}
	if len(name) > 30 {
		return invalidParam("FriendlyName", "FriendlyName is at most 30 characters")
	}
	length := DefaultCodeLength
	if s := form.Get("CodeLength"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 || n > 10 {
			return invalidParam("CodeLength", "CodeLength is a number from 4 to 10")
		}
		length = n
	}
	now := h.v.Now()
	s := compat.Service{SID: compat.NewSID("VA"), AppID: p.App.ID, FriendlyName: name, CodeLength: length, CreatedAt: now, UpdatedAt: now}
	if err := h.st.InsertTwilioService(r.Context(), s); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h.serviceView(r, s))
	return nil
}

// service finds the app's Service named in the path.
func (h *Handler) service(r *http.Request) (compat.Service, error) {
	sid := r.PathValue("sid")
	if !compat.ValidSID(sid, "VA") {
		return compat.Service{}, notFound(r)
	}
	s, err := h.st.TwilioService(r.Context(), principal(r.Context()).App.ID, sid)
	if errors.Is(err, verify.ErrNotFound) {
		return compat.Service{}, notFound(r)
	}
	return s, err
}

func (h *Handler) fetchService(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	s, err := h.service(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.serviceView(r, s))
	return nil
}

// channels maps Twilio's channel names, and ringgate's own, to ringgate's.
var channels = map[string]verify.Channel{
	"sms":         verify.ChannelSMSOTP,
	"call":        verify.ChannelVoiceOTP,
	"missed_call": verify.ChannelMissedCall,
	"flash_call":  verify.ChannelFlashCall,
	"answer_call": verify.ChannelAnswerCall,
}

// Extension is the "ringgate" object every Verification carries: the
// ringgate verification behind it and what ringgate's own channels need.
type Extension struct {
	VerificationID string `json:"verification_id"`
	Channel        string `json:"channel"`
	DialNumber     string `json:"dial_number,omitempty"`
	CLIFilter      string `json:"cli_filter,omitempty"`
	CodeLength     int    `json:"code_length,omitempty"`
	CallerID       string `json:"caller_id,omitempty"`
	ExpiresAt      string `json:"expires_at"`
	CheckAttempts  int    `json:"check_attempts"`
}

// verificationJSON is a Verification resource.
type verificationJSON struct {
	SID              string               `json:"sid"`
	ServiceSID       string               `json:"service_sid"`
	AccountSID       string               `json:"account_sid"`
	To               string               `json:"to"`
	Channel          string               `json:"channel"`
	Status           string               `json:"status"`
	Valid            bool                 `json:"valid"`
	Lookup           map[string]any       `json:"lookup"`
	Amount           *string              `json:"amount"`
	Payee            *string              `json:"payee"`
	SendCodeAttempts []compat.SendAttempt `json:"send_code_attempts"`
	SNA              any                  `json:"sna"`
	DateCreated      string               `json:"date_created"`
	DateUpdated      string               `json:"date_updated"`
	URL              string               `json:"url"`
	Ringgate         Extension            `json:"ringgate"`
}

// checkJSON is a VerificationCheck resource.
type checkJSON struct {
	SID                   string    `json:"sid"`
	ServiceSID            string    `json:"service_sid"`
	AccountSID            string    `json:"account_sid"`
	To                    string    `json:"to"`
	Channel               string    `json:"channel"`
	Status                string    `json:"status"`
	Valid                 bool      `json:"valid"`
	Amount                *string   `json:"amount"`
	Payee                 *string   `json:"payee"`
	SNAAttemptsErrorCodes []any     `json:"sna_attempts_error_codes"`
	DateCreated           string    `json:"date_created"`
	DateUpdated           string    `json:"date_updated"`
	Ringgate              Extension `json:"ringgate"`
}

// Status is Twilio's name for a ringgate verification's state.
func Status(v verify.Verification) string {
	switch v.Status {
	case verify.StatusPending:
		return "pending"
	case verify.StatusVerified:
		return "approved"
	case verify.StatusCanceled:
		return "canceled"
	case verify.StatusExpired:
		return "expired"
	}
	if v.Reason == verify.ReasonMaxAttempts {
		return "max_attempts_reached"
	}
	return "failed"
}

func extension(v verify.Verification) Extension {
	return Extension{
		VerificationID: v.ID, Channel: string(v.Channel), DialNumber: v.DialNumber, CLIFilter: v.CLIFilter,
		CodeLength: v.CodeLength, CallerID: v.CallerID, ExpiresAt: stamp(v.ExpiresAt), CheckAttempts: v.Attempts,
	}
}

func (h *Handler) verificationView(r *http.Request, tv compat.TwilioVerification, v verify.Verification) verificationJSON {
	attempts := tv.SendAttempts
	if attempts == nil {
		attempts = []compat.SendAttempt{}
	}
	return verificationJSON{
		SID: tv.SID, ServiceSID: tv.ServiceSID, AccountSID: principal(r.Context()).Record.TwilioAccountSID,
		To: tv.To, Channel: tv.Channel, Status: Status(v), Valid: v.Status == verify.StatusVerified,
		Lookup: map[string]any{}, SendCodeAttempts: attempts,
		DateCreated: stamp(tv.CreatedAt), DateUpdated: stamp(laterOf(tv.UpdatedAt, v.UpdatedAt)),
		URL:      wire.BaseURL(r) + "/v2/Services/" + tv.ServiceSID + "/Verifications/" + tv.SID,
		Ringgate: extension(v),
	}
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// startError renders a refused start in Twilio's terms.
func startError(err error, resend bool) error {
	var e *verify.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case verify.CodeInvalidPhone:
		return invalidParam("To", "%s", e.Message)
	case verify.CodeUnsupportedChannel:
		return invalidParam("Channel", "%s", e.Message)
	case verify.CodeNoRoute, verify.CodeNoNumber, verify.CodeNoCallerID:
		return twErr(http.StatusBadRequest, 60223, "Delivery channel disabled: %s", e.Message)
	case verify.CodeRateLimited:
		switch {
		case resend:
			return twErr(http.StatusTooManyRequests, 60203, "Max send attempts reached: %s", e.Message)
		case strings.HasPrefix(e.Limit, "phone") || e.Limit == "resend_interval":
			return twErr(http.StatusTooManyRequests, 60212, "Too many concurrent requests for phone number: %s", e.Message)
		}
		return twErr(http.StatusTooManyRequests, 20429, "Too Many Requests: %s", e.Message)
	case verify.CodeCountryNotAllowed:
		return twErr(http.StatusForbidden, 60605, "Verification delivery attempt blocked: %s", e.Message)
	case verify.CodePrefixBlocked, verify.CodePrefixDenied, verify.CodeRiskDenied:
		return twErr(http.StatusForbidden, 60410, "Verification delivery attempt blocked: %s", e.Message)
	case verify.CodeNoCallback:
		return invalidParam("Channel", "%s (set the app's default callback URL)", e.Message)
	case verify.CodeInvalid:
		field := map[string]string{"locale": "Locale", "code_length": "CodeLength"}[e.Field]
		if field == "" {
			field = "Channel"
		}
		return invalidParam(field, "%s", e.Message)
	}
	return err
}

func (h *Handler) createVerification(w http.ResponseWriter, r *http.Request, form url.Values) error {
	ctx := r.Context()
	s, err := h.service(r)
	if err != nil {
		return err
	}
	p := principal(ctx)
	to := strings.TrimSpace(form.Get("To"))
	if to == "" {
		return invalidParam("To", "To is required")
	}
	num, err := phone.ParseE164(to)
	if err != nil {
		return invalidParam("To", "%v", err)
	}
	name := form.Get("Channel")
	if name == "" {
		return invalidParam("Channel", "Channel is required")
	}
	ch, ok := channels[name]
	if !ok {
		return invalidParam("Channel", "%q is not supported: sms, call, missed_call, flash_call or answer_call", name)
	}
	if form.Get("CustomCode") != "" {
		return twErr(http.StatusBadRequest, 60200, "Invalid parameter `CustomCode`: custom codes are not supported (ringgate draws every code)")
	}
	req := verify.StartRequest{Phone: num.E164, Channel: ch, Locale: form.Get("Locale")}
	if ch == verify.ChannelSMSOTP || ch == verify.ChannelVoiceOTP {
		req.CodeLength = s.CodeLength
	}
	caller := p.Caller()
	caller.App.Name = s.FriendlyName // the name the text and the call say
	if n := strings.TrimSpace(form.Get("CustomFriendlyName")); n != "" {
		caller.App.Name = n
	}

	// A pending verification of the Service for the phone is sent again
	// under the same SID, as Twilio does, up to MaxSendAttempts.
	prev, err := h.st.LatestTwilioVerification(ctx, p.App.ID, s.SID, num.E164)
	resend := false
	if err == nil {
		if pv, gerr := h.v.Get(ctx, p.Tenant(), prev.VerificationID); gerr == nil && pv.Status == verify.StatusPending {
			resend = true
			if len(prev.SendAttempts) >= MaxSendAttempts {
				return twErr(http.StatusTooManyRequests, 60203, "Max send attempts reached")
			}
		}
	} else if !errors.Is(err, verify.ErrNotFound) {
		return err
	}
	v, _, err := h.v.Start(ctx, caller, req)
	if err != nil {
		return startError(err, resend)
	}
	now := h.v.Now()
	attempt := compat.SendAttempt{AttemptSID: compat.NewSID("VL"), Channel: name, Time: now}
	var tv compat.TwilioVerification
	if resend {
		tv = prev
		tv.VerificationID, tv.Channel, tv.UpdatedAt = v.ID, name, now
		tv.SendAttempts = append(tv.SendAttempts, attempt)
		err = h.st.UpdateTwilioVerification(ctx, tv)
	} else {
		tv = compat.TwilioVerification{
			SID: compat.NewSID("VE"), ServiceSID: s.SID, AppID: p.App.ID, VerificationID: v.ID, To: num.E164,
			Channel: name, SendAttempts: []compat.SendAttempt{attempt}, CreatedAt: now, UpdatedAt: now,
		}
		err = h.st.InsertTwilioVerification(ctx, tv)
	}
	if err != nil {
		// Without its SID nobody can check it: end it.
		_, _ = h.v.Cancel(context.WithoutCancel(ctx), p.Tenant(), v.ID)
		return err
	}
	writeJSON(w, http.StatusCreated, h.verificationView(r, tv, v))
	return nil
}

// lookup finds a Verification of the Service by its SID, or by its To.
func (h *Handler) lookup(ctx context.Context, r *http.Request, s compat.Service, sid, to string) (compat.TwilioVerification, verify.Verification, error) {
	p := principal(ctx)
	var tv compat.TwilioVerification
	var err error
	switch {
	case sid != "":
		if !compat.ValidSID(sid, "VE") {
			return tv, verify.Verification{}, notFound(r)
		}
		tv, err = h.st.TwilioVerification(ctx, p.App.ID, s.SID, sid)
	case to != "":
		num, perr := phone.ParseE164(strings.TrimSpace(to))
		if perr != nil {
			return tv, verify.Verification{}, notFound(r)
		}
		tv, err = h.st.LatestTwilioVerification(ctx, p.App.ID, s.SID, num.E164)
	default:
		return tv, verify.Verification{}, notFound(r)
	}
	if errors.Is(err, verify.ErrNotFound) {
		return tv, verify.Verification{}, notFound(r)
	}
	if err != nil {
		return tv, verify.Verification{}, err
	}
	v, err := h.v.Get(ctx, p.Tenant(), tv.VerificationID)
	if verify.ErrorCode(err) == verify.CodeNotFound {
		return tv, v, notFound(r) // purged by retention
	}
	return tv, v, err
}

// pathSID splits the path's {vsid}, which Twilio allows to be the To.
func pathSID(s string) (sid, to string) {
	if strings.HasPrefix(s, "VE") {
		return s, ""
	}
	return "", s
}

func (h *Handler) fetchVerification(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	s, err := h.service(r)
	if err != nil {
		return err
	}
	sid, to := pathSID(r.PathValue("vsid"))
	tv, v, err := h.lookup(r.Context(), r, s, sid, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.verificationView(r, tv, v))
	return nil
}

func (h *Handler) updateVerification(w http.ResponseWriter, r *http.Request, form url.Values) error {
	s, err := h.service(r)
	if err != nil {
		return err
	}
	st := form.Get("Status")
	switch st {
	case "canceled":
	case "approved":
		return invalidParam("Status", "approved is not supported: a ringgate verification is approved by a check, never by the app")
	case "":
		return invalidParam("Status", "Status is required")
	default:
		return invalidParam("Status", "Status is canceled or approved")
	}
	sid, to := pathSID(r.PathValue("vsid"))
	tv, v, err := h.lookup(r.Context(), r, s, sid, to)
	if err != nil {
		return err
	}
	if v.Status.Terminal() {
		return notFound(r) // Twilio: a verification that ended is gone
	}
	v, err = h.v.Cancel(r.Context(), principal(r.Context()).Tenant(), v.ID)
	if verify.ErrorCode(err) == verify.CodeNotPending {
		return notFound(r)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.verificationView(r, tv, v))
	return nil
}

func (h *Handler) check(w http.ResponseWriter, r *http.Request, form url.Values) error {
	ctx := r.Context()
	s, err := h.service(r)
	if err != nil {
		return err
	}
	code := strings.TrimSpace(form.Get("Code"))
	if code == "" {
		return twErr(http.StatusBadRequest, 60200, "Invalid parameter `Code`: Code is required")
	}
	sid, to := form.Get("VerificationSid"), form.Get("To")
	if sid == "" && to == "" {
		return twErr(http.StatusBadRequest, 60200, "Invalid parameter: either a `To` or a `VerificationSid` must be specified")
	}
	tv, v, err := h.lookup(ctx, r, s, sid, to)
	if err != nil {
		return err
	}
	switch {
	case v.Status == verify.StatusFailed && v.Reason == verify.ReasonMaxAttempts:
		return twErr(http.StatusTooManyRequests, 60202, "Max check attempts reached")
	case v.Status.Terminal():
		return notFound(r) // approved, expired and canceled verifications are gone in Twilio
	case !v.Channel.UsesCode():
		return invalidParam("Code", "the verification is on %s, which has no code: it completes by itself (fetch it)", v.Channel)
	}
	req := verify.CheckRequest{Code: code}
	if strings.HasPrefix(code, "+") && v.Channel == verify.ChannelFlashCall {
		req = verify.CheckRequest{CLI: code}
	}
	res, err := h.v.Check(ctx, principal(ctx).Tenant(), v.ID, req)
	switch verify.ErrorCode(err) {
	case "":
		v = res.Verification
	case verify.CodeInvalidCode:
		// A code of the wrong form is a wrong code to Twilio's clients;
		// ringgate does not count it (it is no guess).
	case verify.CodeNotPending:
		return twErr(http.StatusTooManyRequests, 60202, "Max check attempts reached")
	case verify.CodeNotFound:
		return notFound(r)
	default:
		return err
	}
	writeJSON(w, http.StatusOK, checkJSON{
		SID: tv.SID, ServiceSID: tv.ServiceSID, AccountSID: principal(ctx).Record.TwilioAccountSID,
		To: tv.To, Channel: tv.Channel, Status: Status(v), Valid: res.Valid,
		SNAAttemptsErrorCodes: []any{},
		DateCreated:           stamp(tv.CreatedAt), DateUpdated: stamp(laterOf(tv.UpdatedAt, v.UpdatedAt)),
		Ringgate: extension(v),
	})
	return nil
}
