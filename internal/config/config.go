// Package config is ringgate's configuration: defaults, a YAML file, and
// RINGGATE_* environment variables, applied in that order. It holds values
// only; the server package turns them into running parts. Nothing here is
// global: every caller gets its own Config.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Mode says how the server was started.
type Mode string

// Modes.
const (
	ModeDev   Mode = "dev"   // zero configuration: SQLite in a data dir, simulator, demo app
	ModeServe Mode = "serve" // production, from a config file
)

// Config is everything the server needs.
type Config struct {
	Mode Mode `yaml:"-"`
	// HTTP is the address the API listens on.
	HTTP string `yaml:"http"`
	// PublicURL is how browsers and carriers reach this server, used in
	// printed URLs and later in carrier webhooks. Defaults from HTTP.
	PublicURL string `yaml:"public_url"`
	// Secret keys client tokens and code hashes (at least 32 bytes, given as
	// hex or base64). Every node of one deployment needs the same secret.
	Secret string `yaml:"secret"`
	// DataDir holds dev mode's database and generated secrets.
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`

	Simulator  Simulator  `yaml:"simulator"`
	Carriers   []Carrier  `yaml:"carriers"`
	Routes     []Route    `yaml:"routes"`
	Jobs       Jobs       `yaml:"jobs"`
	Webhooks   Webhooks   `yaml:"webhooks"`
	MissedCall MissedCall `yaml:"missed_call"`
	Expiry     Expiry     `yaml:"expiry"`
	Log        Log        `yaml:"log"`
	Console    Console    `yaml:"console"`
	Prices     Prices     `yaml:"prices"`
	Abuse      Abuse      `yaml:"abuse"`
	Debug      Debug      `yaml:"debug"`
	Metrics    Metrics    `yaml:"metrics"`
	Limits     Limits     `yaml:"limits"`
	Retention  Retention  `yaml:"retention"`
}

// Metrics says where Prometheus metrics are served.
type Metrics struct {
	// Listen, when set, serves /metrics on its own listener (for example
	// 127.0.0.1:9090, or a private interface the scraper reaches). In serve
	// mode metrics are never on the API port; with Listen empty they are
	// not served at all. Dev mode also serves them on its (loopback) API
	// port.
	Listen string `yaml:"listen"`
}

// Limits bound what HTTP clients, authenticated or not, can hold on the
// server: connections, slow request bodies and live streams.
type Limits struct {
	// BodyTimeout is how long a request may take to send its body, from the
	// end of its headers; beyond it the request gets 408 and the connection
	// is closed. Live streams (SSE) read no body and are exempt.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// MaxConnections caps the HTTP connections open at once; further ones
	// wait in the kernel's accept queue until one closes.
	MaxConnections int       `yaml:"max_connections"`
	SSE            SSELimits `yaml:"sse"`
}

// SSELimits bound the live streams (GET /v1/verifications/{id}/events).
// A stream beyond a cap is refused with 429 and problem JSON.
type SSELimits struct {
	MaxStreams  int `yaml:"max_streams"`   // on this process
	MaxPerIP    int `yaml:"max_per_ip"`    // from one client address
	MaxPerToken int `yaml:"max_per_token"` // on one API key or client token
	// Heartbeat is how often an idle stream sends a comment; it reads
	// nothing from the database.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Reread is the slow safety re-read of a stream's events, in case a
	// notice between nodes was lost.
	Reread time.Duration `yaml:"reread"`
	// KeyRecheck is how often the API keys behind open streams are looked
	// up again, so that a stream of a key revoked or expired (on any node)
	// ends within this long. One lookup per key, however many streams.
	KeyRecheck time.Duration `yaml:"key_recheck"`
}

// Debug holds operator tools that are off by default.
type Debug struct {
	// PprofAddr, when set, serves Go's net/http/pprof profiles on their own
	// listener (keep it on loopback: profiles show the process's insides).
	PprofAddr string `yaml:"pprof_addr"`
	// PprofRemote allows PprofAddr to be an address other than loopback.
	PprofRemote bool `yaml:"pprof_remote"`
}

// Database selects the store.
type Database struct {
	// URL is "sqlite:PATH" (or a bare file path) or "postgres://…".
	URL string `yaml:"url"`
}

// Simulator switches the simulator carrier on.
type Simulator struct {
	Enabled bool `yaml:"enabled"`
}

// Carrier is one connection to a telephone network that places calls and
// sends texts. Types: "sim" (the simulator), "sip" (a SIP trunk, with
// its options under sip), and "twilio", "vonage", "plivo", "telnyx"
// (providers' HTTP APIs, with their options under http).
type Carrier struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// SimulateOutage makes a sim carrier refuse every command with a
	// retryable error, to rehearse failover to the next carrier.
	SimulateOutage bool `yaml:"simulate_outage"`
	// SIP configures a sip carrier.
	SIP SIP `yaml:"sip"`
	// HTTP configures a twilio, vonage, plivo or telnyx carrier.
	HTTP HTTPCarrier `yaml:"http"`
	// SMPP configures an smpp carrier.
	SMPP SMPP `yaml:"smpp"`
}

// SIP is a SIP trunk: inbound missed calls on Listen, outbound flash and
// answered calls to Trunk.
type SIP struct {
	// Listen lists host:port addresses served on both UDP and TCP for
	// inbound calls; empty: outbound only.
	Listen []string `yaml:"listen"`
	// Trunk is where outbound calls go ("sip:host[:port][;transport=tcp]");
	// empty: inbound only (routes may not name the carrier).
	Trunk string `yaml:"trunk"`
	// OutboundProxy, when set, is preloaded as a Route for outbound calls.
	OutboundProxy string `yaml:"outbound_proxy"`
	// Country is the ISO region of national-format numbers the trunk sends.
	Country string `yaml:"country"`
	// TrustedNetworks are source CIDRs admitted without authentication over
	// TCP and TLS, whose P-Asserted-Identity is believed. UDP from them is
	// untrusted (a datagram's source is forged at will) unless TrustUDP.
	TrustedNetworks []string `yaml:"trusted_networks"`
	// TrustUDP also trusts UDP from TrustedNetworks: only behind an edge
	// that drops outside datagrams claiming those sources (BCP 38).
	TrustUDP bool `yaml:"trust_udp"`
	// AllowDiverted lets forwarded calls (Diversion, History-Info) verify.
	AllowDiverted bool `yaml:"allow_diverted"`
	// TLSListen lists host:port addresses served with TLS (sips), with the
	// PEM certificate chain TLSCert and its key TLSKey.
	TLSListen []string `yaml:"tls_listen"`
	TLSCert   string   `yaml:"tls_cert"`
	TLSKey    string   `yaml:"tls_key"`
	// TCP/TLS connection limits; zero: the defaults (2m, 10s, 1024, 32).
	TCPIdleTimeout       time.Duration `yaml:"tcp_idle_timeout"`
	TCPHeaderTimeout     time.Duration `yaml:"tcp_header_timeout"`
	TCPMaxConns          int           `yaml:"tcp_max_conns"`
	TCPMaxConnsPerSource int           `yaml:"tcp_max_conns_per_source"`
	// UDPResponseRate and UDPResponseBurst bound responses to one untrusted
	// UDP source (per second, at once); zero: the defaults (5, 10).
	UDPResponseRate  float64 `yaml:"udp_response_rate"`
	UDPResponseBurst int     `yaml:"udp_response_burst"`
	// Username and Password: digest credentials that untrusted sources must
	// present, and that answer the trunk's 401/407 challenges.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Register sends REGISTER to the trunk (with the credentials); it
	// needs Hostname, or a listen address that is not a wildcard.
	Register bool `yaml:"register"`
	// Hostname is the address advertised in Via and Contact (default: the
	// first listen host unless a wildcard, else the local address in use).
	Hostname string `yaml:"hostname"`
	// PAI adds P-Asserted-Identity with the caller ID to outbound calls.
	PAI bool `yaml:"pai"`
	// RejectStatus overrides missed_call.reject_status for this trunk
	// (603, 486 or 480); 0: the global one.
	RejectStatus int `yaml:"reject_status"`
	// TrustAnswer lets answer_call verify on this trunk's bare 200 OK. A
	// 200 OK proves only that something answered, and a switched-off
	// phone's voicemail answers; ringgate runs no machine detection over
	// SIP yet, so answer_call is refused on a trunk unless its operator
	// sets this (a PBX that only bridges to people, say). With rtp_ports
	// set, answer_call is judged on the audio instead.
	TrustAnswer bool `yaml:"trust_answer"`

	// RTPPorts ("30000-30999") turns on media: voice_otp over this trunk
	// (the dialplan spoken from prompts over RTP) and answer_call judged
	// by answering-machine detection. RTP takes the even ports, RTCP the
	// odd ones; each call holds one pair.
	RTPPorts string `yaml:"rtp_ports"`
	// MediaAddress is the IP written in the SDP offer (the public address
	// behind NAT); default: hostname, else the first listen host, when
	// either is an IP.
	MediaAddress string `yaml:"media_address"`
	// MediaBind is the address the RTP ports are bound on (default 0.0.0.0).
	MediaBind string `yaml:"media_bind"`
	// Prompts is a directory of the operator's own recordings
	// (<locale>/<id>.ul or .wav) replacing the built-in ones of the same name.
	Prompts string `yaml:"prompts"`
	// TTSCommand speaks dialplan text the prompt set has no recording of:
	// argv, "{lang}" replaced by the language, text on stdin, WAV on
	// stdout (["espeak-ng", "-v", "{lang}", "--stdout"]). Without it,
	// dialplans with such text are refused.
	TTSCommand []string `yaml:"tts_command"`
	// InBandDTMF also detects key tones in the audio (trunks that send no
	// RFC 4733 events).
	InBandDTMF bool `yaml:"in_band_dtmf"`
	// MaxCallDuration ends an answered call with media (default 2m).
	MaxCallDuration time.Duration `yaml:"max_call_duration"`
	// AMD holds the answering-machine detection thresholds.
	AMD AMD `yaml:"amd"`
}

// AMD is answering-machine detection's thresholds (zero: the defaults).
type AMD struct {
	// Level is the RMS of a speech frame, in 16-bit units (400).
	Level float64 `yaml:"level"`
	// InitialSilence: no speech this long after answer is "unknown" (2.5s).
	InitialSilence time.Duration `yaml:"initial_silence"`
	// MaxGreeting: a greeting longer than this is a machine (1.5s).
	MaxGreeting time.Duration `yaml:"max_greeting"`
	// Silence: a pause this long after a short greeting is a person (800ms).
	Silence time.Duration `yaml:"silence"`
	// Total bounds the decision; undecided then is "unknown" (4s).
	Total time.Duration `yaml:"total"`
}

// RTPRange parses RTPPorts: ok is false when it is empty.
func (s SIP) RTPRange() (lo, hi int, ok bool, err error) {
	if strings.TrimSpace(s.RTPPorts) == "" {
		return 0, 0, false, nil
	}
	a, b, found := strings.Cut(s.RTPPorts, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !found || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo < 1 {
		return 0, 0, false, fmt.Errorf("rtp_ports: %q is not a range like 30000-30999 within 1024-65535", s.RTPPorts)
	}
	return lo, hi, true, nil
}

// MediaAddr is the IP to advertise in SDP.
func (s SIP) MediaAddr() (netip.Addr, error) {
	cands := []string{s.MediaAddress, s.Hostname}
	if len(s.Listen) > 0 {
		h, _, _ := net.SplitHostPort(s.Listen[0])
		cands = append(cands, h)
	}
	for i, c := range cands {
		if c == "" {
			continue
		}
		ip, err := netip.ParseAddr(c)
		if err != nil || ip.IsUnspecified() {
			if i == 0 {
				return netip.Addr{}, fmt.Errorf("media_address: %q is not an IP address", c)
			}
			continue
		}
		return ip, nil
	}
	return netip.Addr{}, errors.New("rtp_ports needs media_address (the IP to put in SDP): hostname and listen name none")
}

// Trusted parses TrustedNetworks.
func (s SIP) Trusted() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, n := range s.TrustedNetworks {
		p, err := netip.ParsePrefix(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("trusted_networks: %q is not a CIDR prefix", n)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func specificHost(listen []string) bool {
	if len(listen) == 0 {
		return false
	}
	h, _, err := net.SplitHostPort(listen[0])
	return err == nil && h != "" && h != "0.0.0.0" && h != "::"
}

func (s SIP) empty() bool {
	return s.Hostname == "" && len(s.Listen) == 0 && s.Trunk == "" && s.OutboundProxy == "" && s.Country == "" &&
		len(s.TrustedNetworks) == 0 && s.Username == "" && s.Password == "" && !s.Register && !s.PAI && s.RejectStatus == 0 &&
		!s.TrustUDP && !s.AllowDiverted && len(s.TLSListen) == 0 && s.TLSCert == "" && s.TLSKey == "" &&
		s.TCPIdleTimeout == 0 && s.TCPHeaderTimeout == 0 && s.TCPMaxConns == 0 && s.TCPMaxConnsPerSource == 0 &&
		s.UDPResponseRate == 0 && s.UDPResponseBurst == 0 && !s.TrustAnswer && s.RTPPorts == "" && s.MediaAddress == "" &&
		s.MediaBind == "" && s.Prompts == "" && len(s.TTSCommand) == 0 && !s.InBandDTMF && s.MaxCallDuration == 0 && s.AMD == AMD{}
}

func (s SIP) validate() []error {
	var errs []error
	if len(s.Listen) == 0 && len(s.TLSListen) == 0 && s.Trunk == "" {
		errs = append(errs, errors.New("sip: give listen (inbound), trunk (outbound) or both"))
	}
	for _, a := range s.Listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("sip.listen: %q is not host:port", a))
		}
	}
	for _, u := range []struct{ key, v string }{{"trunk", s.Trunk}, {"outbound_proxy", s.OutboundProxy}} {
		if u.v != "" && (strings.ContainsAny(u.v, " \t\r\n<>") || strings.HasPrefix(u.v, "tel:") || strings.Contains(u.v, "@")) {
			errs = append(errs, fmt.Errorf("sip.%s: %q is not sip:host[:port][;params]", u.key, u.v))
		}
	}
	if s.Country != "" && (len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country) {
		errs = append(errs, fmt.Errorf("sip.country: %q is not an ISO region like GB", s.Country))
	}
	if _, err := s.Trusted(); err != nil {
		errs = append(errs, fmt.Errorf("sip.%w", err))
	}
	if (s.Username == "") != (s.Password == "") {
		errs = append(errs, errors.New("sip: username and password go together"))
	}
	if s.Register && s.Trunk == "" {
		errs = append(errs, errors.New("sip.register needs a trunk"))
	}
	if s.Register && s.Hostname == "" && !specificHost(s.Listen) {
		errs = append(errs, errors.New("sip.register needs sip.hostname (the address to register) or a listen address that is not a wildcard"))
	}
	switch s.RejectStatus {
	case 0, 603, 486, 480:
	default:
		errs = append(errs, fmt.Errorf("sip.reject_status: %d is not 603, 486 or 480", s.RejectStatus))
	}
	if len(s.Listen)+len(s.TLSListen) > 0 && len(s.TrustedNetworks) == 0 && s.Password == "" {
		errs = append(errs, errors.New("sip: inbound calls need trusted_networks or username/password (every call would get 403)"))
	}
	if s.TrustUDP && len(s.TrustedNetworks) == 0 {
		errs = append(errs, errors.New("sip.trust_udp needs trusted_networks"))
	}
	for _, a := range s.TLSListen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("sip.tls_listen: %q is not host:port", a))
		}
	}
	if len(s.TLSListen) > 0 && (s.TLSCert == "" || s.TLSKey == "") {
		errs = append(errs, errors.New("sip.tls_listen needs tls_cert and tls_key"))
	}
	if s.TCPIdleTimeout < 0 || s.TCPHeaderTimeout < 0 || s.TCPMaxConns < 0 || s.TCPMaxConnsPerSource < 0 || s.UDPResponseRate < 0 || s.UDPResponseBurst < 0 {
		errs = append(errs, errors.New("sip: tcp_* and udp_response_* limits must not be negative"))
	}
	errs = append(errs, s.validateMedia()...)
	return errs
}

func (s SIP) validateMedia() []error {
	var errs []error
	_, _, on, err := s.RTPRange()
	if err != nil {
		errs = append(errs, fmt.Errorf("sip.%w", err))
	}
	if !on {
		if err == nil && (s.MediaAddress != "" || s.Prompts != "" || len(s.TTSCommand) > 0 || s.InBandDTMF || s.MaxCallDuration != 0 || s.AMD != AMD{}) {
			errs = append(errs, errors.New("sip: media_address, prompts, tts_command, in_band_dtmf, max_call_duration and amd need rtp_ports"))
		}
		return errs
	}
	if s.Trunk == "" {
		errs = append(errs, errors.New("sip.rtp_ports: media is for outbound calls and needs a trunk"))
	}
	if _, err := s.MediaAddr(); err != nil {
		errs = append(errs, fmt.Errorf("sip.%w", err))
	}
	if s.MediaBind != "" {
		if _, err := netip.ParseAddr(s.MediaBind); err != nil {
			errs = append(errs, fmt.Errorf("sip.media_bind: %q is not an IP address", s.MediaBind))
		}
	}
	if s.Prompts != "" {
		if st, err := os.Stat(s.Prompts); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("sip.prompts: %q is not a directory", s.Prompts))
		}
	}
	if len(s.TTSCommand) > 0 {
		if _, err := exec.LookPath(s.TTSCommand[0]); err != nil {
			errs = append(errs, fmt.Errorf("sip.tts_command: %q is not an executable on PATH", s.TTSCommand[0]))
		}
	}
	a := s.AMD
	if s.MaxCallDuration < 0 || a.Level < 0 || a.InitialSilence < 0 || a.MaxGreeting < 0 || a.Silence < 0 || a.Total < 0 {
		errs = append(errs, errors.New("sip: max_call_duration and amd thresholds must not be negative"))
	}
	if a.Total > 10*time.Second {
		errs = append(errs, fmt.Errorf("sip.amd.total: %v is over 10s: a person would hang up before hearing the code", a.Total))
	}
	return errs
}

// AddDevSIP adds dev mode's SIP carrier "sip": inbound on listen (sources
// on loopback trusted), outbound to trunk, which then carries flash and
// answered calls instead of the simulator. Empty arguments add nothing.
func (c *Config) AddDevSIP(listen, trunk string) {
	if listen == "" && trunk == "" {
		return
	}
	// Loopback sources cannot be forged from off the host (the kernel
	// drops a datagram from outside that claims one), so dev mode trusts
	// UDP from loopback too: sipp and softphones on the same machine work.
	s := SIP{Trunk: trunk, TrustedNetworks: []string{"127.0.0.0/8", "::1/128"}, TrustUDP: true}
	if listen != "" {
		s.Listen = []string{listen}
	}
	c.Carriers = append(c.Carriers, Carrier{Name: "sip", Type: "sip", SIP: s})
	if trunk != "" {
		c.Routes = append([]Route{
			{Channel: "flash_call", Carriers: []string{"sip"}},
			{Channel: "answer_call", Carriers: []string{"sip"}},
		}, c.Routes...)
	}
}

// AddDevMedia gives dev mode's SIP trunk media on the RTP port range
// ports ("30000-30099"), advertised as 127.0.0.1 unless hostname says
// otherwise, and routes voice_otp to it. It does nothing without a dev
// trunk or with ports "".
func (c *Config) AddDevMedia(ports string) {
	if ports == "" {
		return
	}
	for i := range c.Carriers {
		cr := &c.Carriers[i]
		if cr.Name != "sip" || cr.Type != "sip" || cr.SIP.Trunk == "" {
			continue
		}
		cr.SIP.RTPPorts = ports
		if cr.SIP.Hostname == "" && !specificHost(cr.SIP.Listen) {
			cr.SIP.MediaAddress = "127.0.0.1"
		}
		c.Routes = append([]Route{{Channel: "voice_otp", Carriers: []string{"sip"}}}, c.Routes...)
		return
	}
}

// Route sends an app's, a country's or a channel's traffic to carriers in
// order; empty or "*" matches all. The first matching route wins.
type Route struct {
	App      string   `yaml:"app"`
	Country  string   `yaml:"country"`
	Channel  string   `yaml:"channel"`
	Carriers []string `yaml:"carriers"`
}

// Jobs configures the runner of outbound commands (calls and texts).
type Jobs struct {
	Interval time.Duration `yaml:"interval"` // longest wait between polls; new jobs wake it at once
	Lease    time.Duration `yaml:"lease"`    // how long a claimed job is held before another node may take it
	Batch    int           `yaml:"batch"`    // most jobs in flight at once on a node; a slow carrier holds only its own
}

// Webhooks configures delivery of webhooks to customers.
type Webhooks struct {
	Timeout   time.Duration `yaml:"timeout"`    // one attempt
	RetryBase time.Duration `yaml:"retry_base"` // first retry after about this long, doubling
	RetryMax  time.Duration `yaml:"retry_max"`  // longest wait between attempts
	MaxAge    time.Duration `yaml:"max_age"`    // give up this long after the event
	Workers   int           `yaml:"workers"`    // deliveries in flight at once
	// Lease is how long a node holds a delivery it is sending; if the node
	// dies, another sends it once the lease has run out. 0: Timeout + 20s.
	// It must exceed Timeout.
	Lease time.Duration `yaml:"lease"`
	// AllowNetworks lists CIDRs callbacks may reach even though they are
	// private (10.0.0.0/8 …). Loopback is allowed only in dev mode, or when
	// listed here.
	AllowNetworks []string `yaml:"allow_networks"`
}

// MissedCall configures the missed-call channel.
type MissedCall struct {
	// RejectStatus is the SIP status inbound verification calls are refused
	// with: 603 (Decline), 486 (Busy Here) or 480 (Temporarily Unavailable).
	RejectStatus int `yaml:"reject_status"`
}

// Expiry configures the expiry sweep.
type Expiry struct {
	// Interval is the longest a sweep waits; it wakes earlier for the next
	// known expiry.
	Interval time.Duration `yaml:"interval"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Defaults returns the configuration of a mode before file and environment.
func Defaults(mode Mode) Config {
	c := Config{
		Mode: mode,
		HTTP: "127.0.0.1:8080",
		Webhooks: Webhooks{
			Timeout: 10 * time.Second, RetryBase: 5 * time.Second, RetryMax: time.Hour,
			MaxAge: 24 * time.Hour, Workers: 8,
		},
		MissedCall: MissedCall{RejectStatus: 603},
		Expiry:     Expiry{Interval: time.Second},
		Jobs:       Jobs{Interval: time.Second, Lease: 30 * time.Second, Batch: 16},
		Log:        Log{Level: "info", Format: "text"},
		Prices:     DefaultPrices(),
		Abuse:      DefaultAbuse(),
		Limits:     DefaultLimits(),
		Retention:  DefaultRetention(),
	}
	if mode == ModeServe {
		c.Log.Format = "json" // structured logs for a log shipper; dev keeps text for people
	}
	if mode == ModeDev {
		c.DataDir = "ringgate-data"
		c.Simulator.Enabled = true
		c.Carriers = []Carrier{{Name: "sim", Type: "sim"}}
		c.Routes = []Route{{Carriers: []string{"sim"}}}
	}
	return c
}

// DefaultLimits are the HTTP limits of a fresh config.
func DefaultLimits() Limits {
	return Limits{
		BodyTimeout:    10 * time.Second,
		MaxConnections: 4096,
		SSE: SSELimits{
			MaxStreams: 2048, MaxPerIP: 128, MaxPerToken: 16,
			Heartbeat: 15 * time.Second, Reread: time.Minute, KeyRecheck: 5 * time.Second,
		},
	}
}

// Load reads a YAML file over the mode's defaults, then the environment.
// Unknown keys in the file are errors, so a typo is not silently ignored.
func Load(mode Mode, path string, env func(string) (string, bool)) (Config, error) {
	c := Defaults(mode)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(env); err != nil {
		return Config{}, err
	}
	return c, nil
}

// envVars maps RINGGATE_* variables onto fields. Kept as one table so the
// README's list and the code cannot disagree.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"RINGGATE_HTTP", func(c *Config, v string) error { c.HTTP = v; return nil }},
	{"RINGGATE_PUBLIC_URL", func(c *Config, v string) error { c.PublicURL = v; return nil }},
	{"RINGGATE_SECRET", func(c *Config, v string) error { c.Secret = v; return nil }},
	{"RINGGATE_DATA_DIR", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"RINGGATE_DATABASE_URL", func(c *Config, v string) error { c.Database.URL = v; return nil }},
	{"RINGGATE_SIMULATOR_ENABLED", func(c *Config, v string) error { return setBool(&c.Simulator.Enabled, v) }},
	{"RINGGATE_WEBHOOKS_ALLOW_NETWORKS", func(c *Config, v string) error {
		c.Webhooks.AllowNetworks = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		return nil
	}},
	{"RINGGATE_WEBHOOKS_RETRY_BASE", func(c *Config, v string) error { return setDuration(&c.Webhooks.RetryBase, v) }},
	{"RINGGATE_MISSED_CALL_REJECT_STATUS", func(c *Config, v string) error { return setInt(&c.MissedCall.RejectStatus, v) }},
	{"RINGGATE_LOG_LEVEL", func(c *Config, v string) error { c.Log.Level = v; return nil }},
	{"RINGGATE_LOG_FORMAT", func(c *Config, v string) error { c.Log.Format = v; return nil }},
	{"RINGGATE_ADMIN_TOKEN", func(c *Config, v string) error { c.Console.AdminToken = v; return nil }},
	{"RINGGATE_PPROF_ADDR", func(c *Config, v string) error { c.Debug.PprofAddr = v; return nil }},
	{"RINGGATE_METRICS_LISTEN", func(c *Config, v string) error { c.Metrics.Listen = v; return nil }},
	{"RINGGATE_LIMITS_MAX_CONNECTIONS", func(c *Config, v string) error { return setInt(&c.Limits.MaxConnections, v) }},
}

