package httpapi

import (
	"errors"
	"net/http"

	"github.com/ringgate/ringgate/internal/carrier/sim"
	"github.com/ringgate/ringgate/internal/verify"
)

type simCallBody struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (a *API) simCall(w http.ResponseWriter, r *http.Request) {
	var body simCallBody
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	res, err := a.sim.Call(r.Context(), body.From, body.To)
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
