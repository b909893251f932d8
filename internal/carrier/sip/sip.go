// Package sip is the SIP trunk carrier: missed calls arrive as INVITEs and
// are rejected before answer; flash and answered calls leave as INVITEs to
// the trunk. It speaks only the carrier contract (carrier.InboundHandler in,
// carrier.Sender out, carrier.Events back) and uses github.com/emiago/sipgo
// for parsing, transports and transactions.
//
// Inbound, every INVITE from an admitted source gets 100 Trying, one call
// of InboundHandler.InboundCall per transaction (sipgo's transaction layer
// absorbs retransmissions, and answers a matching CANCEL with 200 and the
// INVITE with 487), then the disposition's final status: 603, 486 or 480,
// never 2xx. A handler error gives 503 so the trunk may retry. Sources are
// admitted by CIDR or by digest authentication; anything else gets 403 and
// is counted (Rejected).
package sip

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/logsample"
	"golang.org/x/time/rate"
)

// Defaults for Config's zero values.
const (
	DefaultRingTimeout = 60 * time.Second
	// DefaultAcceptWait is how long PlaceCall waits for the trunk's first
	// response, so that an immediate refusal (503, 404) is returned as an
	// error the router can fail over on.
	DefaultAcceptWait = 2 * time.Second
	// DefaultTCPIdleTimeout closes TCP/TLS connections silent this long.
	DefaultTCPIdleTimeout = 2 * time.Minute
	// DefaultTCPHeaderTimeout bounds how long a message's header may take
	// to arrive once its first byte (or the connection) has.
	DefaultTCPHeaderTimeout = 10 * time.Second
	// DefaultTCPMaxConns and DefaultTCPMaxConnsPerSource cap the TCP/TLS
	// connections held, in all and from one address.
	DefaultTCPMaxConns          = 1024
	DefaultTCPMaxConnsPerSource = 32
	// DefaultUDPResponseRate and DefaultUDPResponseBurst bound the
	// responses to one untrusted UDP source (like Kamailio's pike).
	DefaultUDPResponseRate  = 5.0
	DefaultUDPResponseBurst = 10
	// handlerTimeout bounds one InboundCall.
	handlerTimeout = 10 * time.Second
	// nonceTTL is how long a digest nonce we issued stays valid.
	nonceTTL = 5 * time.Minute
)

