// Package twilio is ringgate's Twilio carrier: a thin adapter over
// net/http and Twilio's REST API (2010-04-01) and TwiML.
//
//   - Calls: POST /2010-04-01/Accounts/{AccountSid}/Calls.json. flash_call
//     rings with the code-carrying caller ID and is cancelled on the
//     "ringing" status callback (POST …/Calls/{Sid}.json Status=canceled);
//     answer_call asks for answering-machine detection (MachineDetection=
//     Enable) and takes the verdict (AnsweredBy) at /answered, which hangs
//     up; a call whose step is over is ended (POST …/Calls/{Sid}.json
//     Status=completed, EndCall); voice_otp
//     runs ringgate's dialplan as TwiML <Say>/<Gather>/<Hangup>, carrying
//     the session in sealed gather URLs, with answering-machine detection
//     (MachineDetection=Enable).
//   - SMS: POST …/Messages.json with a StatusCallback.
//   - Inbound calls to a pool number (missed_call): the number's "A call
//     comes in" webhook (…/voice) is answered with <Reject/>.
//   - Every webhook must carry a valid X-Twilio-Signature (HMAC-SHA1 of the
//     full URL and the sorted POST parameters, keyed by the auth token);
//     others get 403 and are counted (Rejected).
//
// Webhook paths, under PublicURL + "/carriers/" + Name:
//
//	/voice        incoming calls (paste into the number's configuration)
//	/answer       TwiML for an outbound call when it is answered
//	/answered     answer_call's answer, judged by machine detection: <Hangup/>
//	/gather       a voice_otp menu's digits (or silence)
//	/call-status  outbound call status callbacks
//	/sms-status   message status callbacks
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// DefaultAPIBase is Twilio's REST API root.
const DefaultAPIBase = "https://api.twilio.com"

// Config configures a Twilio carrier.
type Config struct {
	Name       string // the carrier's name in ringgate's config
	AccountSID string // "AC…": the REST API's user name and the account in its URLs
	AuthToken  string // the REST API's password and the webhook signing key
	APIBase    string // default DefaultAPIBase; tests point it at httptest
	PublicURL  string // ringgate's external base URL; Twilio calls PublicURL+"/carriers/"+Name+"/…"
	From       []string
	Country    string // ISO region for national-format numbers in webhooks
	Secret     []byte // seals state in ringgate's own callback URLs
	Inbound    carrier.InboundHandler
	Events     carrier.EventHandler
	Client     *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
}

// Carrier is a Twilio account used as a ringgate carrier.
type Carrier struct {
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	seal    *httpcarrier.Sealer
	voice   httpcarrier.TwiMLVoice // /answer, /gather and emitting events
	refused httpcarrier.Refusals
	mux     *http.ServeMux
	from    *httpcarrier.Senders // round robin over From
}

// New checks cfg and builds the carrier.
func New(cfg Config) (*Carrier, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("twilio: name is required"))
	}
	if !strings.HasPrefix(cfg.AccountSID, "AC") || len(cfg.AccountSID) < 10 || strings.ContainsAny(cfg.AccountSID, "/?#% ") {
		errs = append(errs, errors.New("twilio: account_id must be the account SID (AC…)"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("twilio: auth_token is required"))
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("twilio: public_url must be ringgate's external http(s) URL (Twilio calls it back)"))
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Events == nil || cfg.Inbound == nil {
		errs = append(errs, errors.New("twilio: inbound and event handlers are required"))
	}
	seal, err := httpcarrier.NewSealer(cfg.Secret, "twilio:"+cfg.Name)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Carrier{cfg: cfg, client: httpcarrier.ClientOr(cfg.Client), log: cfg.Logger, seal: seal, mux: http.NewServeMux(), from: httpcarrier.NewSenders(cfg.From)}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.voice = httpcarrier.TwiMLVoice{
		Emitter: httpcarrier.Emitter{Carrier: cfg.Name, Events: cfg.Events, Now: cfg.Now, Log: c.log},
		Seal:    seal, Callback: c.callback, Inbound: cfg.Inbound, Country: cfg.Country,
	}
	c.mux.HandleFunc("POST /voice", c.signed(c.incoming))
	c.mux.HandleFunc("POST /answer", c.signed(c.voice.Answer))
	c.mux.HandleFunc("POST /answered", c.signed(c.voice.AnswerOnly))
	c.mux.HandleFunc("POST /gather", c.signed(c.voice.Gather))
	c.mux.HandleFunc("POST /call-status", c.signed(c.handleCallStatus))
	c.mux.HandleFunc("POST /sms-status", c.signed(c.handleSMSStatus))
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpcarrier.Problem(w, http.StatusNotFound, "no_such_route", "no Twilio webhook at "+r.URL.Path)
	})
	return c, nil
}

// Name is the carrier's name in ringgate's config.
func (c *Carrier) Name() string { return c.cfg.Name }

// Rejected counts webhooks refused for a missing or bad signature.
func (c *Carrier) Rejected() uint64 { return c.refused.Count() }

// ServeHTTP serves Twilio's webhooks (the server strips /carriers/{name}).
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func (c *Carrier) accountURL(path string) string {
	return c.cfg.APIBase + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + path
}

func (c *Carrier) callback(path string, q url.Values) string {
	return httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, path, q)
}

// Metrics exports the refused-webhook count.
func (c *Carrier) Metrics() []carrier.Metric { return []carrier.Metric{c.refused.Metric()} }

