// Package server assembles ringgate from its parts: it opens the store,
// builds the domain service, the webhook dispatcher, the live broker, the
// carriers and the HTTP API, runs the background loops (expiry sweep,
// webhook delivery), and shuts it all down in order. It is the only package
// that knows every other one; cmd/ringgate only parses flags and calls it,
// and end-to-end tests run it on port 0 with a temporary data dir.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/parts"
	"github.com/ringgate/ringgate/internal/carrier/sim"
	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/jobs"
	"github.com/ringgate/ringgate/internal/live"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/postgres"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/web"
	"github.com/ringgate/ringgate/internal/webhook"
)

// Store is what the server needs of a database: the domain's store and the
// webhook outbox, which every implementation provides together.
type Store interface {
	verify.Store
	webhook.Outbox
}

// Server is a running ringgate.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	prod   *prodMetrics
	store  Store
	svc    *verify.Service
	op     *operator.Service
	broker *live.Broker
	disp   *webhook.Dispatcher
	clu    *cluster // nil on a single-node store
	api    *httpapi.API
	web    *web.Handler
	keeper *compat.Keeper // compat credentials; nil if the store has no compat tables
	compat *compatAPIs
	reg    *prometheus.Registry
	events *prometheus.CounterVec
	calls  *prometheus.CounterVec
	// fraudBlocks counts fraud.prefix_blocked events.
	fraudBlocks prometheus.Counter

	jobs *jobs.Runner // outbound calls and texts
	// sim is the simulated network, always there: sandbox traffic and
	// the /sim/* routes reach it; carriers of type sim are its gateways.
	sim *sim.Carrier
	// carriers are the configured carriers, built through one factory
	// table (internal/carrier/parts), started and closed together.
	carriers *parts.Set
	http     *http.Server
	ln       net.Listener
	// metricsLn is metrics.listen's listener, when set.
	metricsLn net.Listener
	inbox     *httpapi.DevInbox
	dev       DevInfo
	stop      context.CancelFunc
	loops     sync.WaitGroup
	closeMux  sync.Once
}

// Options are settings a caller of New gives beyond the config.
type Options struct {
	Logger *slog.Logger // nil: from cfg.Log, to stderr
	Env    func(string) (string, bool)
	// Store, when set, is used instead of opening cfg.Database.URL (tests
	// wrap a store to count its reads). The server closes it.
	Store Store
}

