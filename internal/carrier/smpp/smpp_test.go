package smpp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/carrier/smpp"
	"github.com/ringgate/ringgate/internal/carrier/smpp/smpptest"
	"github.com/ringgate/ringgate/internal/testutil"
)

// events is the domain side (carriertest.Recorder; Fail as a store that
// is down), and can answer an event named only by its ref as the domain
// does when no job was sent under it.
type events struct {
	carriertest.Recorder
	unknownRefs atomic.Bool
}

func (e *events) CarrierEvent(ctx context.Context, ev carrier.Event) error {
	if e.unknownRefs.Load() && ev.ID == "" {
		return carrier.ErrUnknownRef
	}
	return e.Recorder.CarrierEvent(ctx, ev)
}

type bundle struct {
	srv *smpptest.Server
	c   *smpp.Carrier
	ev  *events
}

// setup starts a test SMSC and a carrier bound to it.
func setup(t *testing.T, scfg smpptest.Config, mut ...func(*smpp.Config)) bundle {
	t.Helper()
	if scfg.SystemID == "" {
		scfg.SystemID, scfg.Password = "ringgate", "secret"
	}
	srv := smpptest.Start(t, scfg)
	ev := &events{}
	cfg := smpp.Config{
		Name: "smsc-a", Addr: srv.Addr(), SystemID: "ringgate", Password: "secret", SourceAddr: "Ringgate",
		EnquireLink: 5 * time.Second, RebindInterval: 50 * time.Millisecond, SubmitTimeout: 5 * time.Second, Events: ev,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := smpp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	b := bundle{srv: srv, c: c, ev: ev}
	if cfg.Password == scfg.Password {
		testutil.WaitFor(t, 5*time.Second, "bind", c.Bound)
	}
	return b
}

func send(t *testing.T, c *smpp.Carrier, id, text string) string {
	t.Helper()
	ref, err := c.SendSMS(context.Background(), carrier.SMS{ID: id, To: "+447700900123", Text: text})
	if err != nil {
		t.Fatalf("SendSMS(%s): %v", id, err)
	}
	return ref
}

func TestSubmitOnTheWire(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	ref := send(t, b.c, "sms_1", "Your code is 123456 [€5]")
	send(t, b.c, "sms_2", "Ваш код 123456")
	subs := b.srv.Submits()
	if len(subs) != 2 {
		t.Fatalf("%d submits", len(subs))
	}
	gsm, ucs := subs[0], subs[1]
	if ref != strings.ToLower(gsm.MessageID) {
		t.Errorf("ref %q, want the SMSC's id %q in canonical form", ref, gsm.MessageID)
	}
	p := gsm.PDU
	if p.Message.Encoding().DataCoding() != 0x00 || p.EsmClass != 0 || p.RegisteredDelivery != 1 {
		t.Errorf("GSM submit: data_coding %#x esm_class %#x registered_delivery %d", p.Message.Encoding().DataCoding(), p.EsmClass, p.RegisteredDelivery)
	}
	want := append([]byte("Your code is 123456 "), 0x1B, 0x3C, 0x1B, 0x65, '5', 0x1B, 0x3E)
	if got := gsm.ShortMessage(); !bytes.Equal(got, want) {
		t.Errorf("GSM short_message %x, want %x", got, want)
	}
	if p.SourceAddr.Address() != "Ringgate" || p.SourceAddr.Ton() != 5 || p.DestAddr.Address() != "447700900123" || p.DestAddr.Ton() != 1 || p.DestAddr.Npi() != 1 {
		t.Errorf("addresses: source %d/%d %q dest %d/%d %q", p.SourceAddr.Ton(), p.SourceAddr.Npi(), p.SourceAddr.Address(), p.DestAddr.Ton(), p.DestAddr.Npi(), p.DestAddr.Address())
	}
	if ucs.PDU.Message.Encoding().DataCoding() != 0x08 {
		t.Errorf("Cyrillic went out with data_coding %#x", ucs.PDU.Message.Encoding().DataCoding())
	}
	if got, _ := ucs.PDU.Message.GetMessage(); got != "Ваш код 123456" {
		t.Errorf("UCS-2 text decodes to %q", got)
	}
}

// concatenated checks a long text's parts on the wire: one reference, UDHI
// set, sequence 1..n, and the decoded parts join to the text.
func concatenated(t *testing.T, subs []smpptest.Submit, text string, coding byte, sizes []int) {
	t.Helper()
	if len(subs) != len(sizes) {
		t.Fatalf("%d parts, want %d", len(subs), len(sizes))
	}
	var joined strings.Builder
	ref := -1
	for i, s := range subs {
		p := s.PDU
		if p.EsmClass&0x40 == 0 || p.Message.Encoding().DataCoding() != coding {
			t.Fatalf("part %d: esm_class %#x data_coding %#x", i+1, p.EsmClass, p.Message.Encoding().DataCoding())
		}
		sm := s.ShortMessage()
		if len(sm) != 6+sizes[i] || !bytes.Equal(sm[:3], []byte{0x05, 0x00, 0x03}) || sm[4] != byte(len(sizes)) || sm[5] != byte(i+1) {
			t.Fatalf("part %d: %d octets, UDH % x", i+1, len(sm), sm[:min(6, len(sm))])
		}
		if ref == -1 {
			ref = int(sm[3])
		} else if int(sm[3]) != ref {
			t.Fatalf("part %d has reference %d, part 1 had %d", i+1, sm[3], ref)
		}
		part, err := p.Message.GetMessage()
		if err != nil {
			t.Fatal(err)
		}
		joined.WriteString(part)
	}
	if joined.String() != text {
		t.Fatalf("parts join to %q", joined.String())
	}
}

func TestConcatenation(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	gsm := strings.Repeat("0123456789", 20) // 200 GSM characters
	ucs := strings.Repeat("Код ", 25)       // 100 UCS-2 characters
	send(t, b.c, "sms_gsm", gsm)
	send(t, b.c, "sms_ucs", ucs)
	subs := b.srv.Submits()
	if len(subs) != 4 {
		t.Fatalf("%d submits, want 2+2", len(subs))
	}
	concatenated(t, subs[:2], gsm, 0x00, []int{153, 47})
	concatenated(t, subs[2:], ucs, 0x08, []int{134, 66})
	if subs[0].ShortMessage()[3] == subs[2].ShortMessage()[3] {
		t.Error("two messages share one concatenation reference")
	}
}

// receipt sends a receipt and returns the status of its deliver_sm_resp.
func receipt(t *testing.T, srv *smpptest.Server, id string, o smpptest.ReceiptOptions) data.CommandStatusType {
	t.Helper()
	st, err := srv.Receipt(id, o, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The SMSC answers with hex ids and writes its receipts in decimal.
func TestReceiptsBecomeEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{SubmitIDs: smpptest.Hex, ReceiptIDs: smpptest.Decimal})
	send(t, b.c, "sms_ok", "code 1")
	send(t, b.c, "sms_bad", "code 2")
	send(t, b.c, "sms_tlv", "code 3")
	subs := b.srv.Submits()
	if txt := b.srv.ReceiptText(subs[0].MessageID, smpptest.ReceiptOptions{}); strings.Contains(txt, subs[0].MessageID) {
		t.Fatalf("the receipt text %q repeats the hex id: the test would not cover the mismatch", txt)
	}
	for _, r := range []struct {
		id string
		o  smpptest.ReceiptOptions
	}{
		{subs[0].MessageID, smpptest.ReceiptOptions{Stat: "ACCEPTD"}}, // not final: nothing
		{subs[0].MessageID, smpptest.ReceiptOptions{}},
		{subs[1].MessageID, smpptest.ReceiptOptions{Stat: "UNDELIV", Err: "001"}},
		{subs[2].MessageID, smpptest.ReceiptOptions{Stat: "REJECTD", TLV: true, TextID: "garbage"}},
		{subs[0].MessageID, smpptest.ReceiptOptions{}}, // a repeat: nothing new
	} {
		if st := receipt(t, b.srv, r.id, r.o); st != data.ESME_ROK {
			t.Fatalf("deliver_sm_resp %s", st)
		}
	}
	var got []string
	for _, e := range b.ev.Events() {
		got = append(got, fmt.Sprintf("%s %s %s %s", e.ID, e.Kind, e.Cause, e.Carrier))
	}
	want := []string{"sms_ok sms_delivered  smsc-a", "sms_bad sms_failed undelivered smsc-a", "sms_tlv sms_failed failed smsc-a"}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
}

// A text in two parts is delivered when both parts are.
func TestReceiptsOfParts(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	send(t, b.c, "sms_long", strings.Repeat("x", 200))
	subs := b.srv.Submits()
	receipt(t, b.srv, subs[0].MessageID, smpptest.ReceiptOptions{})
	if n := len(b.ev.Events()); n != 0 {
		t.Fatalf("%d events after one part's receipt", n)
	}
	receipt(t, b.srv, subs[1].MessageID, smpptest.ReceiptOptions{})
	if got := b.ev.Events(); len(got) != 1 || got[0].Kind != carrier.EventSMSDelivered || got[0].ID != "sms_long" {
		t.Fatalf("events %+v", got)
	}
}

// A receipt the handler cannot record is refused with a temporary error,
// so the SMSC sends it again; the second try is recorded.
func TestReceiptRedeliveredWhenNotRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	send(t, b.c, "sms_1", "code")
	id := b.srv.Submits()[0].MessageID
	b.ev.Fail(errors.New("store down"))
	if st := receipt(t, b.srv, id, smpptest.ReceiptOptions{}); st != data.ESME_RX_T_APPN {
		t.Fatalf("deliver_sm_resp %s while the store is down, want ESME_RX_T_APPN", st)
	}
	b.ev.Fail(nil)
	if st := receipt(t, b.srv, id, smpptest.ReceiptOptions{}); st != data.ESME_ROK {
		t.Fatalf("deliver_sm_resp %s on redelivery", st)
	}
	if got := b.ev.Events(); len(got) != 1 || got[0].ID != "sms_1" {
		t.Fatalf("events %+v", got)
	}
}

