package web

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/live"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

//go:embed assets
var assets embed.FS

// Config wires the browser side.
type Config struct {
	Service *verify.Service
	// Operator serves the console's JSON API: apps, numbers, deliveries,
	// charts, unmatched callers.
	Operator *operator.Service
	// API serves every path this package does not: the REST API.
	API *httpapi.API
	// Broker wakes the console's live feed (GET /console/api/feed/stream).
	Broker *live.Broker
	// Dev serves the demo sign-up page at / and its backend at /demo/*,
	// acting as the app whose key is DemoAPIKey.
	Dev        bool
	DemoAPIKey string
	// AdminToken guards /console; empty turns the console off.
	AdminToken string
	// Prices of one attempt by channel and country, and their currency,
	// for the console's cost chart.
	Price    func(channel verify.Channel, country string) float64
	Currency string
	Logger   *slog.Logger
}

// Handler serves the widget, the demo page and the console, and hands
// everything else to the API.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger
}

// New builds the handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.Mount(h.mux)
	h.mux.Handle("/", cfg.API)
	return h
}

// Mount registers the browser side's routes on mux, for a server that
// mounts the API and the rest beside them; ServeHTTP serves them with
// the API behind.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /widget.js", h.asset("assets/widget.js", "text/javascript; charset=utf-8", "public, max-age=300"))
	mux.HandleFunc("GET /widget/qr.svg", h.qr)
	mux.HandleFunc("GET /widget/strings/{file}", h.widgetStrings)
	mux.HandleFunc("GET /web/page.css", h.asset("assets/page.css", "text/css; charset=utf-8", "no-cache"))
	if h.cfg.Dev {
		mux.HandleFunc("GET /{$}", h.asset("assets/demo.html", "text/html; charset=utf-8", "no-cache"))
		mux.HandleFunc("GET /demo/demo.js", h.asset("assets/demo.js", "text/javascript; charset=utf-8", "no-cache"))
		mux.HandleFunc("POST /demo/start", h.demoStart)
		mux.HandleFunc("POST /demo/signup", h.demoSignup)
	}
	mux.HandleFunc("GET /console", h.consolePage)
	mux.HandleFunc("GET /console/console.js", h.consoleAsset("assets/console.js", "text/javascript; charset=utf-8"))
	h.routeConsoleAPI(mux)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) asset(name, ctype, cache string) http.HandlerFunc {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("web: missing embedded asset " + name) // a build error, caught by every test
	}
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Type", ctype)
		hd.Set("Cache-Control", cache)
		hd.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(ctype, "text/javascript") {
			// The widget is loaded by other sites' pages.
			hd.Set("Access-Control-Allow-Origin", "*")
		} else {
			hd.Set("Content-Security-Policy", pageCSP)
			hd.Set("Referrer-Policy", "no-referrer")
		}
		_, _ = w.Write(b)
	}
}

// pageCSP is the policy of ringgate's own pages: scripts and styles from
// this origin only (the widget's styles are constructed stylesheets, which
// need no 'unsafe-inline').
const pageCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// consoleAsset serves a console file only when the console is on.
func (h *Handler) consoleAsset(name, ctype string) http.HandlerFunc {
	serve := h.asset(name, ctype, "no-cache")
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.AdminToken == "" {
			h.consoleOff(w, r)
			return
		}
		serve(w, r)
	}
}

func (h *Handler) consolePage(w http.ResponseWriter, r *http.Request) {
	if h.cfg.AdminToken == "" {
		h.consoleOff(w, r)
		return
	}
	h.asset("assets/console.html", "text/html; charset=utf-8", "no-cache")(w, r)
}

const consoleOffMsg = "the operator console is off: set console.admin_token in the config (or RINGGATE_ADMIN_TOKEN), at least 16 characters, to turn it on"

func (h *Handler) consoleOff(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteProblem(w, r, httpapi.CodeNoRoute, "", consoleOffMsg)
}

// admin checks the console's bearer token in constant time and answers 401
// (or 404 with the console off) when it is wrong.
func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.AdminToken == "" {
			h.consoleOff(w, r)
			return
		}
		got := ""
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			got = strings.TrimSpace(tok)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.AdminToken)) != 1 {
			httpapi.WriteProblem(w, r, string(verify.CodeUnauthorized), "", "send the console's admin token as `Authorization: Bearer <token>`")
			return
		}
		// What the console changes is audited as the console's doing.
		next(w, r.WithContext(verify.WithActor(r.Context(), verify.ConsoleActor)))
	}
}

// widgetStrings holds the widget's strings by language, other than the
// English built into widget.js, each as the JSON object the widget loads.
var widgetStrings = func() map[string][]byte {
	b, err := assets.ReadFile("assets/widget-strings.json")
	if err != nil {
		panic("web: missing embedded asset widget-strings.json")
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		panic("web: widget-strings.json: " + err.Error()) // a build error, caught by every test
	}
	out := make(map[string][]byte, len(all))
	for k, v := range all {
		out[k] = v
	}
	return out
}()

// widgetStrings serves /widget/strings/{lang}.json: one language's
// strings for the widget, cacheable by any page that embeds it.
func (h *Handler) widgetStrings(w http.ResponseWriter, r *http.Request) {
	lang, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	b, known := widgetStrings[lang]
	if !ok || !known {
		httpapi.WriteProblem(w, r, string(verify.CodeNotFound), "", "the widget has no strings for that language")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(b)
}
