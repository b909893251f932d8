// Package httpapi is ringgate's REST API v1: JSON over HTTP with bearer API
// keys, RFC 9457 problem details for every error, Server-Sent Events for
// live status, and the OpenAPI 3.1 document that describes it all. Routes
// are one table (routes below) that both the mux and the OpenAPI test read,
// so the document cannot silently drift from the server.
package httpapi

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier/sim"
	"github.com/ringgate/ringgate/internal/live"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
)

//go:embed openapi.json
var openAPI []byte

// Config wires an API.
type Config struct {
	Service *verify.Service
	// Operator serves the app's own administration: settings, keys,
	// audit, deliveries, fraud lists, erasure.
	Operator *operator.Service
	Broker   *live.Broker
	// Simulator, when set, serves /sim/*: dev mode and sandbox testing.
	Simulator *sim.Carrier
	// SimulatorEnabled opens /sim/* to every key; off, only test keys (the
	// sandbox, whose calls and texts the simulator carries) may use it.
	SimulatorEnabled bool
	// SimulatorOpen lets anyone call /sim/* (dev mode, on loopback). Off,
	// the simulator wants an API key: with it on in a shared environment,
	// an anonymous request could otherwise verify any number.
	SimulatorOpen bool
	// DevInbox, when set, serves /dev/webhooks: a webhook receiver that dev
	// mode points the demo app's callback at.
	DevInbox *DevInbox
	Metrics  http.Handler // served at /metrics; nil hides it
	// CompatAdmin serves /v1/app/compat-credentials and its subpaths (the
	// compat APIs' credentials, internal/server) once this table has
	// checked the key and its admin scope; nil answers no_such_route.
	CompatAdmin http.Handler
	Registry    prometheus.Registerer
	Logger      *slog.Logger
	// Heartbeat is how often an idle SSE stream sends a comment (and
	// rechecks the store in case a notice was missed).
	Heartbeat time.Duration
	// Streams bound the live streams; zero fields take defaults.
	Streams StreamLimits
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// finding a client's address for the per-IP limit.
	TrustedProxies []netip.Prefix
}

// API is the HTTP handler.
type API struct {
	svc       *verify.Service
	op        *operator.Service
	broker    *live.Broker
	sim       *sim.Carrier
	simOn     bool
	simOpen   bool
	inbox     *DevInbox
	metrics   http.Handler
	compat    http.Handler
	log       *slog.Logger
	heartbeat time.Duration
	mux       *http.ServeMux
	obs       *httpMetrics
	trusted   []netip.Prefix
	streams   StreamLimits
	slots     *streamSlots
	keys      *keyWatch
	detached  *detachedStreams
}

// access says who may call a route.
type access int

const (
	public    access = iota // anyone
	apiKey                  // Authorization: Bearer <api key>
	keyOrTok                // API key, or ?token=<client_token> for one verification
	simulator               // only when the simulator is on
	devOnly                 // only in dev mode
)

type route struct {
	method, path string
	access       access
	// scope is what an API key must allow to call the route ("" for routes
	// without a key); keyOrTok routes read with a client token need none.
	scope  verify.Scope
	handle func(a *API, w http.ResponseWriter, r *http.Request)
}

// Scopes of the routes table, short to keep it readable.
const (
	sNone   verify.Scope = ""
	sVerify              = verify.ScopeVerify
	sAdmin               = verify.ScopeAdmin
)