// After a restart the carrier no longer knows the message: the event
// carries the carrier's ref, in every form the store may hold it in.
func TestReceiptOfAnUnknownMessageCarriesRef(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{SubmitIDs: smpptest.Hex, ReceiptIDs: smpptest.Decimal})
	send(t, b.c, "sms_1", "code")
	id := b.srv.Submits()[0].MessageID
	// A second carrier on the same account, as after a restart.
	ev := &events{}
	c2, err := smpp.New(smpp.Config{Name: "smsc-a", Addr: b.srv.Addr(), SystemID: "ringgate", Password: "secret", Events: ev, RebindInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.c.Close()
	_ = c2.Start(context.Background())
	t.Cleanup(func() { _ = c2.Close() })
	testutil.WaitFor(t, 5*time.Second, "rebind", func() bool { return c2.Bound() && b.srv.Binds() == 2 })
	receipt(t, b.srv, id, smpptest.ReceiptOptions{})
	got := ev.Events()
	if len(got) != 1 || got[0].ID != "" {
		t.Fatalf("events %+v", got)
	}
	forms := append([]string{got[0].Ref}, got[0].RefAlt...)
	if !slices.Contains(forms, smpp.CanonicalID(id)) {
		t.Fatalf("ref forms %q lack the submit id %q", forms, id)
	}
}

// A receipt nobody knows is asked for again while a submit is in flight
// (it may be that text's, overtaking its own submit_sm_resp), and
// acknowledged otherwise.
func TestUnknownReceiptWhileSubmitting(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{}, func(c *smpp.Config) { c.Rate = 1 })
	b.ev.unknownRefs.Store(true)
	send(t, b.c, "sms_1", "first") // takes the pacer's token: the next waits about a second
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "sms_2", To: "+447700900123", Text: "second"}); err != nil {
			t.Errorf("SendSMS: %v", err)
		}
	}()
	testutil.WaitFor(t, 5*time.Second, "the second submit to be under way", func() bool { return smpp.Submitting(b.c) == 1 })
	if st := receipt(t, b.srv, "77777777", smpptest.ReceiptOptions{}); st != data.ESME_RX_T_APPN {
		t.Errorf("unknown receipt during a submit: %s, want ESME_RX_T_APPN", st)
	}
	<-done
	if st := receipt(t, b.srv, "77777777", smpptest.ReceiptOptions{}); st != data.ESME_ROK {
		t.Errorf("unknown receipt with nothing in flight: %s, want ESME_ROK", st)
	}
}

