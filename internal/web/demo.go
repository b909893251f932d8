package web

import (
	"net/http"
	"strings"

	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/verify"
)

// The demo backend plays the business's server for the demo sign-up page:
// it holds the API key, starts the verification and hands the page only the
// verification id and client token, and at sign-up asks ringgate whether
// the number was verified. A real backend does the same over the REST API.

type demoStartBody struct {
	Phone   string `json:"phone"`
	Channel string `json:"channel"`
	// Restart ends this earlier verification ("send a new code", "try
	// again") once the new one has started: a start supersedes the phone's
	// pending verification by itself, and Restart also ends one that was
	// for another number.
	Restart string `json:"restart,omitempty"`
	Locale  string `json:"locale,omitempty"`
	// Country reads a national number ("07911 123456"): the form's
	// country selector.
	Country string `json:"country,omitempty"`
}

type demoStartAnswer struct {
	VerificationID string `json:"verification_id"`
	ClientToken    string `json:"client_token"`
	Phone          string `json:"phone"`
}

// demoWorkflows are the choices the demo form offers.
var demoWorkflows = map[string][]verify.StepRequest{
	"missed_call":         {{Channel: verify.ChannelMissedCall}},
	"sms_otp":             {{Channel: verify.ChannelSMSOTP}},
	"missed_call,sms_otp": {{Channel: verify.ChannelMissedCall, TimeoutS: 60}, {Channel: verify.ChannelSMSOTP}},
}

func (h *Handler) demoCaller(r *http.Request) (verify.Caller, error) {
	return h.cfg.Service.Authenticate(r.Context(), h.cfg.DemoAPIKey)
}

func (h *Handler) demoStart(w http.ResponseWriter, r *http.Request) {
	var body demoStartBody
	if !h.cfg.API.DecodeJSON(w, r, &body) {
		return
	}
	wf, ok := demoWorkflows[body.Channel]
	if !ok {
		httpapi.WriteProblem(w, r, string(verify.CodeUnsupportedChannel), "channel", "the demo offers missed_call, sms_otp, and missed_call,sms_otp")
		return
	}
	c, err := h.demoCaller(r)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	// The demo page is the user's browser: its address is the end user's.
	req := verify.StartRequest{Phone: body.Phone, Country: body.Country, Locale: body.Locale, Metadata: map[string]string{"source": "demo"}, RemoteIP: h.cfg.API.RemoteIP(r)}
	if len(wf) == 1 {
		req.Channel = wf[0].Channel
	} else {
		req.Workflow = wf
	}
	// A new start supersedes the phone's pending verification; one refused
	// (a resend too soon, 429) leaves the earlier one running.
	v, _, err := h.cfg.Service.Start(r.Context(), c, req)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	if body.Restart != "" && body.Restart != v.ID {
		// The earlier verification was for another number: end it too.
		if _, err := h.cfg.Service.Cancel(r.Context(), c.Tenant(), body.Restart); err != nil && verify.ErrorCode(err) != verify.CodeNotPending {
			h.cfg.API.WriteError(w, r, err)
			return
		}
	}
	view := h.cfg.Service.ViewOf(v, true)
	httpapi.WriteJSON(w, http.StatusOK, demoStartAnswer{VerificationID: v.ID, ClientToken: view.ClientToken, Phone: v.Phone})
}

type demoSignupBody struct {
	Name           string `json:"name"`
	Email          string `json:"email"`
	VerificationID string `json:"verification_id"`
}

// demoSignup is the business's own check before it creates the account:
// the page's word that the widget turned green is not enough.
func (h *Handler) demoSignup(w http.ResponseWriter, r *http.Request) {
	var body demoSignupBody
	if !h.cfg.API.DecodeJSON(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Name) == "" {
		httpapi.WriteProblem(w, r, string(verify.CodeInvalid), "name", "name is required")
		return
	}
	c, err := h.demoCaller(r)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	v, err := h.cfg.Service.Get(r.Context(), c.Tenant(), body.VerificationID)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	if v.Status != verify.StatusVerified {
		httpapi.WriteProblem(w, r, string(verify.CodeNotPending), "verification_id", "the phone number is not verified (status "+string(v.Status)+")")
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"name": strings.TrimSpace(body.Name), "phone": v.Phone, "verified_channel": string(v.VerifiedChannel)})
}