// Config builds a Carrier.
type Config struct {
	// Name is the instance name: routes use it, inbound calls are recorded
	// as carrier "sip:<Name>".
	Name string
	// Listen lists host:port addresses to serve on, each on UDP and TCP.
	// Empty: no inbound listener (outbound only).
	Listen []string
	// Country is the ISO region of national-format numbers the trunk sends.
	Country string
	// Trusted lists source networks admitted without authentication over
	// TCP and TLS (a connection's source address cannot be forged by one
	// packet); their P-Asserted-Identity is believed. A UDP datagram's
	// source can be forged, so UDP from these networks is treated as
	// untrusted unless TrustUDP is set.
	Trusted []netip.Prefix
	// TrustUDP also trusts UDP datagrams from Trusted networks. Only safe
	// when the edge drops datagrams from outside that claim a source inside
	// Trusted (ingress filtering, BCP 38); the carrier logs a warning at
	// Start when it is set.
	TrustUDP bool
	// AllowDiverted lets calls that carry Diversion or History-Info (the
	// call was forwarded to the pool number) verify their caller; by
	// default they are recorded as diverted and verify nothing.
	AllowDiverted bool
	// TLSListen lists host:port addresses served with TLS (sips), using
	// TLSConfig (which must hold a certificate).
	TLSListen []string
	TLSConfig *tls.Config
	// TCP and TLS connection limits (zero: the Default* values): a
	// connection silent for TCPIdleTimeout is closed, as is one that takes
	// longer than TCPHeaderTimeout to deliver a message's header after its
	// first byte; at most TCPMaxConns connections are held, TCPMaxConnsPerSource
	// from one address, and further ones are closed as accepted.
	TCPIdleTimeout, TCPHeaderTimeout  time.Duration
	TCPMaxConns, TCPMaxConnsPerSource int
	// UDPResponseRate and UDPResponseBurst bound the responses (403, 407,
	// …) sent to one untrusted UDP source, per second and at once (zero: the
	// Default* values). Responses to untrusted sources are sent once,
	// without retransmission; beyond the rate, requests are dropped.
	UDPResponseRate  float64
	UDPResponseBurst int
	// Username and Password are digest credentials: sources outside Trusted
	// must authenticate with them (when set), and the carrier answers the
	// trunk's 401/407 challenges with them.
	Username, Password string
	// Realm of our digest challenges ("ringgate").
	Realm string
	// RejectStatus overrides the disposition's status (603, 486 or 480); 0:
	// use the disposition's.
	RejectStatus int

	// Trunk is where outbound calls go: "sip:host[:port][;transport=tcp]".
	// Empty: this carrier cannot place calls.
	Trunk string
	// OutboundProxy, when set, is loaded as a Route (sip:proxy;lr).
	OutboundProxy string
	// PAI adds P-Asserted-Identity with the caller ID to outbound INVITEs.
	PAI bool
	// TrustAnswer reports a 200 OK to an answer_call as a person's answer.
	// Without it answer_call is refused (terminal, "unsupported"): a bare
	// 200 OK is also what voicemail sends, and no machine detection runs
	// over SIP.
	TrustAnswer bool
	// Register sends REGISTER to the trunk at Start and refreshes it.
	Register bool
	// Hostname is the address we advertise in Via and Contact (default:
	// the first Listen host when it is not a wildcard, else the local
	// address of the connection used).
	Hostname string

	// Media, when set, gives outbound calls audio: voice_otp and
	// answer_call with machine detection (voice.go).
	Media *Media

	Inbound carrier.InboundHandler
	Events  carrier.EventHandler
	// RingTimeout applies to calls whose RingTimeout is 0 (60 s).
	RingTimeout time.Duration
	// AcceptWait is how long PlaceCall waits for the first response (2 s).
	AcceptWait time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Carrier is one SIP trunk. It implements carrier.Sender.
type Carrier struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	sdpHost string
	trunk   *sip.Uri
	proxy   *sip.Uri
	key     []byte // nonce MAC key
	nonces  nonceLedger
	// refusals logs refused requests, sampled: a flood writes a few lines,
	// the counters stay exact.
	refusals *logsample.Logger
	// udpLimit bounds responses to each untrusted UDP source.
	udpLimit *sourceLimiter
	// guesses bounds wrong digests: per source, and in all (guard.go).
	guesses guessGuard
	// recent are the initial INVITEs over UDP answered without sipgo's
	// transaction (stateless.go).
	recent recentInvites

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dialog *sipgo.DialogUA

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	udp    []net.PacketConn
	tcp    []net.Listener
	tlsLn  []net.Listener
	closed bool
	// live are the outbound calls not yet over, by ringgate's id, for
	// EndCall.
	live map[string]*outcall

	rejected   atomic.Int64
	dropped    atomic.Int64 // responses to untrusted UDP sources not sent (over the rate)
	tcpRefused atomic.Int64 // TCP/TLS connections closed at accept (over a cap)
	malformed  atomic.Int64
	invites    atomic.Int64
	registered atomic.Bool
}

var _ carrier.Sender = (*Carrier)(nil)