func TestEnquireLinkOnTheWire(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{}, func(c *smpp.Config) { c.EnquireLink = 100 * time.Millisecond })
	testutil.WaitFor(t, 5*time.Second, "three enquire_link", func() bool { return b.srv.Count(data.ENQUIRE_LINK) >= 3 })
	if !b.c.Bound() {
		t.Fatal("unbound after keep-alives")
	}
}

// The SMSC drops the connection: submits in the gap fail at once with a
// retryable error, and the carrier rebinds by itself.
func TestRebindAfterDrop(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	send(t, b.c, "sms_1", "before")
	b.srv.RefuseBinds(true)
	b.srv.DropAll()
	testutil.WaitFor(t, 5*time.Second, "the carrier to see the drop", func() bool { return !b.c.Bound() })
	start := time.Now()
	_, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "sms_gap", To: "+447700900123", Text: "gap"})
	if !carrier.Retryable(err) {
		t.Fatalf("submit while unbound: %v, want a retryable error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("submit while unbound took %v", d)
	}
	b.srv.RefuseBinds(false)
	testutil.WaitFor(t, 10*time.Second, "rebind", func() bool { return b.c.Bound() && b.srv.Binds() == 2 })
	send(t, b.c, "sms_2", "after")
	if n := len(b.srv.Submits()); n != 2 {
		t.Fatalf("%d submits reached the SMSC, want 2", n)
	}
}

