package web

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

// The console's JSON endpoints. They sit behind the admin token, span every
// app, and go through operator.Service like the REST API does.

func (h *Handler) routeConsoleAPI(mux *http.ServeMux) {
	for _, rt := range []struct {
		pattern string
		fn      http.HandlerFunc
	}{
		{"GET /console/api/overview", h.overview},
		{"GET /console/api/verifications", h.consoleList},
		{"GET /console/api/verifications/{id}", h.consoleDetail},
		{"POST /console/api/apps/{app}/deliveries/{id}/retry", h.consoleRetry},
		{"GET /console/api/apps/{app}/numbers", h.consoleNumbers},
		{"POST /console/api/apps/{app}/numbers", h.consoleAddNumber},
		{"DELETE /console/api/apps/{app}/numbers/{number}", h.consoleRemoveNumber},
		{"GET /console/api/stats", h.consoleStats},
		{"GET /console/api/unmatched-callers", h.consoleUnmatched},
		{"GET /console/api/feed/stream", h.consoleFeedStream},
		{"GET /console/api/export", h.consoleExport},
	} {
		mux.HandleFunc(rt.pattern, h.admin(rt.fn))
	}
}

type appView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	apps, err := h.cfg.Operator.Apps(r.Context())
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	out := struct {
		Apps     []appView          `json:"apps"`
		Currency string             `json:"currency"`
		Prices   map[string]float64 `json:"prices"`
	}{Apps: []appView{}, Currency: h.cfg.Currency, Prices: map[string]float64{}}
	for _, a := range apps {
		out.Apps = append(out.Apps, appView{ID: a.ID, Name: a.Name})
	}
	for _, ch := range channels {
		out.Prices[string(ch)] = h.price(ch, "")
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

var channels = []verify.Channel{verify.ChannelMissedCall, verify.ChannelFlashCall, verify.ChannelAnswerCall, verify.ChannelVoiceOTP, verify.ChannelSMSOTP}

func (h *Handler) price(ch verify.Channel, country string) float64 {
	if h.cfg.Price == nil {
		return 0
	}
	return h.cfg.Price(ch, country)
}

// consoleRow is a verification in the feed: the operator sees the whole
// number, as the app's own backend does.
type consoleRow struct {
	verify.View
	AppID string `json:"app_id"`
}

func (h *Handler) row(v verify.Verification) consoleRow {
	return consoleRow{View: h.cfg.Service.ViewOf(v, false), AppID: v.AppID}
}

// feedFilter reads the feed's filters (app, channel, status, country,
// phone), which the export shares.
func feedFilter(q url.Values) verify.ListFilter {
	return verify.ListFilter{
		Tenant: verify.Tenant{AppID: q.Get("app")}, Channel: verify.Channel(q.Get("channel")), Status: verify.Status(q.Get("status")),
		Country: strings.ToUpper(q.Get("country")), Phone: q.Get("phone"),
	}
}

func (h *Handler) consoleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > verify.MaxPage {
			httpapi.WriteProblem(w, r, string(verify.CodeInvalid), "limit", "limit must be a whole number from 1 to 100")
			return
		}
		limit = n
	}
	f := feedFilter(q)
	f.BeforeID, f.Limit = q.Get("cursor"), limit
	vs, next, err := h.cfg.Operator.ConsoleList(r.Context(), f)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	out := struct {
		Data       []consoleRow `json:"data"`
		NextCursor *string      `json:"next_cursor"`
	}{Data: []consoleRow{}}
	for _, v := range vs {
		out.Data = append(out.Data, h.row(v))
	}
	if next != "" {
		out.NextCursor = &next
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

type eventView struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	CreatedAt verify.Stamp    `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func (h *Handler) consoleDetail(w http.ResponseWriter, r *http.Request) {
	d, err := h.cfg.Operator.ConsoleDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	out := struct {
		Verification consoleRow             `json:"verification"`
		Events       []eventView            `json:"events"`
		Deliveries   []httpapi.DeliveryView `json:"deliveries"`
	}{Verification: h.row(d.Verification), Events: []eventView{}, Deliveries: []httpapi.DeliveryView{}}
	for _, e := range d.Events {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(e.Payload, &env)
		out.Events = append(out.Events, eventView{ID: e.ID, Type: e.Type, CreatedAt: verify.StampOf(e.CreatedAt), Data: env.Data})
	}
	for _, dl := range d.Deliveries {
		out.Deliveries = append(out.Deliveries, httpapi.ViewDelivery(dl))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) consoleRetry(w http.ResponseWriter, r *http.Request) {
	d, err := h.cfg.Operator.ConsoleRetryDelivery(r.Context(), r.PathValue("app"), r.PathValue("id"))
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, httpapi.ViewDelivery(d))
}

type numberView struct {
	Number    string       `json:"number"`
	Country   string       `json:"country"`
	CreatedAt verify.Stamp `json:"created_at"`
}

func (h *Handler) consoleNumbers(w http.ResponseWriter, r *http.Request) {
	ns, err := h.cfg.Operator.Numbers(r.Context(), r.PathValue("app"))
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	out := []numberView{}
	for _, n := range ns {
		out = append(out, numberView{Number: n.Number, Country: n.Country, CreatedAt: verify.StampOf(n.CreatedAt)})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"data": out})
}

type addNumberBody struct {
	Number  string `json:"number"`
	Country string `json:"country"`
}

func (h *Handler) consoleAddNumber(w http.ResponseWriter, r *http.Request) {
	var body addNumberBody
	if !h.cfg.API.DecodeJSON(w, r, &body) {
		return
	}
	country := strings.ToUpper(strings.TrimSpace(body.Country))
	if country == "" {
		country = verify.AnyCountry
	}
	n, err := h.cfg.Operator.AddNumber(r.Context(), r.PathValue("app"), body.Number, country)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, numberView{Number: n.Number, Country: n.Country, CreatedAt: verify.StampOf(n.CreatedAt)})
}

func (h *Handler) consoleRemoveNumber(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Operator.RemoveNumber(r.Context(), r.PathValue("app"), r.PathValue("number")); err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// consoleStats answers the charts: ?window=24h&bucket=1h (Go durations).
func (h *Handler) consoleStats(w http.ResponseWriter, r *http.Request) {
	dur := func(name string, def time.Duration) (time.Duration, bool) {
		s := r.URL.Query().Get(name)
		if s == "" {
			return def, true
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 366*24*time.Hour {
			httpapi.WriteProblem(w, r, string(verify.CodeInvalid), name, name+" must be a positive duration such as 24h or 15m, up to a year")
			return 0, false
		}
		return d, true
	}
	window, ok := dur("window", 24*time.Hour)
	if !ok {
		return
	}
	bucket, ok := dur("bucket", 0) // absent: picked from the data
	if !ok {
		return
	}
	now := h.cfg.Service.Now()
	st, err := h.cfg.Operator.Stats(r.Context(), operator.StatsQuery{
		Since: now.Add(-window), Until: now.Add(time.Millisecond), Bucket: bucket, Price: h.price,
		Sandbox: r.URL.Query().Get("sandbox") == "1",
	})
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	if st.Channels == nil {
		st.Channels = []operator.ChannelStats{}
	}
	out := struct {
		operator.Stats
		Currency string `json:"currency"`
		// SMSPrice is one SMS OTP attempt's price: the line the cost chart
		// compares every channel with, even when no SMS was sent.
		SMSPrice float64 `json:"sms_price"`
	}{Stats: st, Currency: h.cfg.Currency, SMSPrice: h.price(verify.ChannelSMSOTP, "")}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// consoleUnmatched lists the callers whose missed calls matched no
// verification in the window (default 24 h), most calls first: one caller
// ID dialling pool numbers it was never shown is a spoofing run, or a
// misconfigured pool.
func (h *Handler) consoleUnmatched(w http.ResponseWriter, r *http.Request) {
	window := 24 * time.Hour
	if v := r.URL.Query().Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 31*24*time.Hour {
			httpapi.WriteProblem(w, r, string(verify.CodeInvalid), "window", "window must be a positive duration up to 744h, such as 24h")
			return
		}
		window = d
	}
	stats, err := h.cfg.Operator.UnmatchedCallers(r.Context(), h.cfg.Service.Now().Add(-window), 50)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	type callerView struct {
		From  string       `json:"from"`
		Calls int64        `json:"calls"`
		Last  verify.Stamp `json:"last_call_at"`
	}
	out := []callerView{}
	for _, c := range stats {
		out = append(out, callerView{From: c.From, Calls: c.Calls, Last: verify.StampOf(c.Last)})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"window": window.String(), "data": out})
}

// consoleFeedStream tells the console that verifications changed, as
// Server-Sent Events (`event: changed`, data the verification id), so the
// feed and charts refresh when something happens instead of polling. The
// console reads it with fetch (EventSource cannot send the admin token in
// a header). It holds no state of its own: a wake-up from the broker, for
// any app, is all it forwards; a heartbeat comment keeps proxies open.
func (h *Handler) consoleFeedStream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok || h.cfg.Broker == nil {
		httpapi.WriteProblem(w, r, string(verify.CodeInternal), "", "the live feed is not available on this server")
		return
	}
	sub := h.cfg.Broker.Subscribe("") // every verification
	defer h.cfg.Broker.Unsubscribe(sub)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-sub.C:
			if _, err := fmt.Fprint(w, "event: changed\ndata: {}\n\n"); err != nil {
				return
			}
		}
		flusher.Flush()
	}
}

// MaxExport bounds the rows of one export.
const MaxExport = 100_000

// exportColumns are the CSV header and, in order, each row's fields.
var exportColumns = []string{"id", "app_id", "app_name", "sandbox", "status", "reason", "channel", "verified_channel",
	"country", "phone", "attempts", "created_at", "completed_at", "seconds_to_verify"}

// consoleExport writes the verifications the feed's filters select, newest
// first, as CSV (?format=csv, the default) or JSON lines (?format=jsonl),
// for analysis elsewhere; at most MaxExport rows.
func (h *Handler) consoleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "jsonl" {
		httpapi.WriteProblem(w, r, string(verify.CodeInvalid), "format", "format must be csv or jsonl")
		return
	}
	apps, err := h.cfg.Operator.Apps(r.Context())
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	names := map[string]string{}
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	f := feedFilter(q)
	f.Limit = verify.MaxPage
	// The first page is read before anything is written, so a bad filter
	// is a problem answer, not a broken file.
	vs, next, err := h.cfg.Operator.ConsoleList(r.Context(), f)
	if err != nil {
		h.cfg.API.WriteError(w, r, err)
		return
	}
	stamp := h.cfg.Service.Now().UTC().Format("20060102-150405")
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	var cw *csv.Writer
	var enc *json.Encoder
	if format == "csv" {
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", `attachment; filename="verifications-`+stamp+`.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write(exportColumns)
	} else {
		hd.Set("Content-Type", "application/jsonl; charset=utf-8")
		hd.Set("Content-Disposition", `attachment; filename="verifications-`+stamp+`.jsonl"`)
		enc = json.NewEncoder(w)
	}
	n := 0
	for {
		for _, v := range vs {
			rec := exportRecord(v, names[v.AppID])
			if cw != nil {
				_ = cw.Write(rec.fields())
			} else if err := enc.Encode(rec); err != nil {
				return
			}
			n++
		}
		if next == "" || n >= MaxExport {
			break
		}
		f.BeforeID = next
		if vs, next, err = h.cfg.Operator.ConsoleList(r.Context(), f); err != nil {
			h.log.Error("console export", "err", err)
			break // the file ends early; the operator sees fewer rows
		}
	}
	if cw != nil {
		cw.Flush()
	}
}