// The parts of the carrier lifecycle a Twilio account has.
var (
	_ carrier.Sender          = (*Carrier)(nil)
	_ carrier.WebhookHandler  = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

// apiError is Twilio's error body:
// {"code": 21211, "message": "…", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// classify turns a failed Twilio response into a *carrier.Error. By
// status: 5xx (20500 internal error, 20503 unavailable), 429 (20429 too
// many requests) and 408 are retryable; other 4xx are terminal — 20003
// authentication, 20404 not found, 21211 invalid To, 21212 invalid From,
// 21214 To not reachable, 21215/21408 geo permissions, 21610 unsubscribed
// recipient, 21612 unroutable, 21614 not a mobile number. One exception:
// 20429 is retryable even if it came with another status.
func (c *Carrier) classify(res httpcarrier.Response) error {
	var e apiError
	_ = json.Unmarshal(res.Body, &e)
	code := ""
	if e.Code != 0 {
		code = strconv.Itoa(e.Code)
	}
	var force *bool
	if e.Code == 20429 {
		force = httpcarrier.Bool(true)
	}
	return httpcarrier.Classify(c.cfg.Name, res.Status, code, e.Message, force)
}

// post sends a form to the REST API with the account's basic auth and
// returns the resource's sid.
func (c *Carrier) post(ctx context.Context, path string, form url.Values) (string, error) {
	req, err := httpcarrier.NewFormRequest(ctx, c.accountURL(path), form)
	if err != nil {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "request", Err: err}
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	res, err := httpcarrier.Do(c.client, c.cfg.Name, req)
	if err != nil {
		return "", err
	}
	if !res.OK() {
		return "", c.classify(res)
	}
	var ok struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(res.Body, &ok); err != nil || ok.Sid == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("HTTP %d without a sid", res.Status)}
	}
	return ok.Sid, nil
}

// Signature computes X-Twilio-Signature for a request to fullURL (with
// its query) carrying the POST params: base64(HMAC-SHA1(authToken, URL
// followed by each parameter's name and value, sorted by name)).
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs) // repeated names: Twilio's libraries sort the values too
		for _, v := range vs {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature reports whether sig is Signature(authToken, fullURL,
// params), in constant time.
func ValidSignature(authToken, sig, fullURL string, params url.Values) bool {
	if sig == "" {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(Signature(authToken, fullURL, params)))
}

// signed parses a webhook's form body and checks its signature before h
// sees it. The URL Twilio signed is the one ringgate gave it:
// PublicURL + "/carriers/" + Name + path + query.
func (c *Carrier) signed(h func(http.ResponseWriter, *http.Request, url.Values)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := httpcarrier.ReadBody(r)
		if err != nil {
			httpcarrier.Problem(w, http.StatusRequestEntityTooLarge, "body_too_large", err.Error())
			return
		}
		params, err := httpcarrier.FormParams(r, body)
		if err != nil {
			httpcarrier.Problem(w, http.StatusBadRequest, "malformed_body", err.Error())
			return
		}
		full := c.cfg.PublicURL + "/carriers/" + url.PathEscape(c.cfg.Name) + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			full += "?" + r.URL.RawQuery
		}
		sig := r.Header.Get("X-Twilio-Signature")
		if sig == "" {
			c.refused.Refuse(w, r, c.log, c.cfg.Name, "no X-Twilio-Signature")
			return
		}
		if !ValidSignature(c.cfg.AuthToken, sig, full, params) && !ValidSignature(c.cfg.AuthToken, sig, otherPort(full), params) {
			c.refused.Refuse(w, r, c.log, c.cfg.Name, "bad X-Twilio-Signature")
			return
		}
		// A webhook is about this account: Twilio sends AccountSid with
		// every one; when present it must be ours.
		if a := params.Get("AccountSid"); a != "" && a != c.cfg.AccountSID {
			c.refused.Refuse(w, r, c.log, c.cfg.Name, "AccountSid of another account")
			return
		}
		h(w, r, params)
	}
}

// otherPort returns u with its default port made explicit, or removed
// when explicit: Twilio may sign either form (its own validators try both).
// "" when the port is not the scheme's default.
func otherPort(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	def := map[string]string{"https": "443", "http": "80"}[p.Scheme]
	switch p.Port() {
	case "":
		p.Host += ":" + def
	case def:
		p.Host = p.Hostname()
	default:
		return ""
	}
	return p.String()
}

func (c *Carrier) emit(ctx context.Context, e carrier.Event) error { return c.voice.Emit(ctx, e) }

// ValidCallSid reports whether s is a Twilio call SID: "CA" and 32
// lower-case hex digits. Nothing else is accepted where a call id matters,
// so that a value cannot absorb its neighbour in the signed string (the
// signature runs names and values together without separators).
func ValidCallSid(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "CA") {
		return false
	}
	for _, r := range s[2:] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// incoming serves "A call comes in". The call id is what makes a replay
// of this webhook an idempotent no-op (the domain answers a call id it has
// seen with its first answer), and Twilio's signature lets a replay move a
// parameter's boundary ("CallSid"="CA…" signs as "CallSi"="dCA…"): so the
// webhook must carry a well-formed CallSid, and AccountSid naming this
// account, or it is refused.
func (c *Carrier) incoming(w http.ResponseWriter, r *http.Request, p url.Values) {
	if p.Get("AccountSid") != c.cfg.AccountSID {
		c.refused.Refuse(w, r, c.log, c.cfg.Name, "inbound call without this account's AccountSid")
		return
	}
	if !ValidCallSid(p.Get("CallSid")) || len(p["CallSid"]) != 1 {
		httpcarrier.Problem(w, http.StatusBadRequest, "invalid_parameter", "CallSid must be one call SID (CA and 32 hex digits)")
		return
	}
	c.voice.Incoming(w, r, p)
}