// A submit in flight when the connection drops fails retryable without
// waiting for its timeout.
func TestSubmitInFlightWhenDropped(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{}, func(c *smpp.Config) { c.Rate = 2 })
	send(t, b.c, "sms_1", "one")
	errc := make(chan error, 1)
	go func() {
		// Paced 500 ms after the first: the drop lands while it waits or
		// while its answer is due.
		_, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "sms_2", To: "+447700900123", Text: strings.Repeat("y", 400)})
		errc <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "the second submit to be under way", func() bool { return smpp.Submitting(b.c) == 1 })
	b.srv.RefuseBinds(true)
	b.srv.DropAll()
	select {
	case err := <-errc:
		if !carrier.Retryable(err) {
			t.Fatalf("got %v, want a retryable error", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the submit hung after the connection dropped")
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{}, func(c *smpp.Config) { c.Password = "wrong" })
	// The SMSC refused a bind and the carrier tried again: still not bound.
	testutil.WaitFor(t, 5*time.Second, "two refused binds", func() bool { return b.srv.Count(data.BIND_TRANSCEIVER) >= 2 })
	if b.c.Bound() || b.srv.Binds() != 0 {
		t.Fatal("bound with a wrong password")
	}
	_, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "x", To: "+447700900123", Text: "x"})
	var ce *carrier.Error
	if !errors.As(err, &ce) || !ce.Retryable || ce.Code != "not_bound" {
		t.Fatalf("got %v, want retryable not_bound", err)
	}
}

func TestSubmitStatuses(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	for _, tt := range []struct {
		status    data.CommandStatusType
		retryable bool
	}{
		{data.ESME_RTHROTTLED, true},
		{data.ESME_RMSGQFUL, true},
		{data.ESME_RSYSERR, true},
		{data.ESME_RINVDSTADR, false},
		{data.ESME_RINVSRCADR, false},
		{data.ESME_RX_P_APPN, false},
	} {
		b.srv.FailSubmits(tt.status)
		_, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "x", To: "+447700900123", Text: "x"})
		var ce *carrier.Error
		if !errors.As(err, &ce) || ce.Retryable != tt.retryable || ce.Code != tt.status.String() || ce.Carrier != "smsc-a" {
			t.Errorf("%s: got %v, want retryable=%v", tt.status, err, tt.retryable)
		}
	}
	if _, err := b.c.PlaceCall(context.Background(), carrier.Call{ID: "c"}); err == nil || carrier.Retryable(err) {
		t.Errorf("PlaceCall: %v, want a terminal error", err)
	}
	if _, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: "x", To: "07700900123", Text: "x"}); err == nil || carrier.Retryable(err) {
		t.Errorf("a national destination: %v, want a terminal error", err)
	}
}

