// Package smpptest is a small SMSC for tests: an in-process SMPP 3.4
// server, built on gosmpp's pdu package, that speaks the real protocol on
// a loopback TCP port. It accepts transceiver binds (checking system_id and
// password), answers enquire_link and submit_sm, sends delivery receipts
// on demand, and records every PDU that crosses the wire with its time, so
// tests assert on the bytes a carrier really sent. It can drop every
// connection, refuse binds, throttle, and fail submits with a given status.
package smpptest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// IDStyle is how the server writes message ids.
type IDStyle int

// ID styles.
const (
	Hex     IDStyle = iota // "1A2B3C4D", upper case, as many SMSCs answer submit_sm
	Decimal                // "439041101"
)

// Config sets up a Server.
type Config struct {
	SystemID, Password string
	// SubmitIDs is the style of submit_sm_resp message ids; ReceiptIDs that
	// of the "id:" in receipt texts. Hex and Decimal differ on purpose to
	// reproduce the mismatch real gateways have.
	SubmitIDs, ReceiptIDs IDStyle
}

// Record is one PDU that crossed the wire.
type Record struct {
	At   time.Time
	In   bool // sent by the client
	Conn int  // connection number, from 1
	PDU  pdu.PDU
}

// Server is a running test SMSC.
type Server struct {
	cfg Config
	ln  net.Listener
	t   testing.TB

	mu         sync.Mutex
	conns      map[*conn]bool
	nconn      int
	log        []Record
	nextID     uint64
	refuse     bool
	failStatus data.CommandStatusType
	throttle   int // submits per second before ESME_RTHROTTLED; 0: none
	recent     []time.Time
	binds      int
	wg         sync.WaitGroup
}

type conn struct {
	n     int
	c     net.Conn
	wmu   sync.Mutex
	bound bool
}

// Start listens on 127.0.0.1 and serves until the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smpptest: listen: %v", err)
	}
	s := &Server{cfg: cfg, ln: ln, t: t, conns: map[*conn]bool{}, nextID: 0x1A2B3C00}
	s.wg.Go(s.accept)
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening and drops every connection.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.DropAll()
	s.wg.Wait()
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nconn++
		cn := &conn{n: s.nconn, c: c}
		s.conns[cn] = true
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(cn) })
	}
}

// DropAll closes every client connection at once, as a failing SMSC or a
// broken network would; the listener stays up for rebinds.
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cn := range s.conns {
		_ = cn.c.Close()
	}
}

// RefuseBinds makes binds fail with ESME_RBINDFAIL while on.
func (s *Server) RefuseBinds(on bool) {
	s.mu.Lock()
	s.refuse = on
	s.mu.Unlock()
}

// FailSubmits answers every submit_sm with status (ESME_ROK: accept again).
func (s *Server) FailSubmits(status data.CommandStatusType) {
	s.mu.Lock()
	s.failStatus = status
	s.mu.Unlock()
}

// Throttle answers ESME_RTHROTTLED to submits beyond perSecond in any
// one-second window (0: no limit).
func (s *Server) Throttle(perSecond int) {
	s.mu.Lock()
	s.throttle = perSecond
	s.mu.Unlock()
}

// Binds counts successful binds.
func (s *Server) Binds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.binds
}

// Bound reports whether some client holds a bind now.
func (s *Server) Bound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cn := range s.conns {
		if cn.bound {
			return true
		}
	}
	return false
}

// Log returns every PDU recorded so far.
func (s *Server) Log() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.log...)
}

// Submits returns the submit_sm PDUs received, with their answers'
// message ids ("" for those refused), in order.
func (s *Server) Submits() []Submit {
	var out []Submit
	ids := map[int32]string{}
	var subs []Record
	for _, r := range s.Log() {
		switch p := r.PDU.(type) {
		case *pdu.SubmitSM:
			if r.In {
				subs = append(subs, r)
			}
		case *pdu.SubmitSMResp:
			if !r.In && p.CommandStatus == data.ESME_ROK {
				ids[p.SequenceNumber] = p.MessageID
			}
		}
	}
	for _, r := range subs {
		p := r.PDU.(*pdu.SubmitSM)
		out = append(out, Submit{At: r.At, PDU: p, MessageID: ids[p.SequenceNumber]})
	}
	return out
}

