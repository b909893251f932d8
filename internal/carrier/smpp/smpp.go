// Package smpp is the SMPP 3.4 carrier: one transceiver bind to an SMSC
// account, over which verification texts leave as submit_sm and delivery
// receipts come back as deliver_sm. It speaks only the carrier contract
// (carrier.Sender out, carrier.Events back) and uses
// github.com/linxGnu/gosmpp for the PDUs and the session, whose automatic
// rebind restores a dropped bind.
//
// A text is encoded in the GSM 03.38 alphabet when every character has a
// septet (the extension table included), else in UCS-2, and split into
// concatenated parts with a user data header when it does not fit one
// message. SendSMS returns once the SMSC has answered every part; the
// first part's message id (canonical form, see CanonicalID) is the
// carrier's ref, and every part's id is remembered so that receipts find
// their message. Receipts of messages sent before a restart carry only the
// ref (carrier.Event.Ref), which the service resolves through the store.
//
// Errors are typed for the router: a throttled, full, failing or unbound
// SMSC, a timeout and a lost connection are retryable (another carrier may
// take the text); a refused address or message is terminal.
package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/phone"
)

// Defaults for Config's zero values.
const (
	DefaultEnquireLink    = 30 * time.Second
	DefaultRebindInterval = 5 * time.Second
	DefaultSubmitTimeout  = 10 * time.Second
	dialTimeout           = 5 * time.Second
	writeTimeout          = 10 * time.Second
	eventTimeout          = 10 * time.Second
	// maxRemembered bounds the message ids kept for receipts; older ones
	// are resolved through the store (carrier.Event.Ref).
	maxRemembered = 50000
)

// Config builds a Carrier.
type Config struct {
	// Name is the instance name routes use.
	Name string
	// Addr is the SMSC's host:port.
	Addr string
	// SystemID, Password and SystemType are the bind credentials.
	SystemID, Password, SystemType string
	// SourceAddr is the default sender: alphanumeric (up to 11 characters),
	// E.164, or a national number when Country is set. Empty: the SMSC's.
	SourceAddr string
	// Country is the ISO region of national-format sender numbers.
	Country string
	// Rate is the account's limit in submit_sm per second (each part of a
	// long text counts); submits are paced to it. 0: unlimited.
	Rate float64
	// EnquireLink is the keep-alive interval (30 s). A bind on which
	// nothing arrives for three intervals is dropped and rebound.
	EnquireLink time.Duration
	// RebindInterval is the wait between bind attempts (5 s).
	RebindInterval time.Duration
	// SubmitTimeout bounds one SendSMS, all parts and pacing included (10 s).
	SubmitTimeout time.Duration
	Events        carrier.EventHandler
	Logger        *slog.Logger
	// OnBound, when set, is told every change of the bind state (metrics).
	OnBound func(bound bool)
}

// Carrier is one SMPP account. It implements carrier.Sender.
type Carrier struct {
	cfg  Config
	log  *slog.Logger
	src  pdu.Address
	pace *pacer
	ref  atomic.Uint32 // concatenation references
	sent *sentMessages
	// submitting counts submits whose message id is not yet in sent: a
	// receipt can overtake its own submit_sm_resp on the way to sent.
	submitting atomic.Int64
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup

	// cb is held (read) by every callback from gosmpp's goroutines and
	// (write) by Close while it marks the carrier closed: after Close no
	// callback logs or reports anything.
	cb sync.RWMutex
	// dead is set by Close under cb.
	dead bool

	mu      sync.Mutex
	sess    *gosmpp.Session
	bound   bool
	closed  bool
	started bool
	pending map[int32]chan submitResult
}

type submitResult struct {
	id     string
	status data.CommandStatusType
	err    error
}

var _ carrier.Sender = (*Carrier)(nil)

