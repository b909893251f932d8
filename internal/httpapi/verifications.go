package httpapi

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/ringgate/ringgate/internal/verify"
)

func (a *API) startVerification(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	var body verify.StartRequest
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	body.IdempotencyKey = r.Header.Get("Idempotency-Key")
	// Not body.RemoteIP: the caller has an API key, so this request's
	// address is the integrator's server, not the end user (client_ip).
	ctx, usage := verify.WithRateUsage(r.Context())
	v, created, err := a.svc.Start(ctx, c, body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeRateLimit(w, usage)
	status := http.StatusOK // an existing verification returned again
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/verifications/"+v.ID)
	}
	writeJSON(w, status, a.svc.ViewOf(v, true))
}

func (a *API) getVerification(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	v, err := a.svc.Get(r.Context(), c.Tenant(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.svc.ViewOf(v, true))
}

// page is a list response.
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func cursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

// cursorRE is the form of the ids next_cursor carries (verify.NewID).
var cursorRE = regexp.MustCompile(`^[a-z]{1,8}_[0-9a-f]{32}$`)

func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > verify.MaxPage {
		return 0, verify.FieldErrorf(verify.CodeInvalid, "limit", "limit must be a whole number from 1 to %d", verify.MaxPage)
	}
	return n, nil
}

// servePage answers a list route: it reads limit, asks list for a page,
// and renders each item with view.
func servePage[T, V any](a *API, w http.ResponseWriter, r *http.Request,
	list func(c verify.Caller, q url.Values, limit int) ([]T, string, error), view func(T) V) {
	c, _ := callerOf(r)
	limit, err := limitParam(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if cur := r.URL.Query().Get("cursor"); cur != "" && !cursorRE.MatchString(cur) {
		writeProblem(w, r, string(verify.CodeInvalid), "cursor", "cursor is not one this API returned: pass next_cursor from the previous page as it is")
		return
	}
	items, next, err := list(c, r.URL.Query(), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := page[V]{Data: make([]V, 0, len(items)), NextCursor: cursor(next)}
	for _, it := range items {
		out.Data = append(out.Data, view(it))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) listVerifications(w http.ResponseWriter, r *http.Request) {
	servePage(a, w, r, func(c verify.Caller, q url.Values, limit int) ([]verify.Verification, string, error) {
		return a.svc.List(r.Context(), verify.ListFilter{
			Tenant: c.Tenant(), Phone: q.Get("phone"), Status: verify.Status(q.Get("status")),
			BeforeID: q.Get("cursor"), Limit: limit,
		})
	}, func(v verify.Verification) verify.View { return a.svc.ViewOf(v, true) })
}

func (a *API) cancelVerification(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	v, err := a.svc.Cancel(r.Context(), c.Tenant(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.svc.ViewOf(v, true))
}

// DeliveryView is the one JSON form of a webhook delivery: the API's
// (GET /v1/webhooks/deliveries) and the console's.
type DeliveryView struct {
	ID             string        `json:"id"`
	VerificationID string        `json:"verification_id"`
	Type           string        `json:"type"`
	URL            string        `json:"url"`
	Status         string        `json:"status"`
	Attempts       int           `json:"attempts"`
	LastStatusCode *int          `json:"last_status_code"`
	LastError      *string       `json:"last_error"`
	NextAttemptAt  *verify.Stamp `json:"next_attempt_at"`
	CreatedAt      verify.Stamp  `json:"created_at"`
	DeliveredAt    *verify.Stamp `json:"delivered_at"`
}

func ViewDelivery(d verify.Delivery) DeliveryView {
	v := DeliveryView{
		ID: d.ID, VerificationID: d.VerificationID, Type: d.Type, URL: d.URL,
		Status: d.Status, Attempts: d.Attempts, CreatedAt: verify.StampOf(d.CreatedAt),
	}
	if d.LastStatusCode != 0 {
		v.LastStatusCode = &d.LastStatusCode
	}
	if d.LastError != "" {
		v.LastError = &d.LastError
	}
	if d.Status == verify.DeliveryPending {
		t := verify.StampOf(d.NextAttemptAt)
		v.NextAttemptAt = &t
	}
	v.DeliveredAt = verify.StampPtr(d.DeliveredAt)
	return v
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) {
	servePage(a, w, r, func(c verify.Caller, q url.Values, limit int) ([]verify.Delivery, string, error) {
		return a.op.Deliveries(r.Context(), verify.DeliveryFilter{
			Tenant: c.Tenant(), Status: q.Get("status"), VerificationID: q.Get("verification_id"),
			BeforeID: q.Get("cursor"), Limit: limit,
		})
	}, ViewDelivery)
}

func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	d, err := a.op.RetryDelivery(r.Context(), c.Tenant(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, ViewDelivery(d))
}

// checkResponse is a check's outcome with the verification after it.
type checkResponse struct {
	Valid             bool `json:"valid"`
	AttemptsRemaining int  `json:"attempts_remaining"`
	verify.View
}

func (a *API) checkVerification(w http.ResponseWriter, r *http.Request) {
	t, byToken, err := a.actor(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var body verify.CheckRequest
	if err := decodeJSON(w, r, &body); err != nil {
		a.writeDecodeError(w, r, err)
		return
	}
	res, err := a.svc.Check(r.Context(), t, r.PathValue("id"), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if byToken {
		writeJSON(w, http.StatusOK, publicCheckResponse{Valid: res.Valid, AttemptsRemaining: res.AttemptsRemaining, PublicView: a.svc.PublicViewOf(res.Verification)})
		return
	}
	writeJSON(w, http.StatusOK, checkResponse{Valid: res.Valid, AttemptsRemaining: res.AttemptsRemaining, View: a.svc.ViewOf(res.Verification, true)})
}

// publicCheckResponse is a check's outcome for a page holding the client
// token: the page-safe view, as GET …/status gives it.
type publicCheckResponse struct {
	Valid             bool `json:"valid"`
	AttemptsRemaining int  `json:"attempts_remaining"`
	verify.PublicView
}

// actor resolves who acts on a verification: the tenant of the API key, or,
// for a page holding the client token (the widget), the tenant of the one
// verification the token is bound to. A token for one verification cannot
// act on another: ClientView checks it against the id in the path.
func (a *API) actor(w http.ResponseWriter, r *http.Request) (t verify.Tenant, byToken bool, err error) {
	if c, ok := callerOf(r); ok {
		return c.Tenant(), false, nil
	}
	v, _, err := a.viewer(w, r)
	if err != nil {
		return verify.Tenant{}, true, err
	}
	return verify.TenantOf(v), true, nil
}

func (a *API) nextStep(w http.ResponseWriter, r *http.Request) {
	t, byToken, err := a.actor(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, usage := verify.WithRateUsage(r.Context())
	v, err := a.svc.Next(ctx, t, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeRateLimit(w, usage)
	if byToken {
		writeJSON(w, http.StatusOK, a.svc.PublicViewOf(v))
		return
	}
	writeJSON(w, http.StatusOK, a.svc.ViewOf(v, true))
}