// Rate paces submits: timestamps of arrival at the SMSC are 1/rate apart
// (with generous tolerance for a loaded machine), even when sent at once.
func TestRatePacesSubmits(t *testing.T) {
	t.Parallel()
	const rate, n = 20.0, 8
	b := setup(t, smpptest.Config{}, func(c *smpp.Config) { c.Rate = rate })
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { send(t, b.c, fmt.Sprintf("sms_%d", i), "x") })
	}
	wg.Wait()
	subs := b.srv.Submits()
	if len(subs) != n {
		t.Fatalf("%d submits", len(subs))
	}
	span := subs[n-1].At.Sub(subs[0].At)
	min := time.Duration(float64(n-1) / rate * float64(time.Second) * 0.85)
	if span < min {
		t.Fatalf("%d submits within %v; at %v/s they need at least %v", n, span, rate, min)
	}
	// Any k+1 consecutive submits span at least (k-1)/rate: one submit may
	// leave late and bunch with the next, but no run goes faster.
	for i := range n {
		for j := i + 2; j < n; j++ {
			if gap, need := subs[j].At.Sub(subs[i].At), time.Duration(float64(j-i-1)/rate*float64(time.Second)*0.85); gap < need {
				t.Errorf("submits %d..%d within %v, need %v", i+1, j+1, gap, need)
			}
		}
	}
	t.Logf("%d submits over %v (%.1f/s, limit %v/s)", n, span, float64(n-1)/span.Seconds(), rate)
}

// An SMSC that throttles: the submit over its limit fails retryable.
func TestThrottledIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	b.srv.Throttle(2)
	var errs []error
	for i := range 3 {
		_, err := b.c.SendSMS(context.Background(), carrier.SMS{ID: fmt.Sprint(i), To: "+447700900123", Text: "x"})
		errs = append(errs, err)
	}
	var ce *carrier.Error
	if errs[0] != nil || errs[1] != nil || !errors.As(errs[2], &ce) || !ce.Retryable || ce.Code != "ESME_RTHROTTLED" {
		t.Fatalf("errors %v, want nil, nil, retryable ESME_RTHROTTLED", errs)
	}
}

// scripted is a second carrier for routing tests.
type scripted struct {
	mu    sync.Mutex
	texts []carrier.SMS
}

func (s *scripted) Name() string { return "b" }
func (s *scripted) PlaceCall(context.Context, carrier.Call) (string, error) {
	return "", errors.New("no")
}
func (s *scripted) SendSMS(_ context.Context, m carrier.SMS) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, m)
	return "b-1", nil
}

// An SMSC failing with ESME_RSYSERR: the router sends the text by carrier B.
func TestRouterFailsOverFromSMPP(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	b.srv.FailSubmits(data.ESME_RSYSERR)
	other := &scripted{}
	r, err := carrier.NewRouter([]carrier.Sender{b.c, other}, []carrier.Route{{Channel: "sms_otp", Carriers: []string{"smsc-a", "b"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := r.SendSMS(context.Background(), carrier.SMS{ID: "sms_1", AppID: "app", To: "+447700900123", Text: "code"})
	if err != nil || rc.Carrier != "b" || len(other.texts) != 1 || len(b.srv.Submits()) != 1 {
		t.Fatalf("receipt %+v err %v; B got %d texts, the SMSC %d submits", rc, err, len(other.texts), len(b.srv.Submits()))
	}
	b.srv.FailSubmits(data.ESME_RINVDSTADR) // terminal: B is not tried
	if _, err := r.SendSMS(context.Background(), carrier.SMS{ID: "sms_2", AppID: "app", To: "+447700900123", Text: "code"}); err == nil || len(other.texts) != 1 {
		t.Fatalf("terminal error %v; B got %d texts", err, len(other.texts))
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []smpp.Config{
		{Name: "", Addr: "127.0.0.1:2775", SystemID: "a"},
		{Name: "x", Addr: "nohost", SystemID: "a"},
		{Name: "x", Addr: "127.0.0.1:2775"},
		{Name: "x", Addr: "127.0.0.1:2775", SystemID: "a", Password: "123456789"},
		{Name: "x", Addr: "127.0.0.1:2775", SystemID: "a", Rate: -1},
		{Name: "x", Addr: "127.0.0.1:2775", SystemID: "a", SourceAddr: "Much too long sender"},
		{Name: "x", Addr: "127.0.0.1:2775", SystemID: "a", SourceAddr: "+44"},
	} {
		if _, err := smpp.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := smpp.New(smpp.Config{Name: "x", Addr: "127.0.0.1:2775", SystemID: "a", SourceAddr: "07911123456", Country: "GB"}); err != nil {
		t.Errorf("a national sender with a country: %v", err)
	}
}

// FuzzDeliverPDU feeds arbitrary bytes, as an SMSC could send them, through
// gosmpp's parser and the carrier's handling of what it parses.
func FuzzDeliverPDU(f *testing.F) {
	seed := func(esm byte, text string, tlv bool) []byte {
		p := pdu.NewDeliverSM().(*pdu.DeliverSM)
		p.EsmClass = esm
		_ = p.Message.SetMessageDataWithEncoding([]byte(text), data.GSM7BIT)
		if tlv {
			p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: []byte("1A2B\x00")})
			p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{5}})
		}
		buf := pdu.NewBuffer(nil)
		p.Marshal(buf)
		return buf.Bytes()
	}
	f.Add(seed(0x04, "id:439041101 sub:001 dlvrd:001 submit date:2611291200 done date:2611291201 stat:DELIVRD err:000 text:x", false))
	f.Add(seed(0x04, "", true))
	f.Add(seed(0x00, "hello", false))
	f.Add(seed(0x44, "\x05\x00\x03\x01\x02\x01id:1", false))
	// query_sm with a TLV: gosmpp v0.3.1's parser panics on it.
	f.Add([]byte{0, 0, 0, 0x1b, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, '1', 0, 0, 0, 0, 0, 0x1e, 0, 2, 'x', 0})
	ev := &events{}
	c, err := smpp.New(smpp.Config{Name: "fuzz", Addr: "127.0.0.1:1", SystemID: "x", Events: ev})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if smpp.Vet(b) != nil {
			return // the connection would be dropped and rebound
		}
		p, err := pdu.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Vet passed a PDU that Parse refuses: %v", err)
		}
		resp, _ := smpp.HandlePDU(c, p)
		if p.CanResponse() && resp == nil {
			t.Fatalf("no response to %T", p)
		}
	})
}

