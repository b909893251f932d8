// Package plivo is the Plivo carrier: outbound calls through the Call API
// (POST /v1/Account/{auth_id}/Call/, HTTP Basic auth), controlled by Plivo
// XML that ringgate serves from its own webhooks; texts through the
// Message API with delivery-status callbacks; and inbound calls to pool
// numbers for missed_call verification, refused with
// <Hangup reason="rejected"/> before they are answered.
//
// Webhooks are served under PublicURL+"/carriers/"+Name and authenticated
// with Plivo's signature V3 (X-Plivo-Signature-V3 and its nonce: HMAC-
// SHA256 with the auth token over the URL, the sorted POST parameters and
// the nonce), required on call webhooks; V2 (URL without query and nonce,
// so it binds no parameters) only on message callbacks, whose path names
// the message. A nonce is accepted once within NonceWindow. Anything
// unsigned, badly signed or replayed gets 403 and is counted in Rejected.
//
// Routes (after the server strips the prefix):
//
//	/answer      answer_url: inbound calls (no id) and ringgate's own calls
//	/ring        ring_url: the callee's phone rings (flash calls end here)
//	/hangup      hangup_url: the call is over
//	/digits      GetDigits action: DTMF (or its timeout) for voice_otp
//	/sms-status/{id}  message status callbacks (the id in the path, which V2 signs)
//
// State ringgate needs across webhooks rides in the URLs it gives Plivo,
// sealed with AES-GCM (httpcarrier.Sealer): the kind of call, and for
// voice_otp the dialplan session with its variables (the code).
package plivo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// DefaultAPIBase is Plivo's API root.
const DefaultAPIBase = "https://api.plivo.com"

// Config configures one Plivo account.
type Config struct {
	Name      string // the carrier's name in ringgate's config
	AuthID    string // the account's Auth ID (HTTP Basic user, part of every API path)
	AuthToken string // the Auth Token (HTTP Basic password; the key of webhook signatures)
	APIBase   string // "" is DefaultAPIBase; tests point it at a local server
	PublicURL string // ringgate's external base URL
	From      []string
	Country   string // ISO region for national-format numbers in webhooks
	Secret    []byte // seals the state ringgate puts in its callback URLs
	Inbound   carrier.InboundHandler
	Events    carrier.EventHandler
	Client    *http.Client // nil: httpcarrier.NewClient()
	Logger    *slog.Logger
	Now       func() time.Time // nil is time.Now
}

// Carrier is one Plivo account: a carrier.Sender and the http.Handler of
// its webhooks.
type Carrier struct {
	cfg      Config
	base     string
	seal     *httpcarrier.Sealer
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	refusals httpcarrier.Refusals
	nonces   httpcarrier.Ledger   // signature nonces seen within NonceWindow
	from     *httpcarrier.Senders // round robin over From

	em    httpcarrier.Emitter
	calls httpcarrier.Memos[callMemo]
}

// callMemo is what a node remembers about a call between webhooks; lost
// to a restart, it only makes an ended call's cause less precise.
type callMemo struct {
	machine  bool   // answer_url said Machine=true
	dropped  bool   // ringgate hung it up on ringing
	callUUID string // the CallUUID ring_url or answer_url named, for EndCall
}

var (
	_ carrier.Sender = (*Carrier)(nil)
	_ http.Handler   = (*Carrier)(nil)
)

// New checks cfg and builds the carrier.
func New(cfg Config) (*Carrier, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("plivo: a name is required")
	case cfg.AuthID == "" || cfg.AuthToken == "":
		return nil, fmt.Errorf("plivo %s: account_id (auth id) and auth_token are required", cfg.Name)
	case cfg.PublicURL == "":
		return nil, fmt.Errorf("plivo %s: public_url is required (Plivo calls ringgate back there)", cfg.Name)
	case cfg.Events == nil || cfg.Inbound == nil:
		return nil, fmt.Errorf("plivo %s: an inbound and an event handler are required", cfg.Name)
	}
	c := &Carrier{
		cfg: cfg, base: DefaultAPIBase, client: httpcarrier.ClientOr(cfg.Client),
		log: cfg.Logger, now: cfg.Now, from: httpcarrier.NewSenders(cfg.From),
	}
	if cfg.APIBase != "" {
		c.base = strings.TrimRight(cfg.APIBase, "/")
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
	s, err := httpcarrier.NewSealer(cfg.Secret, "plivo/"+cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("plivo %s: %w", cfg.Name, err)
	}
	c.seal = s
	return c, nil
}

// Name is the carrier's configured name.
func (c *Carrier) Name() string { return c.cfg.Name }

// Rejected counts webhooks refused for a bad or missing signature.
func (c *Carrier) Rejected() uint64 { return c.refusals.Count() }

// Metrics exports the refused-webhook count.
func (c *Carrier) Metrics() []carrier.Metric { return []carrier.Metric{c.refusals.Metric()} }

// The parts of the carrier lifecycle a Plivo account has.
var (
	_ carrier.Sender          = (*Carrier)(nil)
	_ carrier.WebhookHandler  = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

func (c *Carrier) memo(id string, create bool) *callMemo { return c.calls.Get(id, create, c.now()) }

func (c *Carrier) forget(id string) { c.calls.Forget(id) }

func (c *Carrier) event(ctx context.Context, e carrier.Event) { _ = c.em.Emit(ctx, e) }