// exportRow is one verification in an export.
type exportRow struct {
	ID              string  `json:"id"`
	AppID           string  `json:"app_id"`
	AppName         string  `json:"app_name"`
	Sandbox         bool    `json:"sandbox"`
	Status          string  `json:"status"`
	Reason          string  `json:"reason,omitempty"`
	Channel         string  `json:"channel"`
	VerifiedChannel string  `json:"verified_channel,omitempty"`
	Country         string  `json:"country"`
	Phone           string  `json:"phone"`
	Attempts        int     `json:"attempts"`
	CreatedAt       string  `json:"created_at"`
	CompletedAt     string  `json:"completed_at,omitempty"`
	SecondsToVerify float64 `json:"seconds_to_verify,omitempty"`
}

func exportRecord(v verify.Verification, appName string) exportRow {
	e := exportRow{ID: v.ID, AppID: v.AppID, AppName: appName, Sandbox: v.Sandbox, Status: string(v.Status), Reason: string(v.Reason),
		Channel: string(v.Channel), VerifiedChannel: string(v.VerifiedChannel), Country: v.Country, Phone: v.Phone, Attempts: v.Attempts,
		CreatedAt: v.CreatedAt.UTC().Format(verify.StampLayout)}
	if !v.CompletedAt.IsZero() {
		e.CompletedAt = v.CompletedAt.UTC().Format(verify.StampLayout)
		if v.Status == verify.StatusVerified {
			e.SecondsToVerify = v.CompletedAt.Sub(v.CreatedAt).Seconds()
		}
	}
	return e
}

func (e exportRow) fields() []string {
	secs := ""
	if e.SecondsToVerify > 0 {
		secs = strconv.FormatFloat(e.SecondsToVerify, 'f', 3, 64)
	}
	return []string{e.ID, e.AppID, csvSafe(e.AppName), strconv.FormatBool(e.Sandbox), e.Status, e.Reason, e.Channel, e.VerifiedChannel,
		e.Country, e.Phone, strconv.Itoa(e.Attempts), e.CreatedAt, e.CompletedAt, secs}
}

// csvSafe keeps a text field from being read as a formula by a
// spreadsheet (CSV injection): a leading = + - @ gets a quote mark.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
