package httpapi

import (
	"net/http"

	"github.com/ringgate/ringgate/internal/verify"
)

// appView is what an app's key may read of its app: never its secrets.
type appView struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	DefaultCallbackURL string          `json:"default_callback_url"`
	Settings           verify.Settings `json:"settings"`
	CreatedAt          verify.Stamp    `json:"created_at"`
}

func viewOfApp(app verify.App) appView {
	return appView{ID: app.ID, Name: app.Name, DefaultCallbackURL: app.DefaultCallbackURL, Settings: app.Settings, CreatedAt: verify.StampOf(app.CreatedAt)}
}

func (a *API) getApp(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	app, err := a.op.App(r.Context(), c.App.ID) // fresh: the caller's copy is from authentication
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOfApp(app))
}

func (a *API) patchApp(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	var body appPatch
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	// One transaction for both parts: a bad callback URL does not leave
	// the settings of the same request saved.
	var ap *verify.AppPatch
	var sp *verify.SettingsPatch
	if body.touchesApp() {
		ap = &body.AppPatch
	}
	if body.touchesSettings() || !body.touchesApp() {
		sp = &body.SettingsPatch
	}
	app, err := a.op.PatchApp(r.Context(), c.Tenant(), ap, sp)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOfApp(app))
}