// orDefault sets a zero or negative setting to its default.
func orDefault[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// New builds a carrier; Start listens.
func New(cfg Config) (*Carrier, error) {
	if cfg.Name == "" {
		return nil, errors.New("sip: Name is required")
	}
	c := &Carrier{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With(slog.String("carrier", "sip:"+cfg.Name))
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.Realm == "" {
		c.cfg.Realm = "ringgate"
	}
	orDefault(&c.cfg.RingTimeout, DefaultRingTimeout)
	orDefault(&c.cfg.AcceptWait, DefaultAcceptWait)
	orDefault(&c.cfg.TCPIdleTimeout, DefaultTCPIdleTimeout)
	orDefault(&c.cfg.TCPHeaderTimeout, DefaultTCPHeaderTimeout)
	orDefault(&c.cfg.TCPMaxConns, DefaultTCPMaxConns)
	orDefault(&c.cfg.TCPMaxConnsPerSource, DefaultTCPMaxConnsPerSource)
	orDefault(&c.cfg.UDPResponseRate, DefaultUDPResponseRate)
	orDefault(&c.cfg.UDPResponseBurst, DefaultUDPResponseBurst)
	c.refusals = logsample.Default(c.log)
	c.udpLimit = &sourceLimiter{rate: rate.Limit(c.cfg.UDPResponseRate), burst: c.cfg.UDPResponseBurst}
	c.guesses = newGuessGuard()
	for _, a := range cfg.TLSListen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("sip %s: tls listen %q is not host:port", cfg.Name, a)
		}
	}
	if len(cfg.TLSListen) > 0 && (cfg.TLSConfig == nil || (len(cfg.TLSConfig.Certificates) == 0 && cfg.TLSConfig.GetCertificate == nil)) {
		return nil, fmt.Errorf("sip %s: tls listen needs a certificate", cfg.Name)
	}
	switch c.cfg.RejectStatus {
	case 0, 603, 486, 480:
	default:
		return nil, fmt.Errorf("sip %s: reject status %d is not 603, 486 or 480", cfg.Name, cfg.RejectStatus)
	}
	if cfg.Trunk != "" {
		u, err := ParseTrunk(cfg.Trunk)
		if err != nil {
			return nil, fmt.Errorf("sip %s: trunk: %w", cfg.Name, err)
		}
		c.trunk = u
	}
	if cfg.OutboundProxy != "" {
		u, err := ParseTrunk(cfg.OutboundProxy)
		if err != nil {
			return nil, fmt.Errorf("sip %s: outbound proxy: %w", cfg.Name, err)
		}
		c.proxy = u
	}
	for _, a := range cfg.Listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("sip %s: listen %q is not host:port", cfg.Name, a)
		}
	}
	// The host we advertise in Via and Contact: the configured one, else
	// the first listen address when it names one; else empty, and the
	// transport fills in the local address of the connection it uses.
	if c.cfg.Hostname == "" && len(cfg.Listen) > 0 {
		if h, _, _ := net.SplitHostPort(cfg.Listen[0]); h != "" && h != "0.0.0.0" && h != "::" {
			c.cfg.Hostname = h
		}
	}
	if cfg.Register && c.cfg.Hostname == "" {
		return nil, fmt.Errorf("sip %s: register needs a hostname (or a listen address that is not a wildcard) for its Contact", cfg.Name)
	}
	c.sdpHost = c.cfg.Hostname
	if ip, err := netip.ParseAddr(c.sdpHost); err != nil || !ip.Is4() {
		c.sdpHost = "0.0.0.0" // no media is ever sent
	}
	c.key = make([]byte, 32)
	rand.Read(c.key)

	uaHost := c.cfg.Hostname
	if uaHost == "" {
		uaHost = "localhost"
	}
	glog := slog.New(sipgoLog{next: c.log.Handler(), malformed: &c.malformed})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("ringgate"), sipgo.WithUserAgentHostname(uaHost),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(glog), sip.WithTransportLayerReadFilter(c.readFilter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(glog)))
	if err != nil {
		return nil, err
	}
	c.ua = ua
	if c.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(glog)); err != nil {
		ua.Close()
		return nil, err
	}
	copts := []sipgo.ClientOption{sipgo.WithClientLogger(glog), sipgo.WithClientNAT()}
	if c.cfg.Hostname != "" {
		copts = append(copts, sipgo.WithClientHostname(c.cfg.Hostname))
	}
	if c.client, err = sipgo.NewClient(ua, copts...); err != nil {
		ua.Close()
		return nil, err
	}
	c.dialog = &sipgo.DialogUA{Client: c.client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "ringgate", Host: c.cfg.Hostname},
	}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.routes()
	return c, nil
}

// ParseTrunk parses a trunk or proxy URI: "sip:host[:port][;params]" or a
// bare "host[:port]".
func ParseTrunk(s string) (*sip.Uri, error) {
	if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
		s = "sip:" + s
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return nil, err
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	return &u, nil
}

// Name is the carrier's instance name.
func (c *Carrier) Name() string { return c.cfg.Name }

// Rejected counts requests refused with 403 (untrusted source, failed
// authentication), whether or not the 403 was sent.
func (c *Carrier) Rejected() int64 { return c.rejected.Load() }

// Dropped counts requests from untrusted UDP sources that got no response
// because the source was over its response rate.
func (c *Carrier) Dropped() int64 { return c.dropped.Load() }

