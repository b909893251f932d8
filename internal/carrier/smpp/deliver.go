package smpp

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/ringgate/ringgate/internal/carrier"
)

// onDeliver turns a deliver_sm into an event and returns the status of
// its deliver_sm_resp: ESME_ROK once the event is recorded (or when there
// is nothing to record), ESME_RX_T_APPN when it could not be, so that the
// SMSC delivers the receipt again later.
func (c *Carrier) onDeliver(p *pdu.DeliverSM) data.CommandStatusType {
	if !IsReceipt(p.EsmClass) {
		c.log.Debug("smpp: ignoring a mobile-originated deliver_sm")
		return data.ESME_ROK
	}
	text, _ := p.Message.GetMessageData()
	if len(text) == 0 {
		if f, ok := p.OptionalParameters[pdu.TagMessagePayload]; ok {
			text = f.Data
		}
	}
	r, ok := ParseReceipt(string(text), p.OptionalParameters)
	if !ok {
		c.log.Warn("smpp: a receipt without a message id", slog.Int("esm_class", int(p.EsmClass)))
		return data.ESME_ROK
	}
	if !r.Final {
		return data.ESME_ROK // ACCEPTD, ENROUTE: not an outcome yet
	}
	// Sampled before the lookups: the submit this receipt overtook may
	// finish while the store is asked.
	inFlight := c.submitting.Load() > 0
	e, emit := c.receiptEvent(r)
	if !emit {
		return data.ESME_ROK
	}
	ctx, cancel := context.WithTimeout(c.ctx, eventTimeout)
	defer cancel()
	err := c.cfg.Events.CarrierEvent(ctx, e)
	switch {
	case errors.Is(err, carrier.ErrUnknownRef) && inFlight:
		// Neither this bind nor the store knows the id, while a submit is
		// between its submit_sm_resp and the record of its id: the receipt
		// may be that text's, ahead of it. The SMSC sends it again shortly.
		c.log.Debug("smpp: receipt for an unknown id while submits are in flight; asking for it again", slog.String("ref", e.Ref))
		return data.ESME_RX_T_APPN
	case errors.Is(err, carrier.ErrUnknownRef):
		c.log.Warn("smpp: receipt for a message ringgate did not send (or sent too long ago)", slog.String("ref", e.Ref))
		return data.ESME_ROK
	case err != nil:
		c.log.Error("smpp: receipt not recorded; asking the SMSC to send it again", slog.String("ref", e.Ref), slog.Any("err", err))
		return data.ESME_RX_T_APPN
	}
	if e.ID != "" {
		c.sent.reported(r.IDs, e.Kind)
	}
	return data.ESME_ROK
}

// receiptEvent builds the event a final receipt means. A text sent in
// parts is delivered when every part is, and failed when any part fails.
// emit is false when the receipt changes nothing (another part's receipt
// is still due, or the outcome was reported already).
func (c *Carrier) receiptEvent(r Receipt) (carrier.Event, bool) {
	e := carrier.Event{Kind: carrier.EventSMSDelivered, Carrier: c.cfg.Name, At: time.Now()}
	switch r.Stat {
	case "DELIVRD":
	case "UNDELIV", "EXPIRED":
		e.Kind, e.Cause = carrier.EventSMSFailed, carrier.CauseUndelivered
	default: // REJECTD, DELETED
		e.Kind, e.Cause = carrier.EventSMSFailed, carrier.CauseFailed
	}
	var forms []string
	for _, id := range r.IDs {
		forms = append(forms, RefForms(id)...)
	}
	e.Ref = forms[0]
	e.RefAlt = forms[1:]
	id, emit, known := c.sent.receipt(r.IDs, e.Kind == carrier.EventSMSDelivered)
	if known {
		// The bind knows which text this is; a part's id is not the ref the
		// job was stored under (the first part's), so it is not passed on
		// for the service to check against it.
		e.ID, e.Ref, e.RefAlt = id, "", nil
		return e, emit
	}
	return e, true // sent before a restart: the service looks the ref up
}

// sentMessage is one text as the receipts see it.
type sentMessage struct {
	id        string // carrier.SMS.ID
	parts     int
	delivered map[string]bool // canonical part ids with a DELIVRD receipt
	done      bool            // the outcome was recorded
}

// sentMessages remembers recent part ids → messages, oldest forgotten
// first beyond max entries.
type sentMessages struct {
	mu    sync.Mutex
	max   int
	byID  map[string]*sentMessage
	order []string
}

func newSentMessages(max int) *sentMessages {
	return &sentMessages{max: max, byID: map[string]*sentMessage{}}
}

func (s *sentMessages) put(id string, m *sentMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := CanonicalID(id)
	if _, dup := s.byID[k]; !dup {
		s.order = append(s.order, k)
	}
	s.byID[k] = m
	for len(s.order) > s.max {
		delete(s.byID, s.order[0])
		s.order = s.order[1:]
	}
}

// find returns the message one of ids names, trying every form of each.
func (s *sentMessages) find(ids []string) (*sentMessage, string) {
	for _, id := range ids {
		for _, f := range RefForms(id) {
			if m, ok := s.byID[f]; ok {
				return m, f
			}
		}
	}
	return nil, ""
}

func (s *sentMessages) receipt(ids []string, delivered bool) (smsID string, emit, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, part := s.find(ids)
	if m == nil {
		return "", false, false
	}
	if m.done {
		return m.id, false, true
	}
	if !delivered {
		return m.id, true, true
	}
	if m.delivered == nil {
		m.delivered = map[string]bool{}
	}
	m.delivered[part] = true
	return m.id, len(m.delivered) >= m.parts, true
}

// reported marks a message's outcome recorded: later receipts of its
// parts change nothing.
func (s *sentMessages) reported(ids []string, _ carrier.EventKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, _ := s.find(ids); m != nil {
		m.done = true
	}
}

// pacer spaces submits 1/rate apart: a token bucket of depth one, so the
// account's rate is never exceeded even in a burst. The interval runs from
// the moment the previous submit was handed to the connection, not from
// when it was scheduled, so a submit delayed by the scheduler cannot bunch
// up with the next one on the wire.
type pacer struct {
	interval time.Duration
	turn     chan struct{} // held from acquire to release
	next     time.Time     // guarded by turn
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{interval: time.Duration(float64(time.Second) / rate), turn: make(chan struct{}, 1)}
}

// acquire waits for the next slot; release must be called once the submit
// is handed over.
func (p *pacer) acquire(ctx context.Context) (release func(), err error) {
	if p == nil {
		return func() {}, ctx.Err()
	}
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if d := time.Until(p.next); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			<-p.turn
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return func() {
		p.next = time.Now().Add(p.interval)
		<-p.turn
	}, nil
}
