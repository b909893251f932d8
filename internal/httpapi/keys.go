package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// keyView is what the API shows of a key: never its secret or hash.
type keyView struct {
	ID         string        `json:"id"`
	Prefix     string        `json:"prefix"`
	Kind       string        `json:"kind"`
	Scope      string        `json:"scope"`
	CreatedAt  verify.Stamp  `json:"created_at"`
	ExpiresAt  *verify.Stamp `json:"expires_at"`
	LastUsedAt *verify.Stamp `json:"last_used_at"`
	RevokedAt  *verify.Stamp `json:"revoked_at"`
	// Current marks the key this request was made with.
	Current bool `json:"current"`
}

func optUTC(t time.Time) *verify.Stamp { return verify.StampPtr(t) }

func viewKey(k verify.APIKey, current string) keyView {
	return keyView{
		ID: k.ID, Prefix: k.Prefix, Kind: string(k.Kind), Scope: string(k.EffectiveScope()), CreatedAt: verify.StampOf(k.CreatedAt),
		ExpiresAt: optUTC(k.ExpiresAt), LastUsedAt: optUTC(k.LastUsedAt), RevokedAt: optUTC(k.RevokedAt), Current: k.ID == current,
	}
}

// newKeyView is a key as created: the only answer that carries its secret.
type newKeyView struct {
	keyView
	Key string `json:"key"`
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	ks, err := a.op.Keys(r.Context(), c.Tenant())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := page[keyView]{Data: make([]keyView, 0, len(ks))}
	for _, k := range ks {
		out.Data = append(out.Data, viewKey(k, c.Key.ID))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	var body verify.NewKeyRequest
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	k, secret, err := a.op.CreateKey(r.Context(), c.Tenant(), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the secret must not sit in a cache
	writeJSON(w, http.StatusCreated, newKeyView{keyView: viewKey(k, c.Key.ID), Key: secret})
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	k, err := a.op.RevokeKey(r.Context(), c.Tenant(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.keys.end(k.ID) // its open streams end now; other nodes' within KeyRecheck
	writeJSON(w, http.StatusOK, viewKey(k, c.Key.ID))
}

// auditView is the public form of an audit entry.
type auditView struct {
	ID     string          `json:"id"`
	At     verify.Stamp    `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail"`
}

func viewAudit(e verify.AuditEntry) auditView {
	d := e.Detail
	if len(d) == 0 {
		d = json.RawMessage(`{}`)
	}
	return auditView{ID: e.ID, At: verify.StampOf(e.At), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: d}
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	servePage(a, w, r, func(c verify.Caller, q url.Values, limit int) ([]verify.AuditEntry, string, error) {
		return a.op.Audit(r.Context(), verify.AuditFilter{
			Tenant: c.Tenant(), Action: q.Get("action"), BeforeID: q.Get("cursor"), Limit: limit,
		})
	}, viewAudit)
}