// TCPRefused counts TCP and TLS connections closed as accepted because a
// connection cap was reached.
func (c *Carrier) TCPRefused() int64 { return c.tcpRefused.Load() }

// Malformed counts messages sipgo could not parse (logged at DEBUG only).
func (c *Carrier) Malformed() int64 { return c.malformed.Load() }

// Metrics exports the trunk's refusal counters.
func (c *Carrier) Metrics() []carrier.Metric {
	count := func(f func() int64) func() float64 { return func() float64 { return float64(f()) } }
	return append([]carrier.Metric{
		{Name: "ringgate_sip_refused_total", Help: "SIP requests refused with 403 (untrusted source, failed digest).", Value: count(c.Rejected)},
		{Name: "ringgate_sip_malformed_total", Help: "SIP messages that could not be parsed (dropped; logged at DEBUG).", Value: count(c.Malformed)},
		{Name: "ringgate_sip_udp_dropped_total", Help: "SIP requests from untrusted UDP sources left unanswered: the source was over its response rate.", Value: count(c.Dropped)},
		{Name: "ringgate_sip_tcp_refused_total", Help: "SIP TCP/TLS connections closed as accepted: a connection cap was reached.", Value: count(c.TCPRefused)},
	}, c.mediaMetrics()...)
}

// The parts of the carrier lifecycle a SIP trunk has.
var (
	_ carrier.Starter         = (*Carrier)(nil)
	_ carrier.Closer          = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

// Invites counts INVITEs handed to the InboundHandler.
func (c *Carrier) Invites() int64 { return c.invites.Load() }

// Start listens on every Listen address, UDP and TCP on the same port,
// and registers with the trunk when configured.
func (c *Carrier) Start(ctx context.Context) error {
	for _, a := range c.cfg.Listen {
		pc, ln, err := listenBoth(a)
		if err != nil {
			c.Close()
			return fmt.Errorf("sip %s: listen %s: %w", c.cfg.Name, a, err)
		}
		c.mu.Lock()
		c.udp = append(c.udp, pc)
		c.tcp = append(c.tcp, ln)
		c.mu.Unlock()
		c.wg.Go(func() { c.srv.ServeUDP(pc) })
		c.wg.Go(func() { c.srv.ServeTCP(c.limitTCP(ln, nil)) })
		c.log.Info("sip listening", slog.String("addr", pc.LocalAddr().String()))
	}
	for _, a := range c.cfg.TLSListen {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			c.Close()
			return fmt.Errorf("sip %s: tls listen %s: %w", c.cfg.Name, a, err)
		}
		c.mu.Lock()
		c.tlsLn = append(c.tlsLn, ln)
		c.mu.Unlock()
		c.wg.Go(func() { c.srv.ServeTLS(c.limitTCP(ln, c.cfg.TLSConfig)) })
		c.log.Info("sip listening (tls)", slog.String("addr", ln.Addr().String()))
	}
	// Loopback sources cannot come from off the host (the kernel drops
	// such datagrams from outside), so trusting them over UDP is no risk.
	forgeable := slices.ContainsFunc(c.cfg.Trusted, func(p netip.Prefix) bool { return !p.Addr().IsLoopback() })
	if c.cfg.TrustUDP && forgeable && len(c.cfg.Listen) > 0 {
		c.log.Warn("sip: trust_udp is on: UDP datagrams from trusted_networks are believed (P-Asserted-Identity, From), and one datagram with a forged source address can verify any number; the network edge MUST drop datagrams from outside that claim a source inside trusted_networks (ingress filtering, BCP 38), else use TCP or TLS",
			slog.Any("trusted_networks", c.cfg.Trusted))
	}
	if c.cfg.Password != "" && len(c.cfg.Listen)+len(c.cfg.TLSListen) > 0 && len(c.cfg.Password) < minPassword {
		c.log.Warn("sip: the digest password is short: a peer that knows it is believed about any caller ID, and the listener allows about 15,000 guesses a day; use at least 16 random characters",
			slog.Int("length", len(c.cfg.Password)))
	}
	if c.cfg.Register && c.trunk != nil {
		c.wg.Go(func() { c.registerLoop(c.ctx) })
	}
	return nil
}