// Submit is one submit_sm as the server got it.
type Submit struct {
	At        time.Time
	PDU       *pdu.SubmitSM
	MessageID string // "" when refused
}

// ShortMessage is the raw short_message, UDH included when esm_class says so.
func (s Submit) ShortMessage() []byte {
	b, _ := s.PDU.Message.GetMessageData()
	if udh := s.PDU.Message.UDH(); len(udh) > 0 {
		h, _ := udh.MarshalBinary()
		return append(h, b...)
	}
	return b
}

// Count returns how many PDUs with the command id the client sent.
func (s *Server) Count(id data.CommandIDType) int {
	n := 0
	for _, r := range s.Log() {
		if r.In && r.PDU.GetHeader().CommandID == id {
			n++
		}
	}
	return n
}

func (s *Server) record(cn *conn, in bool, p pdu.PDU) {
	s.mu.Lock()
	s.log = append(s.log, Record{At: time.Now(), In: in, Conn: cn.n, PDU: p})
	s.mu.Unlock()
}

func (s *Server) send(cn *conn, p pdu.PDU) error {
	buf := pdu.NewBuffer(make([]byte, 0, 64))
	p.Marshal(buf)
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_ = cn.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	// Recorded before it is written: the client may act on it at once.
	s.record(cn, false, p)
	_, err := cn.c.Write(buf.Bytes())
	return err
}

func (s *Server) serve(cn *conn) {
	defer func() {
		_ = cn.c.Close()
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
	}()
	for {
		_ = cn.c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		p, err := pdu.Parse(cn.c)
		if err != nil {
			return
		}
		s.record(cn, true, p)
		if resp := s.handle(cn, p); resp != nil {
			if s.send(cn, resp) != nil {
				return
			}
		}
		switch p.(type) {
		case *pdu.Unbind, *pdu.UnbindResp:
			return
		}
	}
}

func (s *Server) handle(cn *conn, p pdu.PDU) pdu.PDU {
	switch p := p.(type) {
	case *pdu.BindRequest:
		resp := pdu.NewBindResp(*p)
		resp.SystemID = "smpptest"
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.refuse || p.SystemID != s.cfg.SystemID || p.Password != s.cfg.Password:
			resp.CommandStatus = data.ESME_RBINDFAIL
		case p.BindingType != pdu.Transceiver:
			resp.CommandStatus = data.ESME_RINVBNDSTS
		default:
			cn.bound = true
			s.binds++
		}
		return resp
	case *pdu.SubmitSM:
		resp := p.GetResponse().(*pdu.SubmitSMResp)
		resp.MessageID = ""
		s.mu.Lock()
		defer s.mu.Unlock()
		now := time.Now()
		switch {
		case !cn.bound:
			resp.CommandStatus = data.ESME_RINVBNDSTS
		case s.failStatus != data.ESME_ROK:
			resp.CommandStatus = s.failStatus
		case s.throttled(now):
			resp.CommandStatus = data.ESME_RTHROTTLED
		default:
			s.nextID++
			resp.MessageID = formatID(s.nextID, s.cfg.SubmitIDs)
		}
		return resp
	case *pdu.EnquireLink:
		return p.GetResponse()
	case *pdu.Unbind:
		return p.GetResponse()
	}
	if p.CanResponse() {
		return p.GetResponse()
	}
	return nil // responses (deliver_sm_resp, enquire_link_resp) are only recorded
}

// throttled counts a submit in the sliding one-second window.
func (s *Server) throttled(now time.Time) bool {
	if s.throttle <= 0 {
		return false
	}
	keep := s.recent[:0]
	for _, t := range s.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	s.recent = keep
	if len(s.recent) >= s.throttle {
		return true
	}
	s.recent = append(s.recent, now)
	return false
}

func formatID(n uint64, style IDStyle) string {
	if style == Decimal {
		return strconv.FormatUint(n, 10)
	}
	return strings.ToUpper(strconv.FormatUint(n, 16))
}

// ReceiptOptions shape a receipt.
type ReceiptOptions struct {
	Stat string // DELIVRD (default), UNDELIV, REJECTD, EXPIRED …
	Err  string // "000" by default
	// TLV adds receipted_message_id (as the submit_sm_resp gave it) and
	// message_state, as SMPP 3.4 SMSCs do; without it only the text names
	// the message, in the ReceiptIDs style.
	TLV bool
	// TextID overrides the id written in the text.
	TextID string
}

