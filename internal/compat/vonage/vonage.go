// Package vonage answers Vonage's Verify v2 API on ringgate's listener, so
// an app using an official Vonage client moves to ringgate by giving the
// client ringgate's host (its apiHost option; docs/compat.md).
//
// POST /v2/verify starts a request (a ringgate workflow, one step per
// workflow entry), POST /v2/verify/{request_id} checks a code, DELETE
// cancels, POST …/next_workflow moves on. Errors are RFC 7807 bodies with
// Vonage's type URLs and titles. Auth is the app's application JWT (RS256,
// checked with the public key the app registered) or HTTP Basic with its
// api_key and api_secret.
package vonage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/compat/wire"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// Config wires a Handler.
type Config struct {
	Verifier compat.Verifier
	Keeper   compat.Keeper
	Store    compat.Store
	Logger   *slog.Logger
}

// Handler serves /v2/verify….
type Handler struct {
	v   compat.Verifier
	k   compat.Keeper
	st  compat.Store
	log *slog.Logger
	mux *http.ServeMux
}

// Owns reports whether path is this API's.
func Owns(path string) bool { return path == "/v2/verify" || strings.HasPrefix(path, "/v2/verify/") }

// New returns the handler.
func New(cfg Config) *Handler {
	h := &Handler{v: cfg.Verifier, k: cfg.Keeper, st: cfg.Store, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/verify", h.auth(h.start))
	m.HandleFunc("POST /v2/verify/{id}", h.auth(h.check))
	m.HandleFunc("DELETE /v2/verify/{id}", h.auth(h.cancel))
	m.HandleFunc("POST /v2/verify/{id}/next_workflow", h.auth(h.next))
	m.HandleFunc("/v2/verify", h.auth(h.notFound))
	m.HandleFunc("/v2/verify/", h.auth(h.notFound))
	h.mux = m
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Problem is Vonage's RFC 7807 error body.
type Problem struct {
	Type              string       `json:"type"`
	Title             string       `json:"title"`
	Detail            string       `json:"detail"`
	Instance          string       `json:"instance"`
	RequestID         string       `json:"request_id,omitempty"`
	InvalidParameters []InvalidArg `json:"invalid_parameters,omitempty"`
	status            int
}

// InvalidArg names a field at fault in a 422.
type InvalidArg struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

const (
	typeBase   = "https://www.developer.vonage.com/api-errors"
	typeVerify = typeBase + "/verify"
)

func problem(status int, typ, title, format string, args ...any) *Problem {
	return &Problem{Type: typ, Title: title, Detail: fmt.Sprintf(format, args...), status: status}
}

func invalidParams(name, format string, args ...any) *Problem {
	p := problem(http.StatusUnprocessableEntity, typeBase+"#invalid-params", "Invalid params",
		"The value of one or more parameters is invalid.")
	p.InvalidParameters = []InvalidArg{{Name: name, Reason: fmt.Sprintf(format, args...)}}
	return p
}

func notFound(id string) *Problem {
	return problem(http.StatusNotFound, typeBase+"#not-found", "Not Found",
		"Request '%s' was not found or it has been verified already.", id)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		h.log.ErrorContext(r.Context(), "vonage compat", "path", r.URL.Path, "err", err)
		p = problem(http.StatusInternalServerError, typeBase+"#internal-error", "Internal Error", "Something went wrong.")
	}
	p.Instance = compat.NewUUID()
	if p.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Vonage API", Bearer`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

type principalKey struct{}

func principal(ctx context.Context) compat.Principal {
	p, _ := ctx.Value(principalKey{}).(compat.Principal)
	return p
}

var errUnauthorized = problem(http.StatusUnauthorized, typeBase+"#unauthorized", "Invalid credentials supplied",
	"You did not provide correct credentials.")

// authenticate takes a Bearer application JWT or Basic api_key:api_secret.
func (h *Handler) authenticate(r *http.Request) (compat.Principal, error) {
	ctx := r.Context()
	authz := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(authz, "Bearer "); ok {
		c, signed, sig, err := ParseJWT(strings.TrimSpace(tok))
		if err != nil {
			return compat.Principal{}, errUnauthorized
		}
		p, err := h.k.VonageApp(ctx, c.ApplicationID)
		if err != nil {
			return compat.Principal{}, errUnauthorized
		}
		key, err := ParsePublicKey(p.Record.VonagePublicKey)
		if err != nil || Verify(c, signed, sig, key, h.v.Now()) != nil {
			return compat.Principal{}, errUnauthorized
		}
		return p, nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return compat.Principal{}, errUnauthorized
	}
	p, err := h.k.AuthVonageBasic(ctx, user, pass)
	if errors.Is(err, compat.ErrBadCredentials) {
		return compat.Principal{}, errUnauthorized
	}
	return p, err
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte) error

func (h *Handler) auth(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.authenticate(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		body, err := wire.ReadBody(r)
		if errors.Is(err, wire.ErrTooLarge) {
			h.fail(w, r, problem(http.StatusRequestEntityTooLarge, typeBase+"#payload-too-large", "Payload Too Large", "%v", err))
			return
		}
		if err != nil {
			h.fail(w, r, problem(http.StatusBadRequest, typeBase+"#bad-request", "Bad Request", "%v", err))
			return
		}
		if err := fn(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), body); err != nil {
			h.fail(w, r, err)
		}
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, _ []byte) error {
	return problem(http.StatusNotFound, typeBase+"#not-found", "Not Found", "The path %s does not exist.", r.URL.Path)
}

// Channels: Vonage's names and ringgate's own.
var channels = map[string]verify.Channel{
	"sms":         verify.ChannelSMSOTP,
	"voice":       verify.ChannelVoiceOTP,
	"missed_call": verify.ChannelMissedCall,
	"flash_call":  verify.ChannelFlashCall,
	"answer_call": verify.ChannelAnswerCall,
}

// StartRequest is the body of POST /v2/verify.
type StartRequest struct {
	Brand          string         `json:"brand"`
	Workflow       []WorkflowStep `json:"workflow"`
	Locale         string         `json:"locale,omitempty"`
	ChannelTimeout int            `json:"channel_timeout,omitempty"`
	ClientRef      string         `json:"client_ref,omitempty"`
	CodeLength     int            `json:"code_length,omitempty"`
	Code           string         `json:"code,omitempty"`
	FraudCheck     *bool          `json:"fraud_check,omitempty"`
	TemplateID     string         `json:"template_id,omitempty"`
}

// WorkflowStep is one channel of a request.
type WorkflowStep struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	From    string `json:"from,omitempty"`
	AppHash string `json:"app_hash,omitempty"`
}

// Extension is the "ringgate" object of a new request's response.
type Extension struct {
	VerificationID string `json:"verification_id"`
	Channel        string `json:"channel"`
	DialNumber     string `json:"dial_number,omitempty"`
	CLIFilter      string `json:"cli_filter,omitempty"`
	CodeLength     int    `json:"code_length,omitempty"`
	CallerID       string `json:"caller_id,omitempty"`
}

// ParseStart decodes and validates a start body: the first problem found,
// as Vonage's 422 names it.
func ParseStart(contentType string, body []byte) (StartRequest, *Problem) {
	var req StartRequest
	if err := wire.DecodeJSON(contentType, body, &req, true); err != nil {
		return req, problem(http.StatusBadRequest, typeBase+"#bad-request", "Bad Request", "%v", err)
	}
	switch {
	case strings.TrimSpace(req.Brand) == "":
		return req, invalidParams("brand", "brand is required")
	case len(req.Brand) > 16:
		return req, invalidParams("brand", "brand is at most 16 characters")
	case len(req.Workflow) == 0:
		return req, invalidParams("workflow", "workflow needs at least one channel")
	case len(req.Workflow) > 3:
		return req, invalidParams("workflow", "workflow has at most 3 channels")
	case req.ChannelTimeout != 0 && (req.ChannelTimeout < 15 || req.ChannelTimeout > 900):
		return req, invalidParams("channel_timeout", "channel_timeout is 15 to 900 seconds")
	case req.CodeLength != 0 && (req.CodeLength < 4 || req.CodeLength > 10):
		return req, invalidParams("code_length", "code_length is 4 to 10")
	case req.Code != "":
		return req, invalidParams("code", "custom codes are not supported: ringgate draws every code")
	case len(req.ClientRef) > 40:
		return req, invalidParams("client_ref", "client_ref is at most 40 characters")
	}
	for i, st := range req.Workflow {
		if _, ok := channels[st.Channel]; !ok {
			return req, invalidParams(fmt.Sprintf("workflow[%d].channel", i), "%q is not supported: sms, voice, missed_call, flash_call or answer_call", st.Channel)
		}
		if st.To == "" {
			return req, invalidParams(fmt.Sprintf("workflow[%d].to", i), "to is required")
		}
		if normalise(st.To) != normalise(req.Workflow[0].To) {
			return req, invalidParams(fmt.Sprintf("workflow[%d].to", i), "every channel of a workflow goes to the same number in ringgate")
		}
	}
	return req, nil
}

// normalise takes Vonage's E.164 without the plus.
func normalise(to string) string {
	to = strings.TrimSpace(to)
	if !strings.HasPrefix(to, "+") {
		to = "+" + to
	}
	return to
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, body []byte) error {
	ctx := r.Context()
	p := principal(ctx)
	req, perr := ParseStart(r.Header.Get("Content-Type"), body)
	if perr != nil {
		return perr
	}
	num, err := phone.ParseE164(normalise(req.Workflow[0].To))
	if err != nil {
		return invalidParams("workflow[0].to", "%v", err)
	}
	sr := verify.StartRequest{Phone: num.E164, Locale: localeOf(req.Locale), CodeLength: req.CodeLength}
	for _, st := range req.Workflow {
		sr.Workflow = append(sr.Workflow, verify.StepRequest{Channel: channels[st.Channel], TimeoutS: req.ChannelTimeout})
	}
	if len(sr.Workflow) == 1 {
		sr.Channel, sr.TimeoutS, sr.Workflow = sr.Workflow[0].Channel, sr.Workflow[0].TimeoutS, nil
	}
	if req.ClientRef != "" {
		sr.Metadata = map[string]string{"client_ref": req.ClientRef}
	}
	caller := p.Caller()
	caller.App.Name = req.Brand // the name the text and the call say
	v, _, err := h.v.Start(ctx, caller, sr)
	if err != nil {
		return startError(err)
	}
	id := compat.NewUUID()
	now := h.v.Now()
	err = h.st.InsertVonageRequest(ctx, compat.VonageRequest{RequestID: id, AppID: p.App.ID, VerificationID: v.ID, CreatedAt: now})
	if err == nil && p.Record.VonageStatusURL != "" {
		// The app asked for status callbacks: one is owed when it ends.
		err = h.st.InsertCallback(ctx, compat.Callback{
			ID: compat.NewUUID(), Kind: compat.KindVonage, Ref: id, AppID: p.App.ID, VerificationID: v.ID,
			CallbackURL: p.Record.VonageStatusURL, State: compat.CallbackPending, NextAttemptAt: now, CreatedAt: now,
		})
	}
	if err != nil {
		_, _ = h.v.Cancel(context.WithoutCancel(ctx), p.Tenant(), v.ID)
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{
		"request_id": id,
		"ringgate": Extension{
			VerificationID: v.ID, Channel: string(v.Channel), DialNumber: v.DialNumber, CLIFilter: v.CLIFilter,
			CodeLength: v.CodeLength, CallerID: v.CallerID,
		},
	})
	return nil
}

// localeOf turns Vonage's "es-es" into ringgate's "es" (and "pt-br" into
// "pt-BR").
func localeOf(l string) string {
	lang, region, ok := strings.Cut(l, "-")
	if !ok || lang == "" {
		return strings.ToLower(l)
	}
	if strings.EqualFold(lang, region) || lang == "en" {
		return strings.ToLower(lang)
	}
	return strings.ToLower(lang) + "-" + strings.ToUpper(region)
}

func startError(err error) error {
	var e *verify.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case verify.CodeInvalidPhone:
		return invalidParams("workflow[0].to", "%s", e.Message)
	case verify.CodeUnsupportedChannel, verify.CodeNoCallback:
		return invalidParams("workflow", "%s", e.Message)
	case verify.CodeInvalid:
		name := e.Field
		if name == "" {
			name = "workflow"
		}
		return invalidParams(name, "%s", e.Message)
	case verify.CodeNoRoute, verify.CodeNoNumber, verify.CodeNoCallerID:
		return problem(http.StatusUnprocessableEntity, typeVerify+"#channel-not-available", "Channel not available", "%s", e.Message)
	case verify.CodeRateLimited:
		return problem(http.StatusTooManyRequests, typeBase+"#throttled", "Rate Limit Hit", "%s", e.Message)
	case verify.CodeCountryNotAllowed, verify.CodePrefixBlocked, verify.CodePrefixDenied, verify.CodeRiskDenied:
		return problem(http.StatusForbidden, typeVerify+"#fraud-check", "Forbidden", "Your request has been blocked by our fraud protection system: %s", e.Message)
	}
	return err
}

