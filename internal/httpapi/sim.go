package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/ringgate/ringgate/internal/carrier/sim"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// simView is whose simulated traffic the request sees and acts on: the
// key's app and its sandbox (test key) or live traffic (live key), or,
// without a key on dev mode's open simulator, everyone's.
func simView(r *http.Request) sim.View {
	c, ok := callerOf(r)
	if !ok {
		return sim.Everyone // only reached when the simulator is open (wrap)
	}
	t := c.Tenant()
	return sim.View{AppID: t.AppID, Sandbox: t.Sandbox}
}

// simCtx is the request's context scoped to its simView.
func simCtx(r *http.Request) context.Context { return sim.WithView(r.Context(), simView(r)) }

type simCallBody struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (a *API) simCall(w http.ResponseWriter, r *http.Request) {
	if !a.simOn {
		// A simulated inbound call could verify any app's live missed call;
		// the sandbox's test keys only observe and answer outbound calls.
		writeProblem(w, r, codeSimulatorOff, "", "simulated inbound calls need the simulator on (ringgate dev, or simulator.enabled)")
		return
	}
	var body simCallBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	res, err := a.sim.Call(simCtx(r), body.From, body.To)
	var bad *sim.InvalidNumberError
	if errors.As(err, &bad) {
		writeProblem(w, r, string(verify.CodeInvalidPhone), bad.Field, bad.Error())
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// simNumber reads the {number} of a /sim/phones route as E.164.
func (a *API) simNumber(w http.ResponseWriter, r *http.Request) (string, bool) {
	n, err := phone.ParseE164(r.PathValue("number"))
	if err != nil {
		writeProblem(w, r, string(verify.CodeInvalidPhone), "number", "number: "+err.Error())
		return "", false
	}
	return n.E164, true
}

func (a *API) simPhone(w http.ResponseWriter, r *http.Request) {
	if n, ok := a.simNumber(w, r); ok {
		writeJSON(w, http.StatusOK, a.sim.PhoneIn(simView(r), n))
	}
}

type simAnswerBody struct {
	As string `json:"as"`
}

type simDTMFBody struct {
	Digits string `json:"digits"`
}

func (a *API) simAnswer(w http.ResponseWriter, r *http.Request) {
	n, ok := a.simNumber(w, r)
	if !ok {
		return
	}
	var body simAnswerBody
	// The body is optional: no body (or an empty one) answers as a person.
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil && !emptyBody(err) {
			a.writeDecodeError(w, r, err)
			return
		}
	}
	if body.As == "" {
		body.As = "human"
	}
	a.simAct(w, r, n, a.sim.Answer(simCtx(r), n, body.As))
}

func (a *API) simDTMF(w http.ResponseWriter, r *http.Request) {
	n, ok := a.simNumber(w, r)
	if !ok {
		return
	}
	var body simDTMFBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	a.simAct(w, r, n, a.sim.DTMF(simCtx(r), n, body.Digits))
}

func (a *API) simHangup(w http.ResponseWriter, r *http.Request) {
	if n, ok := a.simNumber(w, r); ok {
		a.simAct(w, r, n, a.sim.Hangup(simCtx(r), n))
	}
}

// simAct answers a phone-side action: the phone as it is after it, or the
// problem that kept it from happening.
func (a *API) simAct(w http.ResponseWriter, r *http.Request, number string, err error) {
	switch {
	case errors.Is(err, sim.ErrNoCall):
		writeProblem(w, r, codeSimNoCall, "", err.Error())
	case errors.Is(err, sim.ErrCallState):
		writeProblem(w, r, codeSimCallState, "", err.Error())
	case errors.Is(err, sim.ErrInvalidArgument):
		writeProblem(w, r, string(verify.CodeInvalid), "", err.Error())
	case err != nil:
		a.writeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, a.sim.PhoneIn(simView(r), number))
	}
}