// New opens the database and builds every part, but listens on nothing.
// What it opened before failing is closed, last first (undo).
func New(ctx context.Context, cfg config.Config, opt Options) (_ *Server, err error) {
	var undo cleanup
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	log := opt.Logger
	if log == nil {
		log = NewLogger(cfg.Log, os.Stderr)
	}
	secret, err := serverSecret(cfg)
	if err != nil {
		return nil, err
	}
	st := opt.Store
	if st == nil {
		if st, err = OpenStore(ctx, cfg.Database.URL); err != nil {
			return nil, err
		}
	}
	undo.push(st.Close)
	// Webhook secrets are sealed at rest under the server secret; clear
	// ones of an older database are sealed now.
	if sealer, ok := st.(interface {
		SealSecrets(context.Context, []byte) (int, error)
	}); ok {
		n, err := sealer.SealSecrets(ctx, secret)
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		if n > 0 {
			log.Info("sealed webhook secrets at rest", slog.Int("apps", n))
		}
	}
	s := &Server{cfg: cfg, log: log, store: st, broker: live.NewBroker(), reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringgate_events_total", Help: "Verification events by type (verification.verified, verification.expired, …).",
	}, []string{"type"})
	s.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringgate_inbound_calls_total", Help: "Inbound calls by outcome (verified, wrong_number, late, no_match, diverted, duplicate, rate_limited).",
	}, []string{"outcome"})
	s.reg.MustRegister(s.events, s.calls)
	s.prod = newProdMetrics(s.reg, st)

	nets, _ := cfg.AllowedNetworks() // validated above
	proxies, _ := cfg.Abuse.Proxies()
	policy := webhook.Policy{AllowLoopback: cfg.Mode == config.ModeDev, Allow: nets}
	// The simulated network always exists: sandbox keys send everything to
	// it, whatever the routes say. Its events reach the service through s,
	// which has the service by the time the first command runs.
	s.sim = sim.New(sim.Config{
		Inbound: carrierSide{s}, Events: carrierSide{s}, Check: s.simCheck, Logger: log,
	})
	undo.push(s.sim.Close)
	if s.carriers, err = parts.Build(cfg.Carriers, parts.Host{
		Logger: log, Inbound: carrierSide{s}, Events: carrierSide{s}, Secret: secret,
		PublicURL: cfg.PublicURL, Sim: s.sim, Metrics: s.reg,
	}); err != nil {
		return nil, err
	}
	undo.push(s.carriers.Close)
	router, err := newRouter(cfg, s.carriers.Senders(), s.sim, s.prod.countCarrierError)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	abuse, err := abusePolicy(cfg.Abuse)
	if err != nil {
		return nil, err
	}
	abuseObs := newAbuseMetrics(s.reg)
	s.fraudBlocks = abuseObs.blocks
	hookMetrics, err := webhook.NewPromMetrics(s.reg)
	if err != nil {
		return nil, err
	}
	s.disp = webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: st, Client: policy.Client(cfg.Webhooks.Timeout), Logger: log,
		Workers: cfg.Webhooks.Workers, RetryBase: cfg.Webhooks.RetryBase, RetryMax: cfg.Webhooks.RetryMax,
		MaxAge: cfg.Webhooks.MaxAge, Lease: cfg.DeliveryLease(),
		Metrics: hookMetrics,
	})
	s.svc, err = verify.NewService(verify.Config{
		Store: st, Publisher: s, Secret: secret, Logger: log,
		CheckCallbackURL: policy.CheckURLResolving(nil), CheckDialplan: s.carriers.CheckDialplan,
		RejectStatus: cfg.MissedCall.RejectStatus,
		OnCall:       func(outcome string) { s.calls.WithLabelValues(outcome).Inc() },
		Outbound:     router,
		Abuse:        abuse, OnAbuse: abuseObs.on,
		Risk: &riskClient{client: policy.Client(cfg.Abuse.RiskTimeout), timeout: cfg.Abuse.RiskTimeout, now: time.Now},
		// Webhooks go straight to this node's dispatcher after commit
		// (Notice.Handed), with no claim on the store.
		DeliveryLease: s.disp.HandOff(),
	})
	if err != nil {
		return nil, err
	}
	if s.op, err = operator.New(operator.Config{Store: st, Publisher: s, Verify: s.svc}); err != nil {
		return nil, err
	}
	s.jobs = jobs.New(jobs.Config{Service: s.svc, Slots: cfg.Jobs.Batch, Lease: cfg.Jobs.Lease, Poll: cfg.Jobs.Interval, Logger: log})
	if cfg.Mode == config.ModeDev {
		if s.dev, err = loadDevCredentials(cfg.DataDir, opt.Env); err != nil {
			return nil, err
		}
		s.inbox = httpapi.NewDevInbox(s.dev.WebhookSecret)
	}
	if cfg.Simulator.Enabled && cfg.Mode != config.ModeDev {
		log.Warn("the carrier simulator is on for live traffic: live verifications routed to sim carriers reach no phone, and every live key can read and drive its own app's simulated phones; turn simulator.enabled off in production")
	}
	if t, ok := st.(clusterTransport); ok {
		s.clu = newCluster(t, log, s.wake, func() {
			// Notices sent while this node was not listening are lost:
			// every reader and the dispatcher look again.
			s.broker.WakeAll()
			s.disp.ForgetSecret("") // a rotation among them
			s.disp.Kick()
			s.jobs.Kick()
		})
	}
	// Metrics are on the API port only in dev mode (loopback by default);
	// serve mode has them on metrics.listen, or nowhere.
	var apiMetrics http.Handler
	if cfg.Mode == config.ModeDev {
		apiMetrics = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	}
	sse := cfg.Limits.SSE
	s.api = httpapi.New(httpapi.Config{
		Service: s.svc, Operator: s.op, Broker: s.broker, Simulator: s.sim, SimulatorEnabled: cfg.Simulator.Enabled,
		SimulatorOpen: cfg.Mode == config.ModeDev, DevInbox: s.inbox,
		Metrics: apiMetrics, Registry: s.reg, Logger: log, CompatAdmin: http.HandlerFunc(s.compatAdmin),
		TrustedProxies: proxies, Heartbeat: sse.Heartbeat,
		Streams: httpapi.StreamLimits{
			MaxStreams: sse.MaxStreams, MaxPerIP: sse.MaxPerIP, MaxPerToken: sse.MaxPerToken,
			Reread: sse.Reread, KeyRecheck: sse.KeyRecheck,
		},
	})
	s.web = newWeb(cfg, s.svc, s.op, s.api, s.broker, s.dev, log)
	s.keeper, s.compat = newCompat(st, s.svc, s.op, policy, cfg, log)
	return s, nil
}