// ReceiptText renders the SMPP 3.4 Appendix B text for a message id as the
// submit_sm_resp gave it.
func (s *Server) ReceiptText(submitID string, o ReceiptOptions) string {
	id := o.TextID
	if id == "" {
		n, err := parseID(submitID, s.cfg.SubmitIDs)
		if err != nil {
			id = submitID
		} else {
			id = formatID(n, s.cfg.ReceiptIDs)
		}
	}
	stat, errCode := o.Stat, o.Err
	if stat == "" {
		stat = "DELIVRD"
	}
	if errCode == "" {
		errCode = "000"
	}
	dlvrd := "001"
	if stat != "DELIVRD" {
		dlvrd = "000"
	}
	now := time.Now().UTC().Format("0601021504")
	return fmt.Sprintf("id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:Your code is",
		id, dlvrd, now, now, stat, errCode)
}

var states = map[string]byte{"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8}

// SendReceipt sends a delivery receipt for submitID on the most recent
// bound connection and returns the deliver_sm it sent; its response
// appears in Log.
func (s *Server) SendReceipt(submitID string, o ReceiptOptions) (*pdu.DeliverSM, error) {
	p := pdu.NewDeliverSM().(*pdu.DeliverSM)
	p.EsmClass = data.SM_SMSC_DLV_RCPT_TYPE
	if err := p.Message.SetMessageDataWithEncoding([]byte(s.ReceiptText(submitID, o)), data.GSM7BIT); err != nil {
		return nil, err
	}
	if o.TLV {
		p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(submitID), 0)})
		stat := o.Stat
		if stat == "" {
			stat = "DELIVRD"
		}
		p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{states[stat]}})
	}
	return p, s.Deliver(p)
}

// lastBound is the most recent bound connection.
func (s *Server) lastBound() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cn *conn
	for c := range s.conns {
		if c.bound && (cn == nil || c.n > cn.n) {
			cn = c
		}
	}
	if cn == nil {
		return nil, errors.New("smpptest: no bound client")
	}
	return cn, nil
}

// Deliver sends any deliver_sm to the most recent bound connection.
func (s *Server) Deliver(p *pdu.DeliverSM) error {
	cn, err := s.lastBound()
	if err != nil {
		return err
	}
	return s.send(cn, p)
}

// SendRaw writes bytes as they are to the most recent bound connection,
// for PDUs the pdu package would not build (malformed ones).
func (s *Server) SendRaw(b []byte) error {
	cn, err := s.lastBound()
	if err != nil {
		return err
	}
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_, err = cn.c.Write(b)
	return err
}

// Unbind asks every bound client to unbind, as an SMSC going down for
// maintenance does; the client answers and the connection ends.
func (s *Server) Unbind() {
	s.mu.Lock()
	var bound []*conn
	for c := range s.conns {
		if c.bound {
			bound = append(bound, c)
		}
	}
	s.mu.Unlock()
	for _, c := range bound {
		_ = s.send(c, pdu.NewUnbind())
	}
}

// DeliverResp returns the deliver_sm_resp that answered the deliver_sm
// with seq, waiting up to d for it.
func (s *Server) DeliverResp(seq int32, d time.Duration) (*pdu.DeliverSMResp, bool) {
	deadline := time.Now().Add(d)
	for {
		for _, r := range s.Log() {
			if p, ok := r.PDU.(*pdu.DeliverSMResp); ok && r.In && p.SequenceNumber == seq {
				return p, true
			}
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Receipt sends a delivery receipt for submitID (SendReceipt) and returns
// the status its deliver_sm_resp answered, waiting up to d for it.
func (s *Server) Receipt(submitID string, o ReceiptOptions, d time.Duration) (data.CommandStatusType, error) {
	p, err := s.SendReceipt(submitID, o)
	if err != nil {
		return 0, err
	}
	resp, ok := s.DeliverResp(p.SequenceNumber, d)
	if !ok {
		return 0, errors.New("smpptest: no deliver_sm_resp")
	}
	return resp.CommandStatus, nil
}

func parseID(id string, style IDStyle) (uint64, error) {
	if style == Decimal {
		return strconv.ParseUint(id, 10, 64)
	}
	return strconv.ParseUint(id, 16, 64)
}
