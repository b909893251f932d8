// Package telnyx is ringgate's Telnyx carrier: a thin adapter over
// net/http, Telnyx's API v2 and TeXML (Telnyx's TwiML-compatible
// call-control markup).
//
//   - Calls: POST /v2/texml/calls/{connection_id} (JSON, Bearer API key),
//     the TeXML application's connection id in ConnectionID. flash_call is
//     ended on its "ringing" status callback (POST
//     /v2/texml/Accounts/{AccountSid}/Calls/{CallSid}, Status=completed);
//     answer_call asks for answering-machine detection (MachineDetection
//     Enable) and takes the verdict (AnsweredBy) at /answered, which hangs
//     up; a call whose step is over is ended (POST
//     /v2/texml/calls/{CallSid}/update, Status=completed); voice_otp runs
//     ringgate's dialplan as TeXML <Say>/<Gather>/<Hangup> with sealed
//     gather URLs and answering-machine detection.
//   - SMS: POST /v2/messages with a webhook_url; the message.finalized
//     event (JSON) says whether it was delivered.
//   - Inbound calls (missed_call): the TeXML application's voice URL
//     (…/voice) is answered with <Reject/>.
//   - Every webhook must carry telnyx-signature-ed25519 over
//     "{telnyx-timestamp}|{raw body}", verified with the account's public
//     key, and a timestamp within 5 minutes; others get 403 and are
//     counted (Rejected).
//
// Webhook paths, under PublicURL + "/carriers/" + Name:
//
//	/voice        incoming calls (the TeXML application's voice URL)
//	/answer       TeXML for an outbound voice_otp call when it is answered
//	/answered     answer_call's answer, judged by machine detection: <Hangup/>
//	/gather       a voice_otp menu's digits (or silence)
//	/call-status  outbound call status callbacks
//	/sms-status   messaging webhooks (message.sent, message.finalized)
package telnyx

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// DefaultAPIBase is Telnyx's API v2 root.
const DefaultAPIBase = "https://api.telnyx.com/v2"

// MaxSkew is how far a webhook's telnyx-timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Config configures a Telnyx carrier.
type Config struct {
	Name         string // the carrier's name in ringgate's config
	APIKey       string // API v2 key ("KEY…"), sent as a Bearer token
	PublicKey    string // the account's webhook public key: base64 of 32 Ed25519 bytes (Mission Control → Keys & Credentials → Public Key)
	ConnectionID string // the TeXML application's id: outbound calls go out through it
	// MessagingProfileID is sent with texts when set (needed for
	// alphanumeric senders and number pools); "" sends from From alone.
	MessagingProfileID string
	APIBase            string // default DefaultAPIBase; tests point it at httptest
	PublicURL          string // ringgate's external base URL; Telnyx calls PublicURL+"/carriers/"+Name+"/…"
	From               []string
	Country            string
	Secret             []byte
	Inbound            carrier.InboundHandler
	Events             carrier.EventHandler
	Client             *http.Client
	Logger             *slog.Logger
	Now                func() time.Time // nil: time.Now
}

// Carrier is a Telnyx account used as a ringgate carrier.
type Carrier struct {
	cfg     Config
	pub     ed25519.PublicKey
	client  *http.Client
	log     *slog.Logger
	seal    *httpcarrier.Sealer
	voice   httpcarrier.TwiMLVoice // /answer, /gather and emitting events
	refused httpcarrier.Refusals
	mux     *http.ServeMux
	from    *httpcarrier.Senders // round robin over From
}

// ParsePublicKey reads the account's webhook public key (base64, 32 bytes).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("telnyx: public_key must be the account's Ed25519 public key, base64 (32 bytes)")
	}
	return ed25519.PublicKey(b), nil
}

// New checks cfg and builds the carrier.
func New(cfg Config) (*Carrier, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("telnyx: name is required"))
	}
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("telnyx: api_key is required"))
	}
	pub, err := ParsePublicKey(cfg.PublicKey)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.ConnectionID != "" && strings.ContainsAny(cfg.ConnectionID, "/?#% ") {
		errs = append(errs, errors.New("telnyx: connection_id is not an id"))
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("telnyx: public_url must be ringgate's external http(s) URL (Telnyx calls it back)"))
	}
	if cfg.Events == nil || cfg.Inbound == nil {
		errs = append(errs, errors.New("telnyx: inbound and event handlers are required"))
	}
	seal, err := httpcarrier.NewSealer(cfg.Secret, "telnyx:"+cfg.Name)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Carrier{cfg: cfg, pub: pub, client: httpcarrier.ClientOr(cfg.Client), log: cfg.Logger, seal: seal, mux: http.NewServeMux(), from: httpcarrier.NewSenders(cfg.From)}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.voice = httpcarrier.TwiMLVoice{
		Emitter: httpcarrier.Emitter{Carrier: cfg.Name, Events: cfg.Events, Now: cfg.Now, Log: c.log},
		Seal:    seal, Callback: c.callback, Inbound: cfg.Inbound, Country: cfg.Country,
	}
	c.mux.HandleFunc("POST /voice", c.signed(c.form(c.voice.Incoming)))
	c.mux.HandleFunc("POST /answer", c.signed(c.form(c.voice.Answer)))
	c.mux.HandleFunc("POST /answered", c.signed(c.form(c.voice.AnswerOnly)))
	c.mux.HandleFunc("POST /gather", c.signed(c.form(c.voice.Gather)))
	c.mux.HandleFunc("POST /call-status", c.signed(c.form(c.handleCallStatus)))
	c.mux.HandleFunc("POST /sms-status", c.signed(c.handleSMSStatus))
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpcarrier.Problem(w, http.StatusNotFound, "no_such_route", "no Telnyx webhook at "+r.URL.Path)
	})
	return c, nil
}