// request finds the app's request named in the path.
func (h *Handler) request(r *http.Request) (compat.VonageRequest, verify.Verification, error) {
	ctx := r.Context()
	p := principal(ctx)
	id := r.PathValue("id")
	if !compat.ValidUUID(id) {
		return compat.VonageRequest{}, verify.Verification{}, notFound(id)
	}
	vr, err := h.st.VonageRequest(ctx, p.App.ID, id)
	if errors.Is(err, verify.ErrNotFound) {
		return vr, verify.Verification{}, notFound(id)
	}
	if err != nil {
		return vr, verify.Verification{}, err
	}
	v, err := h.v.Get(ctx, p.Tenant(), vr.VerificationID)
	if verify.ErrorCode(err) == verify.CodeNotFound {
		return vr, v, notFound(id)
	}
	return vr, v, err
}

func (h *Handler) check(w http.ResponseWriter, r *http.Request, body []byte) error {
	vr, v, err := h.request(r)
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := wire.DecodeJSON(r.Header.Get("Content-Type"), body, &req, true); err != nil {
		return problem(http.StatusBadRequest, typeBase+"#bad-request", "Bad Request", "%v", err)
	}
	if req.Code == "" {
		return invalidParams("code", "code is required")
	}
	if v.Status.Terminal() {
		return notFound(vr.RequestID)
	}
	if !v.Channel.UsesCode() {
		return problem(http.StatusConflict, typeVerify+"#conflict", "Invalid workflow step",
			"The current workflow step (%s) does not support a code.", v.Channel)
	}
	cr := verify.CheckRequest{Code: req.Code}
	if strings.HasPrefix(req.Code, "+") && v.Channel == verify.ChannelFlashCall {
		cr = verify.CheckRequest{CLI: req.Code}
	}
	res, err := h.v.Check(r.Context(), principal(r.Context()).Tenant(), v.ID, cr)
	switch verify.ErrorCode(err) {
	case "":
	case verify.CodeInvalidCode:
		return problem(http.StatusBadRequest, typeVerify+"#invalid-code", "Invalid Code", "The code you provided does not match the expected value.")
	case verify.CodeNotPending, verify.CodeNotFound:
		return notFound(vr.RequestID)
	default:
		return err
	}
	switch {
	case res.Valid:
		writeJSON(w, http.StatusOK, map[string]string{"request_id": vr.RequestID, "status": "completed"})
		return nil
	case res.Verification.Status.Terminal():
		return problem(http.StatusGone, typeVerify+"#expired", "Invalid Code",
			"An incorrect code has been provided too many times. Workflow terminated.")
	}
	return problem(http.StatusBadRequest, typeVerify+"#invalid-code", "Invalid Code", "The code you provided does not match the expected value.")
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request, _ []byte) error {
	vr, v, err := h.request(r)
	if err != nil {
		return err
	}
	if v.Status.Terminal() {
		return notFound(vr.RequestID)
	}
	if _, err := h.v.Cancel(r.Context(), principal(r.Context()).Tenant(), v.ID); err != nil {
		if verify.ErrorCode(err) == verify.CodeNotPending {
			return notFound(vr.RequestID)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) next(w http.ResponseWriter, r *http.Request, _ []byte) error {
	vr, v, err := h.request(r)
	if err != nil {
		return err
	}
	if v.Status.Terminal() {
		return notFound(vr.RequestID)
	}
	_, err = h.v.Next(r.Context(), principal(r.Context()).Tenant(), v.ID)
	switch verify.ErrorCode(err) {
	case "":
		writeJSON(w, http.StatusOK, map[string]any{})
		return nil
	case verify.CodeNoNextStep:
		return problem(http.StatusConflict, typeVerify+"#conflict", "Conflict", "There are no more workflows left for request '%s'.", vr.RequestID)
	case verify.CodeNotPending:
		return notFound(vr.RequestID)
	case verify.CodeRateLimited:
		return problem(http.StatusTooManyRequests, typeBase+"#throttled", "Rate Limit Hit", "%s", verifyMessage(err))
	}
	return err
}

func verifyMessage(err error) string {
	var e *verify.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