// limitTCP wraps a TCP listener with the connection caps and timeouts,
// and with TLS when conf is set (the timeouts then count the handshake).
func (c *Carrier) limitTCP(ln net.Listener, conf *tls.Config) net.Listener {
	var l net.Listener = &capListener{Listener: ln, maxTotal: c.cfg.TCPMaxConns, maxPer: c.cfg.TCPMaxConnsPerSource, refused: &c.tcpRefused}
	if conf != nil {
		l = tls.NewListener(l, conf)
	}
	return &timeoutListener{Listener: l, idle: c.cfg.TCPIdleTimeout, header: c.cfg.TCPHeaderTimeout}
}

// listenBoth binds UDP and TCP on the same port; port 0 picks one free
// for both (a few tries).
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// Addrs are the addresses listened on (UDP and TCP share each).
func (c *Carrier) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.udp))
	for i, pc := range c.udp {
		out[i] = pc.LocalAddr().String()
	}
	return out
}

// TLSAddrs are the addresses listened on with TLS.
func (c *Carrier) TLSAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.tlsLn))
	for i, ln := range c.tlsLn {
		out[i] = ln.Addr().String()
	}
	return out
}

// Close stops listening, cancels calls in progress and waits for them.
func (c *Carrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, pc := range c.udp {
		pc.Close()
	}
	for _, ln := range c.tcp {
		ln.Close()
	}
	for _, ln := range c.tlsLn {
		ln.Close()
	}
	c.mu.Unlock()
	// Calls in flight are cancelled (CANCEL on the wire) and report how
	// they ended; a trunk that never answers the CANCEL could hold them
	// for 64*T1, so Close waits a few seconds, then closes the transports
	// under them.
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		c.log.Warn("sip: calls still ending at close; closing transports under them")
	}
	err := c.ua.Close()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
	return err
}

// closeWait bounds each of Close's waits.
const closeWait = 5 * time.Second

func (c *Carrier) routes() {
	c.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching this INVITE is answered by the transaction
		// layer (200, then 487 for the INVITE); after it we send no other
		// final response.
		if c.inDialog(req, tx) { // a re-INVITE in one of our calls
			return
		}
		var cancelled atomic.Bool
		tx.OnCancel(func(*sip.Request) { cancelled.Store(true) })
		c.serve(c.ctx, req, func(res *sip.Response) error {
			if res.StatusCode >= 200 && cancelled.Load() {
				return nil
			}
			return tx.Respond(res)
		}, c.srv.WriteResponse)
	})
	c.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) { c.serve(c.ctx, req, tx.Respond, c.srv.WriteResponse) })
	c.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if !c.inDialog(req, tx) {
			c.serve(c.ctx, req, tx.Respond, c.srv.WriteResponse)
		}
	})
	c.srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		if !c.inDialog(req, tx) {
			c.serve(c.ctx, req, tx.Respond, c.srv.WriteResponse)
		}
	})
	c.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) { c.serve(c.ctx, req, tx.Respond, c.srv.WriteResponse) })
	// An ACK is never answered. One for our non-2xx final response is
	// absorbed by the INVITE transaction over TCP and TLS; over UDP, where
	// the INVITE was answered without a transaction (stateless.go), and a
	// stray one, it is dropped here.
	c.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	c.srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) { c.serve(c.ctx, req, tx.Respond, c.srv.WriteResponse) })
}

const allow = "INVITE, ACK, CANCEL, BYE, OPTIONS"

// Serve handles one request (not a retransmission: the transaction layer
// absorbs those), writing its responses through respond. Exported for the
// fuzz target and tests; the listener calls it for every new transaction.
func (c *Carrier) Serve(ctx context.Context, req *sip.Request, respond func(*sip.Response) error) {
	c.serve(ctx, req, respond, respond)
}