// Publish is the services' after-commit hook: count the event, wake this
// node (wake), and tell the other nodes.
func (s *Server) Publish(n verify.Notice) {
	if n.Type != "" {
		s.events.WithLabelValues(n.Type).Inc()
		s.prod.observe(n)
	}
	if n.Type == verify.EventPrefixBlocked {
		s.fraudBlocks.Inc()
	}
	s.wake(n)
	if s.clu != nil {
		s.clu.Publish(n)
	}
}

// carrierSide hands what the carriers report to the service.
type carrierSide struct{ s *Server }

func (c carrierSide) InboundCall(ctx context.Context, in carrier.InboundCall) (carrier.Disposition, error) {
	return c.s.svc.InboundCall(ctx, in)
}

func (c carrierSide) CarrierEvent(ctx context.Context, e carrier.Event) error {
	return c.s.svc.CarrierEvent(ctx, e)
}

// simCheck is how a simulated phone's app reports what the handset got, as
// a customer's backend would with POST …/check.
func (s *Server) simCheck(ctx context.Context, verificationID, cli, code string) error {
	_, err := s.svc.CheckByID(ctx, verificationID, verify.CheckRequest{CLI: cli, Code: code})
	return err
}

// SIPAddrs are the addresses the SIP carriers listen on, by carrier name.
func (s *Server) SIPAddrs() map[string][]string {
	out := map[string][]string{}
	s.carriers.Each(func(c carrier.Sender) {
		if sc, ok := c.(*rgsip.Carrier); ok {
			out[c.Name()] = sc.Addrs()
		}
	})
	return out
}

// SIPTLSAddrs are the addresses the SIP carriers listen on with TLS.
func (s *Server) SIPTLSAddrs() map[string][]string {
	out := map[string][]string{}
	s.carriers.Each(func(c carrier.Sender) {
		if sc, ok := c.(*rgsip.Carrier); ok {
			out[c.Name()] = sc.TLSAddrs()
		}
	})
	return out
}

// newRouter routes the config's commands to the built carriers. Sandbox
// commands go to the simulated network; each carrier's failures are
// counted by the observer.
func newRouter(cfg config.Config, senders []carrier.Sender, network *sim.Carrier, observe carrier.Observer) (*carrier.Router, error) {
	routes := make([]carrier.Route, len(cfg.Routes))
	for i, r := range cfg.Routes {
		routes[i] = carrier.Route{App: r.App, Country: r.Country, Channel: r.Channel, Carriers: r.Carriers}
	}
	return carrier.NewRouter(senders, routes, network, observe)
}

// wake is the post-commit fan-out, for a notice of this node's or
// another's: the verification's live readers, the dispatcher when webhooks
// were queued, the job runner when jobs were (nodes race to claim them;
// SKIP LOCKED hands each item to one).
func (s *Server) wake(n verify.Notice) {
	s.broker.Publish(n)
	if n.SecretRotated {
		s.disp.ForgetSecret(n.AppID)
	}
	s.disp.Offer(n.Handed)
	if n.Deliveries {
		s.disp.Kick()
	}
	if n.Jobs {
		s.jobs.Kick()
	}
	if n.Type != "" && n.Type != verify.EventCreated {
		s.kickCompat() // a provider-format callback may be owed
	}
}

func serverSecret(cfg config.Config) ([]byte, error) {
	if cfg.Secret != "" {
		return config.DecodeSecret(cfg.Secret)
	}
	return config.LoadOrCreateSecret(cfg.DataDir) // dev mode only: Validate demands a secret otherwise
}

// OpenStore opens the database a URL names: "sqlite:PATH", a bare path, or
// "postgres://…".
func OpenStore(ctx context.Context, url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		st, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", config.RedactURL(url), err)
		}
		return st, nil
	case strings.Contains(url, "://") && !strings.HasPrefix(url, "sqlite://"):
		return nil, fmt.Errorf("database: unsupported URL %q (want sqlite:PATH or postgres://…)", config.RedactURL(url))
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "sqlite:")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return st, nil
}

// Service is the domain service, for admin commands and tests.
func (s *Server) Service() *verify.Service { return s.svc }

// Operator is the server's operator service (apps, numbers, keys, …).
func (s *Server) Operator() *operator.Service { return s.op }

