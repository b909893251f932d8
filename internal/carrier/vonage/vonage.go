// Package vonage is the Vonage (formerly Nexmo) carrier: outbound calls
// through the Voice API (POST /v1/calls with an RS256 JWT of the
// application), controlled by NCCOs that ringgate serves from its own
// webhooks; texts through the SMS API (POST /sms/json with api_key and
// api_secret) with delivery receipts; and inbound calls to pool numbers
// for missed_call verification.
//
// Webhooks are served under PublicURL+"/carriers/"+Name and authenticated
// the way Vonage signs them: voice webhooks carry a JWT (HS256 with the
// account's signature secret) in "Authorization: Bearer" whose
// payload_hash claim is the SHA-256 of the body (so voice webhooks must be
// POST with a body: a GET's query would be unsigned) and whose jti is
// accepted once; SMS delivery receipts
// carry a "sig" parameter (MD5 hash, or an MD5/SHA-1/SHA-256/SHA-512
// HMAC, whichever the account is set to). Anything unsigned or badly
// signed gets 403 and is counted in Rejected.
//
// Routes (after the server strips the prefix):
//
//	/answer      answer_url: inbound calls (rejected with an empty NCCO) and
//	             ringgate's own outbound calls (id, s in the query)
//	/event       event_url: call status (ringing, answered, machine, completed …)
//	/input       the input action's eventUrl: DTMF for voice_otp
//	/sms-status  delivery receipts of the SMS API
//
// State ringgate needs across webhooks (which call, what kind, the
// dialplan position and its variables, which hold the code) rides in the
// URLs it gives Vonage, sealed with AES-GCM (httpcarrier.Sealer), never in
// the clear.
package vonage

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// Vonage's API roots: the Voice API and the SMS API live on different hosts.
const (
	DefaultVoiceBase = "https://api.nexmo.com"
	DefaultSMSBase   = "https://rest.nexmo.com"
)

// Config configures one Vonage account.
type Config struct {
	Name string // the carrier's name in ringgate's config
	// SMS API credentials.
	APIKey, APISecret string
	// Voice API: the application's id and its private key (PEM, PKCS#8
	// or PKCS#1), which signs the RS256 JWT of every Voice API request.
	ApplicationID string
	PrivateKey    []byte
	// SignatureSecret verifies Vonage's signed webhooks (JWT HS256 for
	// voice, the sig parameter for SMS receipts).
	SignatureSecret string
	// APIBase, when set, replaces both API roots (tests point it at a
	// local server); "" uses DefaultVoiceBase and DefaultSMSBase.
	APIBase   string
	PublicURL string   // ringgate's external base URL
	From      []string // default caller IDs / sender (E.164)
	Country   string   // ISO region for national-format numbers in webhooks
	Secret    []byte   // seals the state ringgate puts in its callback URLs
	Inbound   carrier.InboundHandler
	Events    carrier.EventHandler
	Client    *http.Client // nil: httpcarrier.NewClient()
	Logger    *slog.Logger
	// Now is the clock (JWT iat/exp); nil is time.Now.
	Now func() time.Time
}

// Carrier is one Vonage account: a carrier.Sender and the http.Handler of
// its webhooks.
type Carrier struct {
	cfg       Config
	voiceBase string
	smsBase   string
	key       *rsa.PrivateKey
	seal      *httpcarrier.Sealer
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time
	refusals  httpcarrier.Refusals
	jtis      httpcarrier.Ledger   // jti of webhook tokens, for as long as a token is accepted
	from      *httpcarrier.Senders // round robin over From

	em    httpcarrier.Emitter
	calls httpcarrier.Memos[callMemo] // by ringgate call id
}

// callMemo is what a node remembers about one of its calls between
// event webhooks (Vonage sends them all to the node behind PublicURL; a
// memo lost to a restart only makes an ended call's cause less precise).
type callMemo struct {
	machine bool // Vonage reported an answering machine
	dropped bool // we hung it up on ringing (flash call)
}

var (
	_ carrier.Sender = (*Carrier)(nil)
	_ http.Handler   = (*Carrier)(nil)
)

// New checks cfg and builds the carrier.
func New(cfg Config) (*Carrier, error) {
	if cfg.Name == "" {
		return nil, errors.New("vonage: a name is required")
	}
	if cfg.PublicURL == "" {
		return nil, fmt.Errorf("vonage %s: public_url is required (Vonage calls ringgate back there)", cfg.Name)
	}
	if cfg.SignatureSecret == "" {
		return nil, fmt.Errorf("vonage %s: signature_secret is required: webhooks are authenticated with it", cfg.Name)
	}
	if cfg.Events == nil || cfg.Inbound == nil {
		return nil, fmt.Errorf("vonage %s: an inbound and an event handler are required", cfg.Name)
	}
	c := &Carrier{
		cfg: cfg, voiceBase: DefaultVoiceBase, smsBase: DefaultSMSBase,
		client: httpcarrier.ClientOr(cfg.Client), log: cfg.Logger, now: cfg.Now, from: httpcarrier.NewSenders(cfg.From),
	}
	if cfg.APIBase != "" {
		base := strings.TrimRight(cfg.APIBase, "/")
		c.voiceBase, c.smsBase = base, base
	}
	c.cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With(slog.String("carrier", cfg.Name))
	if c.now == nil {
		c.now = time.Now
	}
	c.em = httpcarrier.Emitter{Carrier: cfg.Name, Events: cfg.Events, Now: c.now, Log: c.log}
	if len(cfg.PrivateKey) > 0 {
		k, err := parseRSAKey(cfg.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("vonage %s: private key: %w", cfg.Name, err)
		}
		c.key = k
	}
	s, err := httpcarrier.NewSealer(cfg.Secret, "vonage/"+cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("vonage %s: %w", cfg.Name, err)
	}
	c.seal = s
	return c, nil
}

// Name is the carrier's configured name.
func (c *Carrier) Name() string { return c.cfg.Name }

// Rejected counts webhooks refused for a bad or missing signature.
func (c *Carrier) Rejected() uint64 { return c.refusals.Count() }

// from picks the caller ID: the command's, else the configured ones in turn.
// Metrics exports the refused-webhook count.
func (c *Carrier) Metrics() []carrier.Metric { return []carrier.Metric{c.refusals.Metric()} }

// The parts of the carrier lifecycle a Vonage account has.
var (
	_ carrier.Sender          = (*Carrier)(nil)
	_ carrier.WebhookHandler  = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

func (c *Carrier) memo(id string, create bool) *callMemo { return c.calls.Get(id, create, c.now()) }

func (c *Carrier) forget(id string) { c.calls.Forget(id) }

// event hands e to the domain, logging a failure (Vonage does not retry
// event webhooks on error, so there is nothing else to do).
func (c *Carrier) event(ctx context.Context, e carrier.Event) { _ = c.em.Emit(ctx, e) }
