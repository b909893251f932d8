package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/ringgate/ringgate/internal/carrier/smpp/smpptest"
	"github.com/ringgate/ringgate/internal/config"
)

// withSMPP adds an smpp carrier "smsc" bound to srv, and routes sms_otp to
// carriers (in order).
func withSMPP(srv *smpptest.Server, carriers ...string) func(*config.Config) {
	return func(c *config.Config) {
		c.Carriers = append(c.Carriers, config.Carrier{Name: "smsc", Type: "smpp", SMPP: config.SMPP{
			Addr: srv.Addr(), SystemID: "ringgate", Password: "secret", SourceAddr: "Ringgate",
			EnquireLink: time.Second, RebindInterval: 100 * time.Millisecond,
		}})
		c.Routes = append([]config.Route{{Channel: "sms_otp", Carriers: carriers}}, c.Routes...)
	}
}

// waitSubmit waits for the SMSC's n-th submit_sm and returns it.
func waitSubmit(t *testing.T, srv *smpptest.Server, n int) smpptest.Submit {
	t.Helper()
	waitFor(t, 15*time.Second, "a submit_sm", func() bool { return len(srv.Submits()) >= n })
	return srv.Submits()[n-1]
}

// An sms_otp verification over SMPP: the text with the code reaches the
// SMSC as submit_sm, the code verifies, and the SMSC's receipt (decimal id
// for a hex message id) becomes sms.delivered on the verification.
func TestSMPPSMSOTPWithReceipt(t *testing.T) {
	t.Parallel()
	srv := smpptest.Start(t, smpptest.Config{SystemID: "ringgate", Password: "secret", SubmitIDs: smpptest.Hex, ReceiptIDs: smpptest.Decimal})
	h := startServer(t, t.TempDir(), withSMPP(srv, "smsc"))
	waitFor(t, 5*time.Second, "the SMPP bind", func() bool { return h.srv.SMPPBound()["smsc"] })
	rx := newReceiver(t, testSecret)
	const to = "+447911123456"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": rx.URL()})
	id := v["id"].(string)

	sub := waitSubmit(t, srv, 1)
	text, err := sub.PDU.Message.GetMessage()
	if err != nil {
		t.Fatal(err)
	}
	if sub.PDU.DestAddr.Address() != strings.TrimPrefix(to, "+") || sub.PDU.RegisteredDelivery != 1 {
		t.Fatalf("submit_sm to %q, registered_delivery %d", sub.PDU.DestAddr.Address(), sub.PDU.RegisteredDelivery)
	}
	code := codeRE.FindString(text)
	if code == "" {
		t.Fatalf("no code in %q", text)
	}
	sendReceipt(t, srv, sub.MessageID, smpptest.ReceiptOptions{})
	waitFor(t, 10*time.Second, "sms.delivered", func() bool { return slices.Contains(hookTypes(rx, id), "sms.delivered") })
	ok := h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true {
		t.Fatalf("the code from the SMSC did not verify: %v", ok)
	}
	m := h.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.body), `ringgate_smpp_bound{carrier="smsc"} 1`) {
		t.Error("metrics lack ringgate_smpp_bound 1 for smsc")
	}
}

// ringgate restarts between the text and its receipt: the new process
// finds the verification by the carrier's message id in the store.
func TestSMPPReceiptAfterRestart(t *testing.T) {
	t.Parallel()
	srv := smpptest.Start(t, smpptest.Config{SystemID: "ringgate", Password: "secret", SubmitIDs: smpptest.Hex, ReceiptIDs: smpptest.Decimal})
	dir := t.TempDir()
	h := startServer(t, dir, withSMPP(srv, "smsc"))
	rx := newReceiver(t, testSecret)
	v := h.startChannel(map[string]any{"phone": "+447911123457", "channel": "sms_otp", "callback_url": rx.URL()})
	id := v["id"].(string)
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	sub := waitSubmit(t, srv, 1)
	// The job records the carrier's id when the text is sent: wait for it.
	stream.waitEvent(t, "sms.sent", 10*time.Second)
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := startServer(t, dir, withSMPP(srv, "smsc"))
	waitFor(t, 5*time.Second, "the new bind", func() bool { return h2.srv.SMPPBound()["smsc"] && srv.Binds() == 2 })
	sendReceipt(t, srv, sub.MessageID, smpptest.ReceiptOptions{Stat: "UNDELIV", Err: "001"})
	waitFor(t, 10*time.Second, "sms.failed after the restart", func() bool { return slices.Contains(hookTypes(rx, id), "sms.failed") })
}

// The SMSC fails every submit with ESME_RSYSERR (retryable): the same
// verification's text goes out through the next carrier of the route.
func TestSMPPFailoverToNextCarrier(t *testing.T) {
	t.Parallel()
	srv := smpptest.Start(t, smpptest.Config{SystemID: "ringgate", Password: "secret"})
	srv.FailSubmits(data.ESME_RSYSERR)
	h := startServer(t, t.TempDir(), withSMPP(srv, "smsc", "sim"))
	waitFor(t, 5*time.Second, "the SMPP bind", func() bool { return h.srv.SMPPBound()["smsc"] })
	const to = "+447911123458"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	id := v["id"].(string)
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	code := h.textCode(to, 1) // arrives only through the simulator
	if n := len(srv.Submits()); n != 1 {
		t.Fatalf("the SMSC saw %d submits, want 1 (refused)", n)
	}
	h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	carrier := sentBy(stream.collect(t, 5*time.Second))
	if carrier != "sim" {
		t.Fatalf("sms.sent carrier = %v, want sim", carrier)
	}
}

// waitEvent reads the stream until an event of typ arrives.
func (s *sse) waitEvent(t *testing.T, typ string, d time.Duration) sseEvent {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended before %s", typ)
			}
			if ev.Event == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s within %v", typ, d)
		}
	}
}

// sendReceipt sends a delivery receipt as an SMSC does: again, a little
// later, while ringgate answers it with a temporary error (the receipt can
// overtake its own submit_sm_resp, and ringgate asks for it again then).
func sendReceipt(t *testing.T, srv *smpptest.Server, id string, o smpptest.ReceiptOptions) {
	t.Helper()
	for range 50 {
		st, err := srv.Receipt(id, o, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if st != data.ESME_RX_T_APPN {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the receipt for %s was refused 50 times", id)
}