// Start listens and starts the background loops. Dev mode then installs
// the demo app, whose callback URL depends on the address it got.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	ln = newLimitListener(ln, s.cfg.Limits.MaxConnections)
	s.ln = ln
	if s.cfg.Mode == config.ModeDev {
		if err := s.seedDev(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	if err := s.carriers.Start(ctx); err != nil {
		s.carriers.Close()
		ln.Close()
		return err
	}
	s.warnUnspeakableDialplans(ctx)
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	if a := s.cfg.Metrics.Listen; a != "" {
		if err := s.startMetrics(loopCtx, a); err != nil {
			stop()
			s.carriers.Close()
			ln.Close()
			return fmt.Errorf("listen metrics: %w", err)
		}
	}
	s.http = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No ReadTimeout: it would end live streams. Bodies get
		// limits.body_timeout per request (withBodyDeadline).
		IdleTimeout: 2 * time.Minute,
		// Streams end when the server stops, so Shutdown does not wait on them.
		BaseContext: func(net.Listener) context.Context { return loopCtx },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.loops.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", slog.Any("err", err))
		}
	})
	if a := s.cfg.Debug.PprofAddr; a != "" {
		if err := s.startPprof(loopCtx, a); err != nil {
			s.log.Error("pprof listener", slog.String("addr", a), slog.Any("err", err))
		}
	}
	s.loops.Go(func() { s.disp.Run(loopCtx) })
	s.loops.Go(func() { s.sweep(loopCtx) })
	s.loops.Go(func() { s.pruneCounters(loopCtx) })
	s.loops.Go(func() { _ = s.jobs.Run(loopCtx) })
	s.loops.Go(func() { s.retain(loopCtx) })
	s.loops.Go(func() { s.runCompat(loopCtx) })
	if s.clu != nil {
		s.loops.Go(func() { s.clu.run(loopCtx) })
	}
	s.warnSmallPools(ctx)
	s.log.Info("ringgate started", slog.String("mode", string(s.cfg.Mode)), slog.String("listen", s.Addr()), slog.String("public_url", s.URL()), slog.String("database", config.RedactURL(s.cfg.Database.URL)), slog.Bool("cluster", s.clu != nil), slog.Any("sip", s.SIPAddrs()))
	return nil
}

// warnSmallPools logs each missed-call pool too small for the per-phone
// limits (docs/abuse.md, "Caller-ID spoofing").
func (s *Server) warnSmallPools(ctx context.Context) {
	small, err := s.op.SmallPools(ctx)
	if err != nil {
		s.log.Warn("cannot check missed-call pool sizes", slog.Any("err", err))
		return
	}
	for _, p := range small {
		s.log.Warn("missed-call pool too small for the per-phone limits: a phone may be shown a number again within the dial cool-down, and a blind caller-ID spoofer guesses the number with 1 chance in the pool size",
			slog.String("app", p.AppID), slog.String("country", p.Country), slog.Int("numbers", p.Numbers), slog.Int("need", p.Need))
	}
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the API's base URL.
func (s *Server) URL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return "http://" + s.Addr()
}

// Close stops listening, lets requests in flight finish (up to a few
// seconds), stops the loops and closes the database.
func (s *Server) Close() error {
	var err error
	s.closeMux.Do(func() {
		// No new calls; calls in flight finish their events first.
		err = s.carriers.Close()
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			// End the SSE streams (those detached from net/http too) and
			// the loops.
			s.stop()
			s.api.CloseStreams()
			err = errors.Join(err, s.http.Shutdown(ctx))
			cancel()
			s.loops.Wait()
		}
		err = errors.Join(err, s.sim.Close(), s.store.Close())
	})
	return err
}

// sweep expires verifications whose time is up. It wakes at the next known
// expiry, and at least every Expiry.Interval to see those other nodes made.
func (s *Server) sweep(ctx context.Context) {
	const batch = 200
	for ctx.Err() == nil {
		n, err := s.svc.ExpireDue(ctx, batch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("expiry sweep", slog.Any("err", err))
		}
		if n == batch {
			continue
		}
		wait := s.cfg.Expiry.Interval
		if next, ok, err := s.svc.NextExpiry(ctx); err == nil && ok {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// Run starts a server and serves until ctx is done.
func Run(ctx context.Context, cfg config.Config, out io.Writer, opt Options) error {
	s, err := New(ctx, cfg, opt)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		s.Close()
		return err
	}
	if cfg.Mode == config.ModeDev {
		s.PrintDevBanner(out)
	}
	<-ctx.Done()
	s.log.Info("shutting down")
	return s.Close()
}

// NewLogger builds the process logger.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