// serve is Serve with two ways to answer: respond through the transaction
// (retransmitted over UDP until acknowledged), and stateless, one datagram
// and no retransmission. A UDP source that is neither trusted nor
// authenticated may be forged (the victim of a reflection attack), so it
// is only ever answered stateless, and at most at its per-source rate.
func (c *Carrier) serve(ctx context.Context, req *sip.Request, respond, stateless func(*sip.Response) error) {
	src := req.MessageData.Source()
	udp := strings.EqualFold(req.Transport(), "UDP")
	admitted := false // trusted or authenticated: answered through the transaction
	reply := func(code int, reason string, hdrs ...sip.Header) {
		send := respond
		if udp && !admitted {
			if !c.udpLimit.allow(addrIPString(src), c.now()) {
				c.dropped.Add(1)
				return
			}
			send = stateless
		}
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		if err := send(res); err != nil {
			c.log.Debug("sip respond", slog.Int("status", code), slog.Any("err", err))
		}
	}
	if req.IsAck() {
		return
	}
	if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil || req.Via() == nil {
		reply(400, "Bad Request")
		return
	}
	if req.CSeq().MethodName != req.Method {
		reply(400, "Bad Request")
		return
	}
	// The transport's peer address, never Via (a caller writes its own Via).
	trusted := c.trusted(src, udp)
	admitted = trusted
	switch req.Method {
	case sip.INVITE, sip.OPTIONS:
		if !trusted {
			ok, h := c.authenticate(req, addrIPString(src))
			if !ok {
				if h == nil {
					c.refuse(req, udp)
					reply(403, "Forbidden")
					return
				}
				reply(407, "Proxy Authentication Required", h)
				return
			}
			admitted = true
		}
	default:
		if !trusted && c.cfg.Password == "" {
			c.refuse(req, udp)
			reply(403, "Forbidden")
			return
		}
	}
	switch req.Method {
	case sip.INVITE:
		// Trusted over TCP/TLS (or UDP by opt-in), or digest-authenticated:
		// P-Asserted-Identity is believed.
		c.invite(ctx, req, admitted, reply)
	case sip.OPTIONS:
		reply(200, "OK", sip.NewHeader("Allow", allow), sip.NewHeader("Accept", "application/sdp"))
	case sip.BYE, sip.CANCEL:
		// We never answer a call, so there is no dialog to end, and a
		// CANCEL that matched an INVITE was answered by the transaction
		// layer before reaching us.
		reply(481, "Call/Transaction Does Not Exist")
	default:
		reply(405, "Method Not Allowed", sip.NewHeader("Allow", allow))
	}
}

func (c *Carrier) refuse(req *sip.Request, udp bool) {
	c.rejected.Add(1)
	why := "source not in trusted_networks and no digest credentials"
	if udp && c.inTrusted(req.Source()) {
		why = "UDP from trusted_networks is not trusted without trust_udp (a datagram's source can be forged)"
	}
	c.refusals.Log(c.ctx, slog.LevelWarn, "sip request refused", slog.String("method", string(req.Method)),
		slog.String("source", req.Source()), slog.String("transport", req.Transport()), slog.String("reason", why))
}

// invite asks the handler what to do with a call and rejects it so. It
// sends no 100 Trying of its own: the answer is usually ready within a few
// milliseconds, and the INVITE's server transaction sends 100 Trying if it
// is not within 200 ms (RFC 3261 17.2.1, sipgo's Timer_1xx), well before a
// caller over UDP would retransmit (T1, 500 ms). A 100 for every call was a
// response built, run through the transaction and written for nothing.
func (c *Carrier) invite(ctx context.Context, req *sip.Request, trusted bool, reply func(int, string, ...sip.Header)) {
	to := req.Recipient.User
	if to == "" {
		to = req.To().Address.User
	}
	from := fromUser(req)
	if trusted {
		if pai := assertedUser(req); pai != "" {
			from = pai
		}
	}
	diverted := !c.cfg.AllowDiverted && isDiverted(req)
	if c.cfg.Inbound == nil || to == "" {
		reply(404, "Not Found")
		return
	}
	c.invites.Add(1)
	hctx, cancel := context.WithTimeout(ctx, handlerTimeout)
	defer cancel()
	d, err := c.cfg.Inbound.InboundCall(hctx, carrier.InboundCall{
		From: from, To: to, Country: c.cfg.Country, Carrier: "sip:" + c.cfg.Name,
		CallID: req.CallID().Value(), At: c.now(), Diverted: diverted,
	})
	if err != nil {
		c.log.Error("sip inbound call", slog.String("call_id", req.CallID().Value()), slog.Any("err", err))
		reply(503, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return
	}
	code := d.SIPStatus
	if c.cfg.RejectStatus != 0 {
		code = c.cfg.RejectStatus
	}
	reply(rejectCode(code), reason(rejectCode(code)))
}

// rejectCode keeps a final status a rejection: 603 for anything that is
// not a 4xx–6xx failure.
func rejectCode(code int) int {
	if code < 400 || code > 699 {
		return 603
	}
	return code
}

func reason(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	}
	return "Rejected"
}