// EnvNames lists the environment variables Load reads.
func EnvNames() []string {
	out := make([]string, len(envVars))
	for i, e := range envVars {
		out[i] = e.name
	}
	return out
}

func (c *Config) applyEnv(env func(string) (string, bool)) error {
	if env == nil {
		return nil
	}
	for _, e := range envVars {
		if v, ok := env(e.name); ok && v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("%s: %w", e.name, err)
			}
		}
	}
	return c.applyCarrierEnv(env)
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	*dst = b
	return err
}

func setInt(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	*dst = n
	return err
}

func setDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	*dst = d
	return err
}

// DeliveryLease is the webhook lease in force: Webhooks.Lease, or
// Timeout + 20s when it is not set.
func (c *Config) DeliveryLease() time.Duration {
	if c.Webhooks.Lease > 0 {
		return c.Webhooks.Lease
	}
	return c.Webhooks.Timeout + 20*time.Second
}

// Validate checks the whole configuration and fills derived defaults
// (database URL from the data dir, public URL from the listen address).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
		errs = append(errs, fmt.Errorf("http: %q is not host:port", c.HTTP))
	}
	if c.Database.URL == "" {
		if c.DataDir == "" {
			errs = append(errs, errors.New("database.url is required (sqlite:/path/ringgate.db or postgres://…)"))
		} else {
			c.Database.URL = "sqlite:" + filepath.Join(c.DataDir, "ringgate.db")
		}
	}
	if c.Secret == "" && c.Mode != ModeDev {
		errs = append(errs, errors.New("secret is required: 32 random bytes as hex or base64 (for example `openssl rand -hex 32`); every node needs the same one"))
	} else if c.Secret != "" {
		if _, err := DecodeSecret(c.Secret); err != nil {
			errs = append(errs, fmt.Errorf("secret: %w", err))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public_url: %q is not an http(s) URL", c.PublicURL))
		}
	}
	if _, err := c.AllowedNetworks(); err != nil {
		errs = append(errs, err)
	}
	w := c.Webhooks
	if w.Timeout <= 0 || w.RetryBase <= 0 || w.RetryMax < w.RetryBase || w.MaxAge <= 0 || w.Workers < 1 {
		errs = append(errs, errors.New("webhooks: timeout, retry_base, max_age must be positive, retry_max ≥ retry_base, workers ≥ 1"))
	}
	if w.Lease != 0 && w.Lease <= w.Timeout {
		errs = append(errs, fmt.Errorf("webhooks.lease: %v must exceed webhooks.timeout (%v)", w.Lease, w.Timeout))
	}
	switch c.MissedCall.RejectStatus {
	case 603, 486, 480:
	default:
		errs = append(errs, fmt.Errorf("missed_call.reject_status: %d is not 603, 486 or 480", c.MissedCall.RejectStatus))
	}
	if c.Expiry.Interval <= 0 {
		errs = append(errs, errors.New("expiry.interval must be positive"))
	}
	if err := c.Retention.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Jobs.Interval <= 0 || c.Jobs.Lease < time.Second || c.Jobs.Batch < 1 {
		errs = append(errs, errors.New("jobs: interval must be positive, lease at least 1s, batch at least 1"))
	}
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateCarriers()...)
	errs = append(errs, c.validateWeb()...)
	errs = append(errs, c.Abuse.validate()...)
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

