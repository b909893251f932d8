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
	Retention  Retention  `yaml:"retention"`
}

// Debug holds operator tools that are off by default.
type Debug struct {
	// PprofAddr, when set, serves Go's net/http/pprof profiles on their own
	// listener (keep it on loopback: profiles show the process's insides).
	PprofAddr string `yaml:"pprof_addr"`
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
	// TrustedNetworks are source CIDRs admitted without authentication,
	// whose P-Asserted-Identity is believed.
	TrustedNetworks []string `yaml:"trusted_networks"`
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
		len(s.TrustedNetworks) == 0 && s.Username == "" && s.Password == "" && !s.Register && !s.PAI && s.RejectStatus == 0
}

func (s SIP) validate() []error {
	var errs []error
	if len(s.Listen) == 0 && s.Trunk == "" {
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
	if len(s.Listen) > 0 && len(s.TrustedNetworks) == 0 && s.Password == "" {
		errs = append(errs, errors.New("sip: inbound calls need trusted_networks or username/password (every call would get 403)"))
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
	s := SIP{Trunk: trunk, TrustedNetworks: []string{"127.0.0.0/8", "::1/128"}}
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

// Carrier types this build knows.
var carrierTypes = map[string]bool{"sim": true, "sip": true, "smpp": true, "twilio": true, "vonage": true, "plivo": true, "telnyx": true}

func (c *Config) validateCarriers() []error {
	var errs []error
	names := map[string]bool{}
	for i, cr := range c.Carriers {
		switch {
		case cr.Name == "":
			errs = append(errs, fmt.Errorf("carriers[%d]: name is required", i))
		case names[cr.Name]:
			errs = append(errs, fmt.Errorf("carriers[%d]: name %q is used twice", i, cr.Name))
		case !carrierTypes[cr.Type]:
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
	outbound := map[string]bool{}
	for _, cr := range c.Carriers {
		outbound[cr.Name] = cr.Type != "sip" || cr.SIP.Trunk != ""
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
			}
		}
	}
	return errs
}