// fromUser is the caller in From: the user part of a sip: URI, or the
// number of a tel: URI (sipgo keeps a tel: URI's number unexported, with
// User and Host empty; its String gives it back).
func fromUser(req *sip.Request) string {
	a := req.From().Address
	if strings.EqualFold(a.Scheme, "tel") {
		_, n, _ := strings.Cut(a.String(), ":")
		return strings.SplitN(n, ";", 2)[0]
	}
	return a.User
}

// isDiverted reports whether the INVITE was forwarded to us: a Diversion
// header (RFC 5806), or a History-Info (RFC 7044) that records a
// retargeting (more than one entry, or an entry with a cause, rc or mp
// parameter). A single History-Info entry is just the original target.
func isDiverted(req *sip.Request) bool {
	if req.GetHeader("Diversion") != nil {
		return true
	}
	entries := 0
	for _, h := range req.GetHeaders("History-Info") {
		for _, e := range splitOutsideBrackets(h.Value()) {
			if strings.TrimSpace(e) == "" {
				continue
			}
			entries++
			l := strings.ToLower(e)
			if strings.Contains(l, "cause=") || strings.Contains(l, ";rc=") || strings.Contains(l, ";mp=") {
				return true
			}
		}
	}
	return entries > 1
}

// splitOutsideBrackets splits a header value at commas outside <…>.
func splitOutsideBrackets(v string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// assertedUser is the user part of the first P-Asserted-Identity URI.
func assertedUser(req *sip.Request) string {
	h := req.GetHeader("P-Asserted-Identity")
	if h == nil {
		return ""
	}
	v := h.Value()
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = strings.TrimSpace(strings.SplitN(v, ",", 2)[0])
	if strings.HasPrefix(v, "tel:") {
		return strings.SplitN(strings.TrimPrefix(v, "tel:"), ";", 2)[0]
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil {
		return ""
	}
	return u.User
}

// trusted reports whether a request from source ("ip:port") is trusted:
// from a trusted network over TCP or TLS, whose source address a peer
// cannot forge without completing a handshake; over UDP only with TrustUDP.
func (c *Carrier) trusted(source string, udp bool) bool {
	if udp && !c.cfg.TrustUDP {
		return false
	}
	return c.inTrusted(source)
}

// addrIPString is the address of "ip:port" (the zero Addr if unparsable).
func addrIPString(source string) netip.Addr {
	host, _, err := net.SplitHostPort(source)
	if err != nil {
		host = source
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// inTrusted reports whether source ("ip:port") is in a trusted network.
func (c *Carrier) inTrusted(source string) bool {
	ip := addrIPString(source)
	if !ip.IsValid() {
		return false
	}
	for _, p := range c.cfg.Trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// authenticate checks digest credentials. It returns ok, or the challenge
// to send (nil when digest is not configured: refuse).
func (c *Carrier) authenticate(req *sip.Request, src netip.Addr) (bool, sip.Header) {
	if c.cfg.Password == "" {
		return false, nil
	}
	now := c.now()
	challenge := func(stale bool) sip.Header {
		v := fmt.Sprintf(`Digest realm=%q, nonce=%q, algorithm=MD5, qop="auth"`, c.cfg.Realm, c.nonce(now, src))
		if stale {
			v += ", stale=true"
		}
		return sip.NewHeader("Proxy-Authenticate", v)
	}
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		h = req.GetHeader("Authorization")
	}
	if h == nil {
		return false, challenge(false)
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return false, nil
	}
	// A nonce is good only from the source it was sent to. Over UDP anyone
	// can write a datagram with a victim's source address, but only the
	// victim receives the victim's nonces: wrong digests in its name cannot
	// use up its guesses below. They get a fresh challenge and count for
	// nothing.
	if !c.nonceValid(cred.Nonce, now, src) {
		return false, challenge(true)
	}
	// A source that has guessed wrong too often is not heard, right or
	// wrong: an online guesser of the trunk's password, who would be
	// believed about any caller ID once right (guard.go).
	if !c.guesses.mayTry(src, now) {
		c.rejected.Add(1)
		c.refusals.Log(c.ctx, slog.LevelWarn, "sip digest refused unchecked: too many wrong digests", slog.String("source", req.Source()),
			slog.String("method", string(req.Method)))
		return false, nil
	}
	if !c.digestMatches(req, cred) {
		c.guesses.failed(src, now)
		return false, nil
	}
	// A correct response is still a replay if its nonce count was used
	// before: a fresh challenge (stale, so an honest client answers it
	// without asking its user) costs the honest client one round trip and
	// leaves a captured INVITE worthless.
	if !c.nonces.use(cred.Nonce, cred.Nc, now) {
		return false, challenge(true)
	}
	c.guesses.succeeded(src, now)
	return true, nil
}

// digestMatches reports whether cred is the trunk's user answering for this
// request: its realm, the request's own URI, and the response the password
// gives.
func (c *Carrier) digestMatches(req *sip.Request, cred *digest.Credentials) bool {
	if cred.Username != c.cfg.Username || cred.Realm != c.cfg.Realm {
		return false
	}
	// The digest covers the URI it names; it must be this request's.
	var du sip.Uri
	if err := sip.ParseUri(cred.URI, &du); err != nil || du.User != req.Recipient.User || !strings.EqualFold(du.Host, req.Recipient.Host) {
		return false
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: cred.URI, Username: c.cfg.Username, Password: c.cfg.Password,
		Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	return err == nil && subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) == 1
}

// nonce is "<unix seconds>.<random>.<mac>": unforgeable, unique so that
// two callers challenged in the same second do not share one, and bound to
// the source it is sent to (the MAC covers it; the nonce does not show it).
func (c *Carrier) nonce(t time.Time, src netip.Addr) string {
	var r [8]byte
	rand.Read(r[:])
	return c.nonceMAC(strconv.FormatInt(t.Unix(), 10)+"."+hex.EncodeToString(r[:]), src)
}

func (c *Carrier) nonceMAC(body string, src netip.Addr) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(body))
	m.Write([]byte{0})
	m.Write([]byte(src.String()))
	return body + "." + hex.EncodeToString(m.Sum(nil)[:16])
}

// nonceValid reports whether n is a nonce of ours, sent to src, and recent.
func (c *Carrier) nonceValid(n string, now time.Time, src netip.Addr) bool {
	i := strings.LastIndexByte(n, '.')
	if i < 0 {
		return false
	}
	body := n[:i]
	ts, _, ok := strings.Cut(body, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	t := time.Unix(sec, 0)
	if now.Sub(t) > nonceTTL || t.After(now.Add(time.Minute)) {
		return false
	}
	return hmac.Equal([]byte(c.nonceMAC(body, src)), []byte(n))
}

// maxNonces bounds the ledger: past it, new nonces are refused as stale
// until old ones expire, so a flood of authenticated requests cannot grow
// memory without limit (an honest client just gets another challenge).
const maxNonces = 100_000

// nonceLedger remembers, for every nonce that authenticated a request in
// the last nonceTTL, the highest nonce count used with it. RFC 7616 §3.4:
// with qop the client counts up (nc) on each request under one nonce;
// without qop a nonce is good for one request. sipgo absorbs
// retransmissions of a transaction before the handler, so a count seen
// twice here is a new transaction replaying an old one.
type nonceLedger struct {
	mu   sync.Mutex
	seen map[string]nonceUse
}

type nonceUse struct {
	nc      uint64
	expires time.Time
}

func (l *nonceLedger) use(nonce string, nc int, now time.Time) bool {
	n := uint64(max(nc, 1)) // no qop: no count, the nonce is used once
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]nonceUse{}
	}
	if u, ok := l.seen[nonce]; ok {
		if n <= u.nc {
			return false
		}
		u.nc = n
		l.seen[nonce] = u
		return true
	}
	if len(l.seen) >= maxNonces {
		for k, u := range l.seen {
			if now.After(u.expires) {
				delete(l.seen, k)
			}
		}
		if len(l.seen) >= maxNonces {
			return false
		}
	}
	l.seen[nonce] = nonceUse{nc: n, expires: now.Add(nonceTTL + time.Minute)}
	return true
}