func (c *Config) validateLimits() []error {
	var errs []error
	l := c.Limits
	if l.BodyTimeout <= 0 || l.MaxConnections < 1 {
		errs = append(errs, errors.New("limits: body_timeout must be positive and max_connections at least 1"))
	}
	s := l.SSE
	if s.MaxStreams < 1 || s.MaxPerIP < 1 || s.MaxPerToken < 1 || s.Heartbeat <= 0 || s.Reread <= 0 || s.KeyRecheck <= 0 {
		errs = append(errs, errors.New("limits.sse: max_streams, max_per_ip, max_per_token must be at least 1; heartbeat, reread, key_recheck positive"))
	}
	if s.MaxStreams >= l.MaxConnections {
		errs = append(errs, fmt.Errorf("limits.sse.max_streams (%d) must be below limits.max_connections (%d), or streams can take every connection", s.MaxStreams, l.MaxConnections))
	}
	if a := c.Metrics.Listen; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen: %q is not host:port", a))
		}
	}
	if a := c.Debug.PprofAddr; a != "" {
		host, _, err := net.SplitHostPort(a)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("debug.pprof_addr: %q is not host:port", a))
		case !c.Debug.PprofRemote && !loopbackHost(host):
			errs = append(errs, fmt.Errorf("debug.pprof_addr: %q is not a loopback address; profiles show the process's memory: keep them on 127.0.0.1, or set debug.pprof_remote", a))
		}
	}
	return errs
}

