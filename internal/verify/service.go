package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ringgate/ringgate/internal/i18n"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/seal"
)

// Limits on what a start request may carry.
const (
	DefaultTimeout   = 180 * time.Second
	MinTimeout       = 10 * time.Second
	MaxTimeout       = time.Hour
	MaxMetadataKeys  = 20
	MaxMetadataKey   = 40
	MaxMetadataValue = 500
	MaxIdempotency   = 255
)

// Config wires a Service.
type Config struct {
	Store     Store
	Publisher Publisher // may be nil
	// Secret keys client tokens and code hashes. At least 32 bytes.
	Secret []byte
	Now    func() time.Time // defaults to time.Now
	Logger *slog.Logger
	// CheckCallbackURL validates a callback URL when a request or an app
	// names one (scheme, host, refused networks). nil accepts any http(s) URL.
	CheckCallbackURL func(raw string) error
	// CheckDialplan refuses an app's dialplan that a carrier could not
	// speak (a SIP trunk with recorded prompts and no TTS, given free
	// text). nil accepts every dialplan that parses.
	CheckDialplan func(*ivr.Dialplan) error
	// RejectStatus is the SIP status inbound verification calls are refused
	// with: 603 Decline unless configured (486 Busy Here, 480 Unavailable).
	RejectStatus int
	// OnCall, if set, is told the outcome of every inbound call (Call*
	// constants), for metrics.
	OnCall func(outcome string)
	// Outbound carries flash calls, answered calls, voice OTP and SMS; nil
	// leaves only missed_call available.
	Outbound Outbound
	// Abuse sets the fraud controls (docs/abuse.md); nil turns them all
	// off (the server always passes its configuration, whose defaults are
	// DefaultAbusePolicy's).
	Abuse *AbusePolicy
	// Risk, if set, runs apps' risk hooks before a start.
	Risk RiskChecker
	// OnAbuse, if set, is told of every refusal, block and risk-hook
	// failure (Abuse* constants), for metrics.
	OnAbuse func(kind, limit string)
	// DeliveryLease, when set, queues each webhook delivery already leased
	// until its creation plus DeliveryLease and hands it to this node's
	// dispatcher in the commit's notice (Notice.Handed), which sends it
	// without claiming it from the store first. If the node stops before
	// sending it, the lease runs out and any dispatcher claims it. It must
	// be the dispatcher's lease (webhook.Dispatcher.HandOff); 0 queues
	// deliveries for the dispatchers to claim.
	DeliveryLease time.Duration
}

// Service applies API requests and carrier events to verifications. It is
// safe for concurrent use; all coordination is in the store's transactions.
type Service struct {
	store        Store
	pub          Publisher
	secret       []byte
	now          func() time.Time
	log          *slog.Logger
	checkURL     func(string) error
	checkPlan    func(*ivr.Dialplan) error
	rejectStatus int
	onCall       func(outcome string)
	out          Outbound
	box          *seal.Box // job payloads (jobs.go)
	abuse        AbusePolicy
	risk         RiskChecker
	onAbuse      func(kind, limit string)
	handOff      time.Duration // Config.DeliveryLease
	touches      keyTouches    // keys.go: when each key's use was last written
	ipHints      keyHints      // clientip.go: keys told to send client_ip
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("verify: no store")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("verify: secret must be at least 32 bytes")
	}
	s := &Service{
		store: cfg.Store, pub: cfg.Publisher, secret: cfg.Secret, now: cfg.Now,
		log: cfg.Logger, checkURL: cfg.CheckCallbackURL, checkPlan: cfg.CheckDialplan, rejectStatus: cfg.RejectStatus, onCall: cfg.OnCall,
		out: cfg.Outbound, box: seal.New(cfg.Secret, jobPayloadLabel),
		risk: cfg.Risk, onAbuse: cfg.OnAbuse, handOff: cfg.DeliveryLease,
	}
	if cfg.Abuse != nil {
		s.abuse = *cfg.Abuse
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.checkURL == nil {
		s.checkURL = func(string) error { return nil }
	}
	switch s.rejectStatus {
	case 0:
		s.rejectStatus = 603
	case 603, 486, 480:
	default:
		return nil, fmt.Errorf("verify: reject status %d: want 603, 486 or 480", s.rejectStatus)
	}
	return s, nil
}

