package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/compat/otpapi"
	cotwilio "github.com/ringgate/ringgate/internal/compat/twilio"
	covonage "github.com/ringgate/ringgate/internal/compat/vonage"
	"github.com/ringgate/ringgate/internal/compat/wire"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// compatAPIs are the provider-compatible APIs (internal/compat), mounted
// beside the native API on the same listener.
type compatAPIs struct {
	twilio    *cotwilio.Handler
	vonage    *covonage.Handler
	otp       *otpapi.Handler
	callbacks *compat.Dispatcher // the missed-call API's and Vonage's status callbacks
	checkURL  func(string) error // the webhook URL policy, for status URLs
}

// newCompat builds the compatible APIs when the store keeps their records
// (every sqldb store does).
func newCompat(st Store, svc *verify.Service, apps compat.Apps, policy webhook.Policy, cfg config.Config, log *slog.Logger) (*compat.Keeper, *compatAPIs) {
	cs, ok := st.(compat.Store)
	if !ok {
		return nil, nil
	}
	k := &compat.Keeper{Store: cs, Apps: apps, Now: svc.Now}
	return k, &compatAPIs{
		twilio:   cotwilio.New(cotwilio.Config{Verifier: svc, Keeper: *k, Store: cs, Logger: log}),
		checkURL: policy.CheckURLResolving(nil),
		vonage:   covonage.New(covonage.Config{Verifier: svc, Keeper: *k, Store: cs, Logger: log}),
		otp:      otpapi.New(otpapi.Config{Verifier: svc, Store: cs, CheckURL: policy.CheckURLResolving(nil), Logger: log}),
		callbacks: compat.NewDispatcher(compat.Dispatcher{
			Get: svc.Get, Now: svc.Now, Store: cs, Client: policy.Client(cfg.Webhooks.Timeout), Logger: log,
			Poll: cfg.Expiry.Interval, RetryBase: cfg.Webhooks.RetryBase,
			Renderers: map[string]compat.Renderer{
				compat.KindOTPAPI: otpapi.Render,
				compat.KindVonage: covonage.Renderer(cs, svc.Now),
			},
		}),
	}
}

// mountCompat mounts the compatible APIs on the server's mux at the
// providers' own paths (/v2/Services…, /v2/verify…, /OTPApi/…), which the
// native API (/v1/…) never uses. The compat credentials' admin API sits in
// the native API's routes table (httpapi.Config.CompatAdmin): documented in
// openapi.json, counted in its HTTP metrics, key and scope checked there.
func (s *Server) mountCompat(mux *http.ServeMux) {
	c := s.compat
	if c == nil {
		return
	}
	for path, h := range map[string]http.Handler{
		"/v2/Services": c.twilio, "/v2/Services/": c.twilio,
		"/v2/verify": c.vonage, "/v2/verify/": c.vonage,
		"/OTPApi": c.otp, "/OTPApi/": c.otp,
	} {
		mux.Handle(path, h)
	}
}

// runCompat runs the compatible APIs' loops (the missed-call API's
// callbacks) until ctx ends.
func (s *Server) runCompat(ctx context.Context) {
	if s.compat != nil {
		s.compat.callbacks.Run(ctx)
	}
}

// kickCompat wakes them after a change.
func (s *Server) kickCompat() {
	if s.compat != nil {
		s.compat.callbacks.Kick()
	}
}

// The compat credentials' admin API, beside the native API's /v1/app:
// GET shows the public halves, POST rotates them all (the new secrets are
// shown once), PUT …/vonage-public-key installs the key Vonage application
// JWTs are checked with. An admin-scoped live key is needed (test keys
// never change what live traffic uses).
const compatCredentialsPath = "/v1/app/compat-credentials"