// routes is every endpoint. openapi_test.go checks openapi.json against it.
var routes = []route{
	{"GET", "/healthz", public, sNone, (*API).healthz},
	{"GET", "/readyz", public, sNone, (*API).readyz},
	{"GET", "/openapi.json", public, sNone, (*API).openapi},
	{"GET", "/metrics", public, sNone, (*API).serveMetrics},
	{"POST", "/v1/verifications", apiKey, sVerify, (*API).startVerification},
	{"GET", "/v1/verifications", apiKey, sVerify, (*API).listVerifications},
	{"GET", "/v1/verifications/{id}", apiKey, sVerify, (*API).getVerification},
	{"POST", "/v1/verifications/{id}/cancel", apiKey, sVerify, (*API).cancelVerification},
	{"POST", "/v1/verifications/{id}/check", keyOrTok, sVerify, (*API).checkVerification},
	{"POST", "/v1/verifications/{id}/next", keyOrTok, sVerify, (*API).nextStep},
	{"GET", "/v1/verifications/{id}/events", keyOrTok, sVerify, (*API).streamEvents},
	{"GET", "/v1/verifications/{id}/ws", keyOrTok, sVerify, (*API).streamWS},
	{"GET", "/v1/verifications/{id}/status", keyOrTok, sVerify, (*API).pollStatus},
	{"GET", "/v1/app", apiKey, sAdmin, (*API).getApp},
	{"PATCH", "/v1/app", apiKey, sAdmin, (*API).patchApp},
	{"POST", "/v1/app/webhook-secret", apiKey, sAdmin, (*API).rotateWebhookSecret},
	{"GET", "/v1/app/compat-credentials", apiKey, sAdmin, (*API).compatCredentials},
	{"POST", "/v1/app/compat-credentials", apiKey, sAdmin, (*API).compatCredentials},
	{"PUT", "/v1/app/compat-credentials/vonage-public-key", apiKey, sAdmin, (*API).compatCredentials},
	{"PUT", "/v1/app/compat-credentials/vonage-status-url", apiKey, sAdmin, (*API).compatCredentials},
	{"DELETE", "/v1/phones/{phone}", apiKey, sAdmin, (*API).erasePhone},
	{"GET", "/v1/webhooks/deliveries", apiKey, sAdmin, (*API).listDeliveries},
	{"POST", "/v1/webhooks/deliveries/{id}/retry", apiKey, sAdmin, (*API).retryDelivery},
	{"GET", "/v1/keys", apiKey, sAdmin, (*API).listKeys},
	{"POST", "/v1/keys", apiKey, sAdmin, (*API).createKey},
	{"DELETE", "/v1/keys/{id}", apiKey, sAdmin, (*API).revokeKey},
	{"GET", "/v1/audit", apiKey, sAdmin, (*API).listAudit},
	{"GET", "/v1/fraud/blocked-prefixes", apiKey, sAdmin, (*API).listBlockedPrefixes},
	{"POST", "/v1/fraud/blocked-prefixes/{prefix}/unblock", apiKey, sAdmin, (*API).unblockPrefix},
	{"POST", "/sim/calls", simulator, sVerify, (*API).simCall},
	{"GET", "/sim/phones/{number}", simulator, sVerify, (*API).simPhone},
	{"POST", "/sim/phones/{number}/answer", simulator, sVerify, (*API).simAnswer},
	{"POST", "/sim/phones/{number}/dtmf", simulator, sVerify, (*API).simDTMF},
	{"POST", "/sim/phones/{number}/hangup", simulator, sVerify, (*API).simHangup},
	{"POST", "/dev/webhooks", devOnly, sNone, (*API).devInboxReceive},
	{"GET", "/dev/webhooks", devOnly, sNone, (*API).devInboxList},
}

// New builds the API handler.
func New(cfg Config) *API {
	a := &API{
		svc: cfg.Service, op: cfg.Operator, broker: cfg.Broker, sim: cfg.Simulator, simOn: cfg.SimulatorEnabled, simOpen: cfg.SimulatorOpen, inbox: cfg.DevInbox,
		metrics: cfg.Metrics, compat: cfg.CompatAdmin, log: cfg.Logger, heartbeat: cfg.Heartbeat, mux: http.NewServeMux(),
		trusted: cfg.TrustedProxies,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.heartbeat <= 0 {
		a.heartbeat = 15 * time.Second
	}
	a.streams = cfg.Streams.withDefaults()
	a.slots = newStreamSlots(a.streams)
	a.detached = newDetachedStreams()
	a.keys = &keyWatch{svc: a.svc, log: a.log, interval: a.streams.KeyRecheck, keys: map[string]*watched{}}
	a.obs = newHTTPMetrics(cfg.Registry)
	for _, rt := range routes {
		a.mux.Handle(rt.method+" "+rt.path, a.wrap(rt))
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, codeRoute, "", "no route "+r.Method+" "+r.URL.Path+"; see /openapi.json")
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic serving request", slog.String("path", r.URL.Path), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if !sw.wrote {
				writeProblem(sw, r, string(verify.CodeInternal), "", "the server could not complete the request; it has been logged")
			}
		}
		a.obs.observe(r, sw.status, time.Since(start))
	}()
	// The mux answers a wrong method with a bare 405; give it a problem body.
	if _, pattern := a.mux.Handler(r); pattern == "/" {
		if allowed := a.allowedMethods(r); allowed != "" {
			sw.Header().Set("Allow", allowed)
			writeProblem(sw, r, codeMethod, "", r.Method+" is not allowed on "+r.URL.Path+"; use "+allowed)
			return
		}
	}
	a.mux.ServeHTTP(sw, r)
}