// loopbackHost reports whether host is "localhost" or a loopback IP.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// AllowedNetworks parses Webhooks.AllowNetworks.
func (c *Config) AllowedNetworks() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Webhooks.AllowNetworks {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("webhooks.allow_networks: %q is not a CIDR prefix", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// SimRouteError says that a route sends live traffic to the simulator,
// which outside dev mode needs simulator.enabled: texts and calls to the
// simulator never reach a phone, and whoever can read /sim/phones reads
// the codes.
func SimRouteError(route int, carrier string) error {
	return fmt.Errorf("routes[%d]: carrier %q is the simulator (type: sim), so live verifications would never reach a phone; "+
		"route live traffic to a real carrier, or set simulator.enabled: true (RINGGATE_SIMULATOR_ENABLED=true) to send it to the simulator on purpose, for testing only; "+
		"test keys use the simulator without a route", route, carrier)
}

// CarrierTypes are the carrier types this build knows: the keys of the
// factory table in internal/carrier/parts (its tests check they agree).
var CarrierTypes = map[string]bool{"sim": true, "sip": true, "smpp": true, "twilio": true, "vonage": true, "plivo": true, "telnyx": true}

func (c *Config) validateCarriers() []error {
	var errs []error
	names := map[string]bool{}
	for i, cr := range c.Carriers {
		switch {
		case cr.Name == "":
			errs = append(errs, fmt.Errorf("carriers[%d]: name is required", i))
		case names[cr.Name]:
			errs = append(errs, fmt.Errorf("carriers[%d]: name %q is used twice", i, cr.Name))
		case !CarrierTypes[cr.Type]:
			errs = append(errs, fmt.Errorf("carriers[%d] (%s): type %q is not supported by this build (want sim, sip, smpp, twilio, vonage, plivo or telnyx)", i, cr.Name, cr.Type))
		case cr.SimulateOutage && cr.Type != "sim":
			errs = append(errs, fmt.Errorf("carriers[%d] (%s): simulate_outage is for sim carriers", i, cr.Name))
		case cr.Type != "sip" && !cr.SIP.empty():
			errs = append(errs, fmt.Errorf("carriers[%d] (%s): sip options are for sip carriers", i, cr.Name))
		case !HTTPCarrierTypes[cr.Type] && !cr.HTTP.empty():
			errs = append(errs, fmt.Errorf("carriers[%d] (%s): http options are for twilio, vonage, plivo and telnyx carriers", i, cr.Name))
		case cr.Type != "smpp" && !cr.SMPP.empty():
			errs = append(errs, fmt.Errorf("carriers[%d] (%s): smpp options are for smpp carriers", i, cr.Name))
		case cr.Type == "sip":
			for _, err := range cr.SIP.validate() {
				errs = append(errs, fmt.Errorf("carriers[%d] (%s): %w", i, cr.Name, err))
			}
		case HTTPCarrierTypes[cr.Type]:
			for _, err := range cr.HTTP.validate(cr.Type, c.PublicURL) {
				errs = append(errs, fmt.Errorf("carriers[%d] (%s): %w", i, cr.Name, err))
			}
		case cr.Type == "smpp":
			for _, err := range cr.SMPP.validate() {
				errs = append(errs, fmt.Errorf("carriers[%d] (%s): %w", i, cr.Name, err))
			}
		}
		names[cr.Name] = true
	}
	outbound, simulated := map[string]bool{}, map[string]bool{}
	for _, cr := range c.Carriers {
		outbound[cr.Name] = cr.Type != "sip" || cr.SIP.Trunk != ""
		simulated[cr.Name] = cr.Type == "sim"
	}
	errs = append(errs, c.validateSMPPRoutes()...)
	channels := map[string]bool{"": true, "*": true, "flash_call": true, "answer_call": true, "voice_otp": true, "sms_otp": true}
	for i, r := range c.Routes {
		if !channels[r.Channel] {
			errs = append(errs, fmt.Errorf("routes[%d]: channel %q is not flash_call, answer_call, voice_otp or sms_otp", i, r.Channel))
		}
		if len(r.Carriers) == 0 {
			errs = append(errs, fmt.Errorf("routes[%d]: carriers is empty", i))
		}
		for _, n := range r.Carriers {
			if !names[n] {
				errs = append(errs, fmt.Errorf("routes[%d]: carrier %q is not in carriers", i, n))
			} else if !outbound[n] {
				errs = append(errs, fmt.Errorf("routes[%d]: carrier %q has no sip.trunk, so it cannot place calls", i, n))
			} else if simulated[n] && c.Mode != ModeDev && !c.Simulator.Enabled {
				errs = append(errs, SimRouteError(i, n))
			}
		}
	}
	return errs
}