// A PDU that makes gosmpp's parser panic (query_sm with a TLV) costs the
// bind, not the process: the carrier rebinds and sends again.
func TestMalformedPDUDropsTheBindNotTheProcess(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	if err := b.srv.SendRaw([]byte{0, 0, 0, 0x1b, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, '1', 0, 0, 0, 0, 0, 0x1e, 0, 2, 'x', 0}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "a rebind", func() bool { return b.srv.Binds() == 2 && b.c.Bound() })
	send(t, b.c, "sms_after", "still here")
}

// A mobile-originated deliver_sm (no receipt bit) is acknowledged and
// reports nothing.
func TestMobileOriginatedIsAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	p := pdu.NewDeliverSM().(*pdu.DeliverSM)
	_ = p.Message.SetMessageDataWithEncoding([]byte("id:1 stat:DELIVRD"), data.GSM7BIT)
	if err := b.srv.Deliver(p); err != nil {
		t.Fatal(err)
	}
	resp, ok := b.srv.DeliverResp(p.SequenceNumber, 5*time.Second)
	if !ok || resp.CommandStatus != data.ESME_ROK {
		t.Fatalf("deliver_sm_resp %v %v", ok, resp)
	}
	if n := len(b.ev.Events()); n != 0 {
		t.Fatalf("%d events from a mobile-originated message", n)
	}
}

// The SMSC unbinds (maintenance): the carrier answers unbind_resp and binds
// again.
func TestRebindAfterUnbind(t *testing.T) {
	t.Parallel()
	b := setup(t, smpptest.Config{})
	b.srv.Unbind()
	testutil.WaitFor(t, 10*time.Second, "a rebind", func() bool { return b.srv.Binds() == 2 && b.c.Bound() })
	if b.srv.Count(data.UNBIND_RESP) != 1 {
		t.Errorf("%d unbind_resp from the carrier, want 1", b.srv.Count(data.UNBIND_RESP))
	}
	send(t, b.c, "sms_after", "back")
}

// BenchmarkSendSMS measures one single-part text over loopback to the
// in-process SMSC, unpaced: submit_sm out, submit_sm_resp back.
func BenchmarkSendSMS(b *testing.B) {
	srv := smpptest.Start(b, smpptest.Config{SystemID: "ringgate", Password: "secret"})
	c, err := smpp.New(smpp.Config{Name: "bench", Addr: srv.Addr(), SystemID: "ringgate", Password: "secret", Events: &events{},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	_ = c.Start(context.Background())
	b.Cleanup(func() { _ = c.Close() })
	testutil.WaitFor(b, 5*time.Second, "bind", c.Bound)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SendSMS(context.Background(), carrier.SMS{ID: "x", To: "+447700900123", Text: "Your code is 123456"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