// New checks cfg and builds a carrier; Start binds.
func New(cfg Config) (*Carrier, error) {
	if cfg.Name == "" {
		return nil, errors.New("smpp: Name is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("smpp: addr %q is not host:port", cfg.Addr)
	}
	if cfg.SystemID == "" {
		return nil, errors.New("smpp: SystemID is required")
	}
	if len(cfg.SystemID) > 15 || len(cfg.Password) > 8 || len(cfg.SystemType) > 12 {
		return nil, errors.New("smpp: system_id is at most 15 characters, password 8, system_type 12 (SMPP 3.4 §5.2)")
	}
	if cfg.Rate < 0 {
		return nil, errors.New("smpp: Rate must not be negative")
	}
	if cfg.EnquireLink == 0 {
		cfg.EnquireLink = DefaultEnquireLink
	}
	if cfg.RebindInterval == 0 {
		cfg.RebindInterval = DefaultRebindInterval
	}
	if cfg.SubmitTimeout == 0 {
		cfg.SubmitTimeout = DefaultSubmitTimeout
	}
	if cfg.EnquireLink < 0 || cfg.RebindInterval < 0 || cfg.SubmitTimeout < 0 {
		return nil, errors.New("smpp: intervals must be positive")
	}
	src, err := sourceAddress(cfg.SourceAddr, cfg.Country)
	if err != nil {
		return nil, fmt.Errorf("smpp: source_addr: %w", err)
	}
	c := &Carrier{cfg: cfg, log: cfg.Logger, src: src, pace: newPacer(cfg.Rate), sent: newSentMessages(maxRemembered),
		pending: map[int32]chan submitResult{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With(slog.String("carrier", cfg.Name))
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Name is the carrier's instance name.
func (c *Carrier) Name() string { return c.cfg.Name }

// Bound reports whether the carrier holds a bind to the SMSC now.
func (c *Carrier) Bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bound
}

// Metrics exports whether the carrier is bound.
func (c *Carrier) Metrics() []carrier.Metric {
	return []carrier.Metric{{
		Name: "ringgate_smpp_bound", Help: "1 while the SMPP carrier holds a bind to its SMSC, else 0.", Gauge: true,
		Value: func() float64 {
			if c.Bound() {
				return 1
			}
			return 0
		},
	}}
}

// The parts of the carrier lifecycle an SMPP account has.
var (
	_ carrier.Starter         = (*Carrier)(nil)
	_ carrier.Closer          = (*Carrier)(nil)
	_ carrier.MetricsReporter = (*Carrier)(nil)
)

// Start binds in the background and returns at once: an SMSC that is down
// at start is retried every RebindInterval, and meanwhile SendSMS fails
// with a retryable error so that the router uses the next carrier.
func (c *Carrier) Start(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.started {
		return errors.New("smpp: carrier already started or closed")
	}
	c.started = true
	c.wg.Go(c.connect)
	return nil
}

// Close unbinds and fails the submits in flight (retryable).
func (c *Carrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	sess := c.sess
	c.mu.Unlock()
	c.cancel()
	c.cb.Lock()
	c.dead = true
	c.cb.Unlock()
	c.wg.Wait()
	var err error
	if sess != nil {
		// A connection the SMSC or a rebind already closed is closed.
		if err = sess.Close(); errors.Is(err, net.ErrClosed) {
			err = nil
		}
	}
	c.lost(errors.New("carrier closed"))
	return err
}

// connect makes the first bind; gosmpp's session rebinds after that.
func (c *Carrier) connect() {
	auth := gosmpp.Auth{SMSC: c.cfg.Addr, SystemID: c.cfg.SystemID, Password: c.cfg.Password, SystemType: c.cfg.SystemType}
	settings := gosmpp.Settings{
		EnquireLink:  c.cfg.EnquireLink,
		ReadTimeout:  max(3*c.cfg.EnquireLink, c.cfg.EnquireLink+time.Second),
		WriteTimeout: writeTimeout,
		OnAllPDU: func(p pdu.PDU) (resp pdu.PDU, closeBind bool) {
			c.guard(func() { resp, closeBind = c.onPDU(p) })
			return resp, closeBind
		},
		OnSubmitError: func(p pdu.PDU, err error) {
			c.resolve(p.GetSequenceNumber(), submitResult{err: err})
		},
		OnReceivingError: func(err error) {
			c.guard(func() { c.log.Debug("smpp read", slog.Any("err", err)) })
		},
		OnRebindingError: func(err error) {
			c.guard(func() { c.log.Warn("smpp rebind failed", slog.Any("err", err)) })
		},
		OnClosed: func(s gosmpp.State) {
			c.guard(func() {
				c.log.Warn("smpp bind lost; rebinding", slog.String("state", s.String()))
				c.lost(errors.New("connection to the SMSC lost"))
			})
		},
		OnRebind: func() {
			ok := c.guard(func() {
				c.setBound(true)
				c.log.Info("smpp rebound")
			})
			if !ok { // a rebind that raced Close
				c.mu.Lock()
				sess := c.sess
				c.mu.Unlock()
				if sess != nil {
					_ = sess.Transceiver().Close()
				}
			}
		},
	}
	conn := gosmpp.TRXConnector(c.dial, auth)
	for {
		sess, err := gosmpp.NewSession(conn, settings, c.cfg.RebindInterval)
		if err == nil {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				_ = sess.Close()
				return
			}
			c.sess = sess
			c.mu.Unlock()
			c.setBound(true)
			c.log.Info("smpp bound", slog.String("addr", c.cfg.Addr))
			return
		}
		lvl := slog.LevelWarn
		var be gosmpp.BindError
		if errors.As(err, &be) {
			lvl = slog.LevelError // wrong credentials: no retry will fix them
		}
		c.log.Log(c.ctx, lvl, "smpp bind failed", slog.String("addr", c.cfg.Addr), slog.Any("err", err))
		t := time.NewTimer(c.cfg.RebindInterval)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// guard runs fn unless the carrier is closed, and reports whether it ran.
func (c *Carrier) guard(fn func()) bool {
	c.cb.RLock()
	defer c.cb.RUnlock()
	if c.dead {
		return false
	}
	fn()
	return true
}

// dial connects with a deadline, so an SMSC that accepts TCP but never
// answers the bind does not hang the bind forever (gosmpp sets its own
// deadlines once bound).
func (c *Carrier) dial(addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(c.ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(dialTimeout + writeTimeout))
	return newVetConn(conn), nil
}

func (c *Carrier) setBound(b bool) {
	c.mu.Lock()
	changed := c.bound != b
	c.bound = b
	c.mu.Unlock()
	if changed && c.cfg.OnBound != nil {
		c.cfg.OnBound(b)
	}
}

// lost marks the bind down and fails every submit waiting for an answer:
// the SMSC will never answer them on this connection.
func (c *Carrier) lost(cause error) {
	c.mu.Lock()
	changed := c.bound
	c.bound = false
	for seq, ch := range c.pending {
		ch <- submitResult{err: cause}
		delete(c.pending, seq)
	}
	c.mu.Unlock()
	if changed && c.cfg.OnBound != nil {
		c.cfg.OnBound(false)
	}
}

func (c *Carrier) resolve(seq int32, r submitResult) {
	c.mu.Lock()
	ch, ok := c.pending[seq]
	delete(c.pending, seq)
	c.mu.Unlock()
	if ok {
		ch <- r // buffered, and each seq is resolved once
	}
}

// onPDU handles every PDU the SMSC sends; what it returns is sent back.
func (c *Carrier) onPDU(p pdu.PDU) (pdu.PDU, bool) {
	switch p := p.(type) {
	case *pdu.SubmitSMResp:
		c.resolve(p.SequenceNumber, submitResult{id: p.MessageID, status: p.CommandStatus})
		return nil, false
	case *pdu.GenericNack:
		c.resolve(p.SequenceNumber, submitResult{status: p.CommandStatus, err: fmt.Errorf("generic_nack %s", p.CommandStatus)})
		return nil, false
	case *pdu.DeliverSM:
		resp := p.GetResponse().(*pdu.DeliverSMResp)
		resp.CommandStatus = c.onDeliver(p)
		return resp, false
	case *pdu.EnquireLink:
		return p.GetResponse(), false
	case *pdu.Unbind:
		return p.GetResponse(), true
	}
	if p.CanResponse() {
		return p.GetResponse(), false // data_sm, alert_notification …: acknowledged, not used
	}
	return nil, false
}

// SendSMS submits m, part by part, paced to Rate, and waits for the
// SMSC's answer to each.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	enc, err := encode(m.Text)
	if err != nil {
		return "", c.terminal("message_too_long", err)
	}
	src := c.src
	if m.From != "" {
		if src, err = sourceAddress(m.From, c.cfg.Country); err != nil {
			return "", c.terminal("invalid_sender", err)
		}
	}
	dst, err := destAddress(m.To)
	if err != nil {
		return "", c.terminal("invalid_number", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.SubmitTimeout)
	defer cancel()
	msg := &sentMessage{id: m.ID, parts: len(enc.parts)}
	c.submitting.Add(1)
	defer c.submitting.Add(-1)
	ref := byte(c.ref.Add(1))
	var first string
	for i, part := range enc.parts {
		p := pdu.NewSubmitSM().(*pdu.SubmitSM)
		p.SourceAddr, p.DestAddr = src, dst
		p.RegisteredDelivery = 1 // final-state receipt
		body := part
		if len(enc.parts) > 1 {
			p.EsmClass |= data.SM_UDH_GSM
			body = append(concatUDH(ref, len(enc.parts), i+1), part...)
		}
		coding := data.GSM7BIT
		if enc.coding == codingUCS2 {
			coding = data.UCS2
		}
		if err := p.Message.SetMessageDataWithEncoding(body, coding); err != nil {
			return "", c.terminal("message_too_long", err)
		}
		release, err := c.pace.acquire(ctx)
		if err != nil {
			return "", c.retryable("timeout", fmt.Errorf("waiting for the account's rate: %w", err))
		}
		id, err := c.submit(ctx, p, release)
		if err != nil {
			return "", err
		}
		c.sent.put(id, msg)
		if i == 0 {
			first = CanonicalID(id)
		}
	}
	return first, nil
}

// submit sends one submit_sm, calls release once it is handed to the
// connection (or refused), and waits for its submit_sm_resp.
func (c *Carrier) submit(ctx context.Context, p *pdu.SubmitSM, release func()) (string, error) {
	seq := p.SequenceNumber
	ch := make(chan submitResult, 1)
	c.mu.Lock()
	if !c.bound || c.sess == nil {
		c.mu.Unlock()
		release()
		return "", c.retryable("not_bound", errors.New("no bind to the SMSC"))
	}
	sess := c.sess
	c.pending[seq] = ch // before sending: the answer may beat Submit's return
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, seq)
		c.mu.Unlock()
	}()
	err := sess.Transceiver().Submit(p)
	release()
	if err != nil {
		return "", c.retryable("not_bound", err)
	}
	select {
	case r := <-ch:
		switch {
		case r.err != nil && r.status == data.ESME_ROK:
			return "", c.retryable("connection_lost", r.err)
		case r.status != data.ESME_ROK:
			return "", statusError(c.cfg.Name, r.status)
		case r.id == "":
			return "", c.retryable("no_message_id", errors.New("submit_sm_resp without a message_id"))
		}
		return r.id, nil
	case <-ctx.Done():
		return "", c.retryable("timeout", fmt.Errorf("no submit_sm_resp: %w", ctx.Err()))
	}
}

// PlaceCall is not something SMPP can do; config validation keeps call
// channels away from smpp carriers, so this is a last line.
func (c *Carrier) PlaceCall(context.Context, carrier.Call) (string, error) {
	return "", c.terminal("unsupported", errors.New("an SMPP account cannot place calls"))
}

func (c *Carrier) retryable(code string, err error) error {
	return &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: code, Err: err}
}

func (c *Carrier) terminal(code string, err error) error {
	return &carrier.Error{Carrier: c.cfg.Name, Code: code, Err: err}
}

// retryableStatus lists the submit_sm_resp statuses that say the SMSC, not
// the message, is at fault: another route (or a later try) may succeed.
var retryableStatus = map[data.CommandStatusType]bool{
	data.ESME_RTHROTTLED:   true,
	data.ESME_RMSGQFUL:     true,
	data.ESME_RSYSERR:      true,
	data.ESME_RINVBNDSTS:   true, // not bound (yet) on the SMSC's side
	data.ESME_RX_T_APPN:    true,
	data.ESME_RSUBMITFAIL:  true,
	data.ESME_RUNKNOWNERR:  true,
	data.ESME_RQUERYFAIL:   true,
	data.ESME_RINVCMDLEN:   false,
	data.ESME_RINVDSTADR:   false,
	data.ESME_RINVSRCADR:   false,
	data.ESME_RX_P_APPN:    false,
	data.ESME_RX_R_APPN:    false,
	data.ESME_RINVMSGLEN:   false,
	data.ESME_RINVESMCLASS: false,
}

// statusError types an SMSC's refusal; its Code is the status's SMPP name.
func statusError(name string, st data.CommandStatusType) *carrier.Error {
	code := st.String()
	if strings.HasPrefix(code, "CommandStatusType(") {
		code = fmt.Sprintf("0x%08X", uint32(st))
	}
	return &carrier.Error{Carrier: name, Retryable: retryableStatus[st], Code: code,
		Err: fmt.Errorf("submit_sm refused: %s (0x%08X) %s", code, uint32(st), st.Desc())}
}

// sourceAddress turns a sender into an SMPP address: E.164 (or a national
// number, with country) as international/ISDN, other digits (short codes)
// as unknown/ISDN, and up to 11 GSM characters as alphanumeric.
func sourceAddress(s, country string) (pdu.Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return pdu.NewAddressWithTonNpi(0, 0), nil
	}
	if strings.HasPrefix(s, "+") || (isDigits(s, false) && country != "" && len(s) > 6) {
		n, err := phone.Parse(s, country)
		if err != nil {
			return pdu.Address{}, err
		}
		return pdu.NewAddressWithTonNpiAddr(data.GSM_TON_INTERNATIONAL, data.GSM_NPI_E164, strings.TrimPrefix(n.E164, "+"))
	}
	if isDigits(s, false) {
		return pdu.NewAddressWithTonNpiAddr(data.GSM_TON_UNKNOWN, data.GSM_NPI_E164, s)
	}
	if _, ok := gsmSeptets(s); !ok || len([]rune(s)) > 11 {
		return pdu.Address{}, fmt.Errorf("%q is neither a number nor an alphanumeric sender of up to 11 GSM characters", s)
	}
	return pdu.NewAddressWithTonNpiAddr(data.GSM_TON_ALPHANUMERIC, data.GSM_NPI_UNKNOWN, s)
}

// destAddress is an E.164 number as international/ISDN.
func destAddress(e164 string) (pdu.Address, error) {
	d := strings.TrimPrefix(e164, "+")
	if !strings.HasPrefix(e164, "+") || !isDigits(d, false) || len(d) > 15 {
		return pdu.Address{}, fmt.Errorf("%q is not an E.164 number", e164)
	}
	return pdu.NewAddressWithTonNpiAddr(data.GSM_TON_INTERNATIONAL, data.GSM_NPI_E164, d)
}