// Name is the carrier's name in ringgate's config.
func (c *Carrier) Name() string { return c.cfg.Name }

// Rejected counts webhooks refused for a missing or bad signature.
func (c *Carrier) Rejected() uint64 { return c.refused.Count() }

// ServeHTTP serves Telnyx's webhooks (the server strips /carriers/{name}).
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func (c *Carrier) callback(path string, q url.Values) string {
	return httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, path, q)
}

// Metrics exports the refused-webhook count.
func (c *Carrier) Metrics() []carrier.Metric { return []carrier.Metric{c.refused.Metric()} }

// The parts of the carrier lifecycle a Telnyx account has.
var (
	_ carrier.Sender          = (*Carrier)(nil)
	_ carrier.WebhookHandler  = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

// apiErrors is Telnyx's error body:
// {"errors": [{"code": "10015", "title": "Invalid value", "detail": "…", "source": {"pointer": "/to"}}]}.
type apiErrors struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// classify turns a failed response into a *carrier.Error. By status:
// 5xx (10007 unexpected error), 429 (10011 too many requests) and 408
// retryable; 4xx terminal — 401 10009 authentication failed, 403 10010
// not permitted, 404 10005 not found, 422 10015/10016 invalid or missing
// field, 40300 blocked destination, 40310/40311 invalid to/from number,
// 40001 not routable.
func (c *Carrier) classify(res httpcarrier.Response) error {
	var e apiErrors
	_ = json.Unmarshal(res.Body, &e)
	code, msg := "", ""
	if len(e.Errors) > 0 {
		code, msg = e.Errors[0].Code, e.Errors[0].Title
		if e.Errors[0].Detail != "" {
			msg += ": " + e.Errors[0].Detail
		}
	}
	var force *bool
	if code == "10011" {
		force = httpcarrier.Bool(true)
	}
	return httpcarrier.Classify(c.cfg.Name, res.Status, code, msg, force)
}

func (c *Carrier) do(req *http.Request, err error) (httpcarrier.Response, error) {
	if err != nil {
		return httpcarrier.Response{}, &carrier.Error{Carrier: c.cfg.Name, Code: "request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	res, err := httpcarrier.Do(c.client, c.cfg.Name, req)
	if err != nil {
		return res, err
	}
	if !res.OK() {
		return res, c.classify(res)
	}
	return res, nil
}

// Verify checks a webhook's Ed25519 signature: sig (base64) over
// timestamp + "|" + body, by pub, with the timestamp within MaxSkew of now.
func Verify(pub ed25519.PublicKey, timestamp, sig string, body []byte, now time.Time) error {
	if timestamp == "" || sig == "" {
		return errors.New("no telnyx-timestamp or telnyx-signature-ed25519")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("telnyx-timestamp is not a number")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("telnyx-timestamp is %v away from now", d.Round(time.Second))
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return errors.New("telnyx-signature-ed25519 is not a base64 Ed25519 signature")
	}
	msg := make([]byte, 0, len(timestamp)+1+len(body))
	msg = append(append(append(msg, timestamp...), '|'), body...)
	if !ed25519.Verify(pub, msg, raw) {
		return errors.New("signature does not verify")
	}
	return nil
}

type bodyHandler func(http.ResponseWriter, *http.Request, []byte)

// signed reads the body and checks its signature before h sees it.
func (c *Carrier) signed(h bodyHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := httpcarrier.ReadBody(r)
		if err != nil {
			httpcarrier.Problem(w, http.StatusRequestEntityTooLarge, "body_too_large", err.Error())
			return
		}
		if err := Verify(c.pub, r.Header.Get("telnyx-timestamp"), r.Header.Get("telnyx-signature-ed25519"), body, c.cfg.Now()); err != nil {
			c.refused.Refuse(w, r, c.log, c.cfg.Name, err.Error())
			return
		}
		h(w, r, body)
	}
}

// form parses a TeXML callback's form body.
func (c *Carrier) form(h func(http.ResponseWriter, *http.Request, url.Values)) bodyHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		p, err := httpcarrier.FormParams(r, body)
		if err != nil {
			httpcarrier.Problem(w, http.StatusBadRequest, "malformed_body", err.Error())
			return
		}
		h(w, r, p)
	}
}

func (c *Carrier) emit(ctx context.Context, e carrier.Event) error { return c.voice.Emit(ctx, e) }