func (s *Server) compatAdmin(w http.ResponseWriter, r *http.Request) {
	problem := func(code, detail string) { httpapi.WriteProblem(w, r, code, "", detail) }
	if s.compat == nil || s.keeper == nil {
		problem("no_such_route", "this server has no compatible APIs (their store tables are missing)")
		return
	}
	// httpapi's route table has checked the key and its admin scope.
	c, ok := httpapi.CallerOf(r)
	if !ok || c.Key.Kind != verify.KeyLive {
		problem(string(verify.CodeForbidden), "compat credentials need a live key with the admin scope")
		return
	}
	ctx := r.Context()
	switch {
	case r.URL.Path == compatCredentialsPath && r.Method == http.MethodGet:
		rec, err := s.keeper.Store.CompatCredentials(ctx, c.App.ID)
		if errors.Is(err, verify.ErrNotFound) {
			problem(string(verify.CodeNotFound), "the app has no compat credentials yet: POST to create them")
			return
		}
		if err != nil {
			s.log.Error("compat credentials", "err", err)
			problem(string(verify.CodeInternal), "internal error")
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{
			"twilio_account_sid": rec.TwilioAccountSID, "twilio_api_key_sid": rec.TwilioKeySID,
			"vonage_api_key": rec.VonageAPIKey, "vonage_application_id": rec.VonageAppID,
			"vonage_public_key": rec.VonagePublicKey != "", "vonage_status_url": rec.VonageStatusURL, "updated_at": verify.StampOf(rec.UpdatedAt),
		})
	case r.URL.Path == compatCredentialsPath && r.Method == http.MethodPost:
		cr, err := s.keeper.Rotate(ctx, c.App.ID, compat.Pins{})
		if err != nil {
			s.log.Error("rotate compat credentials", "err", err)
			problem(string(verify.CodeInternal), "internal error")
			return
		}
		// the secrets, shown once (WriteJSON answers no-store)
		httpapi.WriteJSON(w, http.StatusCreated, cr)
	case r.URL.Path == compatCredentialsPath+"/vonage-status-url" && r.Method == http.MethodPut:
		var body struct {
			URL string `json:"url"`
		}
		b, err := wire.ReadBody(r)
		if err == nil {
			err = wire.DecodeJSON(r.Header.Get("Content-Type"), b, &body, false)
		}
		if err == nil && body.URL != "" {
			if cerr := s.compat.checkURL(body.URL); cerr != nil {
				err = fmt.Errorf("url %v", cerr)
			}
		}
		if errors.Is(err, wire.ErrTooLarge) {
			problem("body_too_large", err.Error())
			return
		}
		if err != nil {
			problem(string(verify.CodeInvalid), err.Error())
			return
		}
		if err := s.keeper.SetVonageStatusURL(ctx, c.App.ID, body.URL); err != nil {
			problem(string(verify.CodeNotFound), "the app has no compat credentials yet: POST "+compatCredentialsPath+" first")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == compatCredentialsPath+"/vonage-public-key" && r.Method == http.MethodPut:
		var body struct {
			PublicKey string `json:"public_key"`
		}
		b, err := wire.ReadBody(r)
		if err == nil {
			err = wire.DecodeJSON(r.Header.Get("Content-Type"), b, &body, false)
		}
		if errors.Is(err, wire.ErrTooLarge) {
			problem("body_too_large", err.Error())
			return
		}
		if err != nil {
			problem(string(verify.CodeInvalid), err.Error())
			return
		}
		if _, err := covonage.ParsePublicKey(body.PublicKey); err != nil {
			problem(string(verify.CodeInvalid), "public_key must be a PEM RSA public key of 2048 bits or more: "+err.Error())
			return
		}
		if err := s.keeper.SetVonagePublicKey(ctx, c.App.ID, body.PublicKey); err != nil {
			problem(string(verify.CodeNotFound), "the app has no compat credentials yet: POST "+compatCredentialsPath+" first")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		problem("method_not_allowed", "GET or POST "+compatCredentialsPath+", PUT "+compatCredentialsPath+"/vonage-public-key or /vonage-status-url")
	}
}

// CompatKeeper creates and rotates apps' compat credentials (the CLI's
// apps create and apps compat-credentials); nil when the store has no
// compat tables.
func (s *Server) CompatKeeper() *compat.Keeper { return s.keeper }