func (a *API) allowedMethods(r *http.Request) string {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := a.mux.Handler(probe); p != "" && p != "/" {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

type ctxKey int

const callerKey ctxKey = 0

// CallerOf is the caller an API-key route authenticated, for the handler
// mounted as Config.CompatAdmin.
func CallerOf(r *http.Request) (verify.Caller, bool) { return callerOf(r) }

func callerOf(r *http.Request) (verify.Caller, bool) {
	c, ok := r.Context().Value(callerKey).(verify.Caller)
	return c, ok
}

func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ok bool
		switch rt.access {
		case simulator:
			if a.sim == nil {
				writeProblem(w, r, codeSimulatorOff, "", "the simulator is off on this server; it is on in `ringgate dev` and with simulator.enabled in the config")
				return
			}
			if a.simOpen && a.simOn && r.Header.Get("Authorization") == "" {
				break // dev mode on loopback: anyone, seeing everyone's phones
			}
			if !a.simOn && r.Header.Get("Authorization") == "" {
				writeProblem(w, r, codeSimulatorOff, "", "the simulator is off on this server; only test keys (rg_test_…) may use it, for the sandbox")
				return
			}
			if r, ok = a.authenticate(w, r); !ok {
				return
			}
			if c, _ := callerOf(r); !a.simOn && c.Key.Kind != verify.KeyTest {
				writeProblem(w, r, codeSimulatorOff, "", "the simulator is off on this server; only test keys (rg_test_…) may use it, for the sandbox")
				return
			}
		case devOnly:
			if a.inbox == nil {
				writeProblem(w, r, codeRoute, "", "dev endpoints exist only in `ringgate dev`")
				return
			}
		case apiKey, keyOrTok:
			if rt.access == keyOrTok && r.Header.Get("Authorization") == "" && r.URL.Query().Has("token") {
				break // the handler checks the client token
			}
			if r, ok = a.authenticate(w, r); !ok {
				return
			}
		}
		if c, ok := callerOf(r); ok && !c.Key.EffectiveScope().Allows(rt.scope) {
			closeUnread(w, r)
			writeProblem(w, r, string(verify.CodeForbidden), "", fmt.Sprintf("this API key's scope is %q; %s %s needs a key with scope %q", c.Key.EffectiveScope(), rt.method, rt.path, rt.scope))
			return
		}
		rt.handle(a, w, r)
	})
}

// authenticate resolves the bearer API key and puts the caller in the
// request's context, or answers 401 and reports false.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	key, ok := bearer(r)
	if !ok {
		closeUnread(w, r)
		writeProblem(w, r, string(verify.CodeUnauthorized), "", "send the API key as `Authorization: Bearer <key>`")
		return r, false
	}
	c, err := a.svc.Authenticate(r.Context(), key)
	if err != nil {
		closeUnread(w, r)
		a.writeError(w, r, err)
		return r, false
	}
	ctx := verify.WithActor(context.WithValue(r.Context(), callerKey, c), verify.KeyActor(c.Key))
	return r.WithContext(ctx), true
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return "", false
	}
	return strings.TrimSpace(key), true
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.svc.Ready(ctx); err != nil {
		a.log.Warn("not ready", slog.Any("err", err))
		writeProblem(w, r, codeUnavailable, "", "the database does not answer")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

func (a *API) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if a.metrics == nil {
		writeProblem(w, r, codeRoute, "", "metrics are not served here")
		return
	}
	a.metrics.ServeHTTP(w, r)
}

// statusWriter remembers the status for logs and metrics, and passes
// flushes through for SSE.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// compatCredentials hands the compat credentials' routes, key and scope
// checked, to the server's handler (which also wants a live key).
func (a *API) compatCredentials(w http.ResponseWriter, r *http.Request) {
	if a.compat == nil {
		writeProblem(w, r, codeRoute, "", "this server has no compatible APIs (their store tables are missing)")
		return
	}
	a.compat.ServeHTTP(w, r)
}