// Now is the service's clock, millisecond precision as the store keeps it.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Caller is an authenticated API client.
type Caller struct {
	App App
	Key APIKey
}

// Authenticate finds the app a bearer key belongs to.
func (s *Service) Authenticate(ctx context.Context, key string) (Caller, error) {
	if _, ok := KeyKindOf(key); !ok {
		return Caller{}, Errorf(CodeUnauthorized, "the API key is malformed: keys start with %q or %q", LiveKeyPrefix, TestKeyPrefix)
	}
	k, app, err := s.store.APIKeyByHash(ctx, HashAPIKey(key))
	if errors.Is(err, ErrNotFound) {
		return Caller{}, Errorf(CodeUnauthorized, "the API key is not valid")
	}
	if err != nil {
		return Caller{}, fmt.Errorf("authenticate: %w", err)
	}
	if !k.ExpiresAt.IsZero() && !s.Now().Before(k.ExpiresAt) {
		return Caller{}, Errorf(CodeUnauthorized, "the API key expired at %s", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s.touchKey(ctx, k)
	return Caller{App: app, Key: k}, nil
}

// StartRequest is what an app asks for.
type StartRequest struct {
	Phone       string  `json:"phone"`
	Country     string  `json:"country,omitempty"`
	Channel     Channel `json:"channel,omitempty"`
	CallbackURL string  `json:"callback_url,omitempty"`
	// TimeoutS is the single channel's time; a workflow gives each step its own.
	TimeoutS int `json:"timeout_s,omitempty"`
	// Workflow tries channels in order, each for its timeout_s.
	Workflow []StepRequest `json:"workflow,omitempty"`
	// CodeLength is the digits of OTP codes (default 6) and of a flash
	// call's caller-ID code (default 4).
	CodeLength int `json:"code_length,omitempty"`
	// RingTimeoutS is how long a flash call may ring before it is dropped.
	RingTimeoutS int `json:"ring_timeout_s,omitempty"`
	// Locale picks the SMS text and the voice prompt's language ("fr",
	// "pt-BR"); default: the language of the phone's country.
	Locale   string            `json:"locale,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// ClientIP is the end user's address, which a backend calling for its
	// users passes so that the per-IP limit and the risk hook see the user,
	// not the backend.
	ClientIP       string `json:"client_ip,omitempty"`
	IdempotencyKey string `json:"-"`
	// RemoteIP is the end user's own address when the start comes from the
	// user's browser, used when ClientIP is not given. It is never the
	// address of a caller with an API key: that is the integrator's server,
	// which the per-IP limit must not count (it would lock the backend out).
	RemoteIP string `json:"-"`
}

// StepRequest is one step of a requested workflow.
type StepRequest struct {
	Channel  Channel `json:"channel"`
	TimeoutS int     `json:"timeout_s,omitempty"`
}

// hash fingerprints a request so a reused idempotency key with another body
// is caught. encoding/json sorts map keys, so equal requests hash equally.
func (r StartRequest) hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Service) validate(c Caller, r StartRequest) (Verification, error) {
	workflow, err := workflowOf(r)
	if err != nil {
		return Verification{}, err
	}
	if err := checkCodeOptions(r, workflow); err != nil {
		return Verification{}, err
	}
	if len(r.IdempotencyKey) > MaxIdempotency {
		return Verification{}, FieldErrorf(CodeInvalid, "Idempotency-Key", "Idempotency-Key is longer than %d characters", MaxIdempotency)
	}
	if err := checkMetadata(r.Metadata); err != nil {
		return Verification{}, err
	}
	num, err := phone.Parse(r.Phone, r.Country)
	if err != nil {
		return Verification{}, &Error{Code: CodeInvalidPhone, Field: "phone", Message: err.Error(), Err: err}
	}
	if err := s.checkGeo(c.App, num, workflow); err != nil {
		return Verification{}, err
	}
	if workflow, err = lineWorkflow(num, workflow); err != nil {
		return Verification{}, err
	}
	callback := r.CallbackURL
	if callback == "" {
		callback = c.App.DefaultCallbackURL
	} else if err := s.checkURL(callback); err != nil {
		return Verification{}, &Error{Code: CodeInvalid, Field: "callback_url", Message: "callback_url " + err.Error(), Err: err}
	}
	if callback == "" && NeedsCallback(workflow) {
		return Verification{}, FieldErrorf(CodeNoCallback, "callback_url", "callback_url is required for missed_call (its result is reported there), and app %s has no default", c.App.ID)
	}
	now := s.Now()
	return Verification{
		ID: NewID("vf_"), AppID: c.App.ID, Phone: num.E164, Country: num.Country,
		Channel: workflow[0].Channel, Status: StatusPending, CallbackURL: callback,
		Metadata: r.Metadata, Sandbox: c.Key.Kind == KeyTest, Workflow: workflow,
		Locale:         localeOf(r.Locale, num.Country),
		IdempotencyKey: r.IdempotencyKey, RequestHash: r.hash(),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(workflow[0].Timeout),
	}, nil
}

// lineWorkflow fits the workflow to the kind of line num is: a
// premium-rate or shared-cost number is refused (a verification there
// costs the caller or feeds a revenue share, never proves a user); on a
// fixed line a text cannot arrive, so SMS steps are dropped when the
// workflow has others (a voice call reaches the landline instead), and a
// start that is only SMS is refused before anything is sent. Numbers in
// the ranges reserved for fiction (the simulator's) are taken as they are.
func lineWorkflow(num phone.Number, w []Step) ([]Step, error) {
	switch num.Line {
	case phone.LinePremiumRate, phone.LineSharedCost:
		return nil, FieldErrorf(CodePremiumNumber, "phone", "%s is a %s number; ringgate does not call or text premium-rate or shared-cost numbers", phone.Mask(num.E164), strings.ReplaceAll(string(num.Line), "_", "-"))
	case phone.LineFixed:
	default:
		return w, nil
	}
	if phone.Fictional(num.E164) {
		return w, nil
	}
	out := make([]Step, 0, len(w))
	for _, st := range w {
		if st.Channel != ChannelSMSOTP {
			out = append(out, st)
		}
	}
	if len(out) == len(w) {
		return w, nil
	}
	if len(out) == 0 {
		return nil, FieldErrorf(CodeSMSToLandline, "phone", "%s is a landline, which cannot receive texts; use voice_otp, or a workflow with a voice step", phone.Mask(num.E164))
	}
	return out, nil
}

// localeOf is the verification's locale: the one asked for, else the
// language of the phone's country (a +33 number gets "fr").
func localeOf(asked, country string) string {
	if asked != "" {
		return asked
	}
	return i18n.ForRegion(country)
}

func checkMetadata(m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return FieldErrorf(CodeInvalid, "metadata", "metadata has %d keys; at most %d are kept", len(m), MaxMetadataKeys)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKey {
			return FieldErrorf(CodeInvalid, "metadata", "metadata keys must be 1 to %d characters", MaxMetadataKey)
		}
		if len(v) > MaxMetadataValue {
			return FieldErrorf(CodeInvalid, "metadata", "metadata value of %q is longer than %d characters", k, MaxMetadataValue)
		}
	}
	return nil
}

// Start begins a verification. The same Idempotency-Key returns the first
// result (created false). A pending verification of the app for the same
// phone is superseded (canceled, reason superseded), never returned: its
// id and client token belong to whoever started it. A start that would
// send a text or call sooner than abuse.resend_interval after the phone's
// last one is refused, as POST …/next would be.
func (s *Service) Start(ctx context.Context, c Caller, r StartRequest) (v Verification, created bool, err error) {
	nv, err := s.validate(c, r)
	if err == nil {
		err = s.startChecked(ctx, c, r, nv)
	}
	if err != nil {
		s.noteRefusal(err)
		return Verification{}, false, err
	}
	v, created, err = s.start(ctx, c, r, nv)
	s.noteRefusal(err)
	return v, created, err
}

// startChecked runs the checks of a start that need no transaction: the
// end user's address and the app's risk hook.
func (s *Service) startChecked(ctx context.Context, c Caller, r StartRequest, nv Verification) error {
	ip, err := endUserIP(r)
	if err != nil {
		return err
	}
	if ip == "" {
		s.hintClientIP(ctx, c.Key)
	}
	return s.assessRisk(ctx, c.App, nv, ip)
}

func (s *Service) start(ctx context.Context, c Caller, r StartRequest, nv Verification) (v Verification, created bool, err error) {
	ip, _ := endUserIP(r) // checked by startChecked
	// A concurrent start for the same phone (another node) may win the
	// insert; the next pass finds its verification and supersedes it (or is
	// paced), so the phone ends with exactly one pending.
	for range 4 {
		err = s.apply(ctx, func(w *writer) error {
			var err error
			v, err = s.startTx(ctx, w, c, nv, ip)
			created = err == nil && v.ID == nv.ID
			return err
		})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Verification{}, false, err
		}
		return v, created, nil
	}
	return Verification{}, false, fmt.Errorf("start verification: %w", err)
}

func (s *Service) startTx(ctx context.Context, w *writer, c Caller, nv Verification, ip string) (Verification, error) {
	app := c.App
	if nv.IdempotencyKey != "" {
		prev, err := w.VerificationByIdempotencyKey(ctx, TenantOf(nv), nv.IdempotencyKey)
		switch {
		case err == nil && prev.RequestHash != nv.RequestHash:
			return Verification{}, FieldErrorf(CodeIdempotencyMismatch, "Idempotency-Key", "Idempotency-Key %q was used with a different request", nv.IdempotencyKey)
		case err == nil:
			return prev, nil
		case !errors.Is(err, ErrNotFound):
			return Verification{}, err
		}
	}
	// A pending verification for the phone is superseded, never shared:
	// its id and client token belong to whoever started it.
	prev, err := w.PendingVerification(ctx, TenantOf(nv), nv.Phone)
	switch {
	case err == nil && nv.CreatedAt.Before(prev.ExpiresAt):
		if err := w.finish(ctx, prev, StatusCanceled, ReasonSuperseded, detail{}); err != nil {
			return Verification{}, err
		}
	case err == nil:
		// Overdue but not yet swept: end it now so a new one can start.
		if err := w.finish(ctx, prev, StatusExpired, expiryReason(prev), detail{}); err != nil {
			return Verification{}, err
		}
	case !errors.Is(err, ErrNotFound):
		return Verification{}, err
	}
	if err := s.checkStartPacing(ctx, w, nv); err != nil {
		return Verification{}, err
	}
	if err := s.checkPrefixBlock(ctx, w, nv); err != nil {
		return Verification{}, err
	}
	var dial *dialChoices
	if nv.Workflow[0].Channel == ChannelMissedCall {
		dial = &dialChoices{}
	}
	if err := s.countStartDial(ctx, w, app, c.Key, nv, ip, dial); err != nil {
		return Verification{}, err
	}
	if err := s.checkSteps(ctx, w, app, nv); err != nil {
		return Verification{}, err
	}
	job, err := s.prepareStepDial(ctx, w, app, &nv, 0, dial)
	if err != nil {
		return Verification{}, err
	}
	if err := w.later.InsertVerification(ctx, nv); err != nil {
		return Verification{}, err
	}
	n, err := w.record(ctx, nv, EventCreated, detail{})
	if err != nil {
		return Verification{}, err
	}
	if err := w.queueJob(ctx, job, n); err != nil {
		return Verification{}, err
	}
	if err := s.guardPumping(ctx, w, nv); err != nil {
		return Verification{}, err
	}
	return nv, nil
}

// expiryReason says why a verification whose last step ran out was not
// verified.
func expiryReason(v Verification) Reason {
	switch v.Channel {
	case ChannelAnswerCall:
		return ReasonNoAnswer
	case ChannelMissedCall:
		return ReasonNotDialed
	}
	return ReasonNotChecked
}

// Get returns one of the tenant's verifications.
func (s *Service) Get(ctx context.Context, t Tenant, id string) (Verification, error) {
	v, err := s.store.VerificationOf(ctx, t, id)
	if errors.Is(err, ErrNotFound) {
		return Verification{}, Errorf(CodeNotFound, "no verification %q", id)
	}
	return v, err
}

// MaxPage is the most a list returns at once.
const MaxPage = 100

// List returns a page of the app's verifications, newest first, and the
// cursor of the next page ("" at the end).
func (s *Service) List(ctx context.Context, f ListFilter) ([]Verification, string, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", FieldErrorf(CodeInvalid, "status", "unknown status %q", f.Status)
	}
	if f.Phone != "" {
		n, err := phone.ParseE164(f.Phone)
		if err != nil {
			return nil, "", &Error{Code: CodeInvalidPhone, Field: "phone", Message: err.Error(), Err: err}
		}
		f.Phone = n.E164
	}
	f.Limit = ClampPage(f.Limit)
	f.Limit++ // one more tells whether there is a next page
	vs, err := s.store.Verifications(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if len(vs) < f.Limit {
		return vs, "", nil
	}
	vs = vs[:f.Limit-1]
	return vs, vs[len(vs)-1].ID, nil
}

// ClampPage is the page size a list returns for a requested limit n: n,
// or MaxPage when n is not positive or above it.
func ClampPage(n int) int {
	if n <= 0 || n > MaxPage {
		return MaxPage
	}
	return n
}

// Cancel ends a pending verification of the tenant.
func (s *Service) Cancel(ctx context.Context, t Tenant, id string) (Verification, error) {
	var out Verification
	err := s.apply(ctx, func(w *writer) error {
		v, err := w.LockVerificationOf(ctx, t, id)
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodeNotFound, "no verification %q", id)
		}
		if err != nil {
			return err
		}
		if err = w.finish(ctx, v, StatusCanceled, ReasonCanceled, detail{}); err != nil {
			return err
		}
		out, err = w.Verification(ctx, id)
		return err
	})
	if err != nil {
		return Verification{}, err
	}
	return out, nil
}

// InboundCall is the missed-call path, the same for every carrier: a call
// verifies only when its caller and the number it dialled both match a
// pending verification, so a spoofed caller ID alone is not enough. Every
// call is refused before answer and recorded, matched or not.
func (s *Service) InboundCall(ctx context.Context, in carrier.InboundCall) (carrier.Disposition, error) {
	from, to := normaliseCaller(in.From, in.Country), Normalise(in.To, in.Country)
	disp := carrier.Disposition{Action: carrier.Reject, SIPStatus: s.rejectStatus}
	for pass := range 2 {
		var outcome string
		err := s.apply(ctx, func(w *writer) error {
			var err error
			disp.VerificationID, outcome, err = s.inboundTx(ctx, w, in, from, to, pass > 0)
			return err
		})
		if errors.Is(err, ErrConflict) {
			continue // the carrier's call was recorded before; the next pass finds it
		}
		if err != nil {
			return carrier.Disposition{}, fmt.Errorf("inbound call: %w", err)
		}
		// Unmatched calls become no verification and no webhook; the log
		// line (and the call record) is how an operator sees a spoofing run
		// or a misconfigured pool.
		s.log.InfoContext(ctx, "inbound call", slog.String("carrier", in.Carrier), slog.String("from", from),
			slog.String("to", to), slog.String("outcome", outcome), slog.String("verification", disp.VerificationID))
		if s.onCall != nil {
			s.onCall(outcome)
		}
		return disp, nil
	}
	return carrier.Disposition{}, errors.New("inbound call: conflicting retransmissions")
}

// Normalise returns a number in E.164 when it parses (in country, when it
// is not in international form), else as given, through the cache: for
// numbers that recur (the pool numbers callers dial).
func Normalise(raw, country string) string {
	key := parseKey{country, raw}
	if e, ok := normalised.get(key); ok {
		return e
	}
	e := normaliseCaller(raw, country)
	normalised.put(key, e)
	return e
}

// normaliseCaller is Normalise without the cache, for caller IDs: each
// verifying call comes from a number seen once, so caching callers missed
// every time and, by filling the map, emptied it of the pool numbers that
// would have hit (issue 21's profile: 3.3% of a call's CPU, 18% of its
// bytes).
//
// It formats without validating (phone.E164): a caller is only compared
// with numbers validated at their start, and validation was half of a
// verifying call's allocations (issue 21).
func normaliseCaller(raw, country string) string {
	if e, err := phone.E164(raw, country); err == nil {
		return e
	}
	return raw
}

// parseKey is Normalise's cache key: a struct, so a lookup builds no
// string.
type parseKey struct{ country, raw string }

// normalised remembers recent answers of Normalise. Every inbound call
// parses the dialled number, one of a handful of pool numbers, and
// libphonenumber's parse was a fifteenth of a verifying INVITE's CPU. The
// map is bounded and starts over when full.
var normalised = &parseCache{m: map[parseKey]string{}}

const parseCacheMax = 4096

type parseCache struct {
	mu sync.Mutex
	m  map[parseKey]string
}

func (c *parseCache) get(k parseKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *parseCache) put(k parseKey, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= parseCacheMax {
		clear(c.m)
	}
	c.m[k] = v
}

// inboundTx decides a call and records it. A carrier's call seen before
// (a retransmission that reached the service: from another node, or after
// its SIP transaction ended) gets its first answer and changes nothing.
// The first pass does not look for it: every path ends by inserting the
// call, whose carrier id is unique, so a call seen before fails there with
// ErrConflict and the transaction rolls back whole, whatever it decided
// meanwhile; InboundCall then runs the second pass, which looks (lookup).
// That is one read fewer on every call, for a second pass on the rare one.
func (s *Service) inboundTx(ctx context.Context, w *writer, in carrier.InboundCall, from, to string, lookup bool) (id, outcome string, err error) {
	if in.CallID != "" && lookup {
		prev, err := w.CallByCarrierID(ctx, in.Carrier, in.CallID)
		if err == nil {
			// A retransmission: the same answer, nothing new.
			if prev.Outcome == CallVerified {
				return prev.VerificationID, CallDuplicate, nil
			}
			return "", CallDuplicate, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return "", "", err
		}
	}
	if in.Diverted {
		return "", CallDiverted, s.divertedTx(ctx, w, in, from, to)
	}
	now := s.Now()
	call := Call{
		ID: NewID("call_"), Carrier: in.Carrier, CarrierCallID: in.CallID, From: from, To: to,
		Outcome: CallNoMatch, SIPStatus: s.rejectStatus, ReceivedAt: now,
	}
	if over, err := s.countCaller(ctx, w, from, now); err != nil {
		return "", "", err
	} else if over {
		// Over the per-caller limit: refused like every call, matched
		// against nothing, so a spoofer's excess guesses verify nothing.
		call.Outcome = CallRateLimited
		if err := w.later.InsertCall(ctx, call); err != nil {
			return "", "", err
		}
		return "", call.Outcome, nil
	}
	cands, apps, err := w.PendingForCallerApps(ctx, from, ChannelMissedCall)
	if err != nil {
		return "", "", err
	}
	cands = tenantsCandidates(in, cands)
	for _, v := range cands {
		matched := v.DialNumber == to
		switch {
		case matched && !now.Before(v.ExpiresAt):
			call.Outcome, call.AppID, call.VerificationID = CallLate, v.AppID, v.ID
			if err := w.stepOver(ctx, v, StatusExpired, expiryReason(v), detail{}); err != nil {
				return "", "", err
			}
		case matched:
			call.Outcome, call.AppID, call.VerificationID = CallVerified, v.AppID, v.ID
			cv := &CallView{From: from, To: to, Matched: true, ReceivedAt: StampOf(now)}
			app, ok := apps[v.AppID]
			if !ok {
				return "", "", fmt.Errorf("app %s: %w", v.AppID, ErrNotFound)
			}
			if app.Settings.MatchedCallEvents == MatchedCallBoth {
				if _, err := w.record(ctx, v, EventCallReceived, detail{call: cv}); err != nil {
					return "", "", err
				}
			}
			if err := w.finish(ctx, v, StatusVerified, ReasonNone, detail{call: cv}); err != nil {
				return "", "", err
			}
		default:
			// The caller waits on another number: tell the app (it may be a
			// user who misdialled, or someone spoofing the caller ID).
			if call.Outcome == CallNoMatch {
				call.Outcome, call.AppID, call.VerificationID = CallWrongNumber, v.AppID, v.ID
			}
			if err := s.wrongNumber(ctx, w, v, &CallView{From: from, To: to, ReceivedAt: StampOf(now)}); err != nil {
				return "", "", err
			}
		}
	}
	if err := w.later.InsertCall(ctx, call); err != nil {
		return "", "", err
	}
	if call.Outcome == CallVerified {
		return call.VerificationID, call.Outcome, nil
	}
	return "", call.Outcome, nil
}

// divertedTx records a call that was forwarded to the dial number: its
// caller may have been tricked into calling a number that forwards here
// (the forwarding attack), so it verifies nothing. A verification the call
// would have matched gets call.received with reason "diverted".
func (s *Service) divertedTx(ctx context.Context, w *writer, in carrier.InboundCall, from, to string) error {
	now := s.Now()
	call := Call{
		ID: NewID("call_"), Carrier: in.Carrier, CarrierCallID: in.CallID, From: from, To: to,
		Outcome: CallDiverted, SIPStatus: s.rejectStatus, ReceivedAt: now,
	}
	cands, err := w.PendingForCaller(ctx, from, ChannelMissedCall)
	if err != nil {
		return err
	}
	for _, v := range cands {
		if v.DialNumber != to {
			continue
		}
		call.AppID, call.VerificationID = v.AppID, v.ID
		if _, err := w.record(ctx, v, EventCallReceived, detail{call: &CallView{From: from, To: to, Matched: true, ReceivedAt: StampOf(now), Reason: CallDiverted}}); err != nil {
			return err
		}
	}
	return w.later.InsertCall(ctx, call)
}

// countCaller counts a call from caller ID from in the per-caller window
// and reports whether it is over abuse.calls_per_caller. The count commits
// with the call's record, refused or not: a flood keeps the caller over
// the limit until the window ends.
func (s *Service) countCaller(ctx context.Context, tx Tx, from string, now time.Time) (bool, error) {
	limit, w := s.abuse.CallsPerCaller, s.abuse.CallerWindow
	if limit <= 0 || w <= 0 || from == "" {
		return false, nil
	}
	start, end := windowOf(now, w)
	n, err := tx.AddCounter(ctx, CounterHit{Key: "call|" + from + "|" + strconv.FormatInt(w.Milliseconds(), 10), Window: start, Expires: end, Delta: 1})
	if err != nil {
		return false, err
	}
	return n > int64(limit), nil
}

// wrongNumber handles a call from v's phone to a number v was not shown.
// A call to one of v's app's own pool numbers is a guess at the number v
// was shown (a spoofer calling the pool with the victim's caller ID, or a
// misdial): it counts as an attempt, and the app's cap of them (one by
// default) ends v failed with wrong_number. A call to another app's
// number guesses nothing of v's and is only reported.
func (s *Service) wrongNumber(ctx context.Context, w *writer, v Verification, cv *CallView) error {
	if _, err := w.record(ctx, v, EventCallReceived, detail{call: cv}); err != nil {
		return err
	}
	pool, err := w.Numbers(ctx, v.AppID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(pool, func(p Number) bool { return p.Number == cv.To }) {
		return nil
	}
	app, err := w.App(ctx, v.AppID)
	if err != nil {
		return err
	}
	v.Attempts++
	if v.Attempts >= wrongNumberCap(app.Settings) {
		return w.finish(ctx, v, StatusFailed, ReasonWrongNumber, detail{call: cv})
	}
	v.UpdatedAt = s.Now()
	return w.UpdateVerification(ctx, v)
}

// ExpireDue ends up to limit pending verifications whose time has run out,
// and returns how many it ended. Expiry lives in the database, so a restart
// loses none; several nodes may sweep at once without ending one twice.
func (s *Service) ExpireDue(ctx context.Context, limit int) (int, error) {
	var ended int
	err := s.apply(ctx, func(w *writer) error {
		due, err := w.DueForExpiry(ctx, s.Now(), limit)
		if err != nil {
			return err
		}
		for _, v := range due {
			if err := w.stepOver(ctx, v, StatusExpired, expiryReason(v), detail{}); err != nil {
				return err
			}
		}
		ended = len(w.notices) // one notice per verification that ended or moved on
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire verifications: %w", err)
	}
	return ended, nil
}

// NextExpiry is when the next pending verification runs out.
func (s *Service) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	return s.store.NextExpiry(ctx)
}

// ClientView authorises a page's client token for verification id and
// returns the verification. Unknown ids and wrong tokens fail alike, so the
// answer says nothing about which ids exist.
func (s *Service) ClientView(ctx context.Context, id, token string) (Verification, error) {
	denied := Errorf(CodeUnauthorized, "the token is not valid for this verification")
	if token == "" {
		return Verification{}, denied
	}
	v, err := s.store.Verification(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Verification{}, denied
	}
	if err != nil {
		return Verification{}, err
	}
	if !hmac.Equal([]byte(token), []byte(clientToken(s.secret, v.ID))) {
		return Verification{}, denied
	}
	if v.Status.Terminal() && s.now().After(v.CompletedAt.Add(ClientTokenLifetime)) {
		return Verification{}, Errorf(CodeUnauthorized, "the token has expired")
	}
	return v, nil
}

// Events returns the verification's events after afterID.
func (s *Service) Events(ctx context.Context, id string, afterID int64) ([]Event, error) {
	return s.store.Events(ctx, id, afterID, 1000)
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }
