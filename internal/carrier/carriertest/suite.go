package carriertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
)

// HTTPCarrier describes one HTTP carrier to the conformance suite: how to
// build it and how its provider would call it. Every request is built for
// base, the URL the carrier is mounted at (…/carriers/NAME), and signed
// as the provider signs unless said otherwise.
type HTTPCarrier struct {
	// New builds the carrier around rec, with publicURL as ringgate's
	// public base URL (the provider calls publicURL/carriers/NAME/…).
	New func(t *testing.T, rec *Recorder, publicURL string) (carrier.WebhookHandler, error)
	// BadSignature is a webhook whose signature does not verify.
	BadSignature func(t *testing.T, base string) *http.Request
	// Status is a status callback about a command the carrier carried
	// (c, as New built it, may first be made to send one), and the events
	// it must become: Kind, ID and Cause are compared, Carrier must be
	// the carrier's name.
	Status func(t *testing.T, c carrier.WebhookHandler, base string) (*http.Request, []carrier.Event)
	// Inbound announces a call to one of the account's numbers.
	Inbound func(t *testing.T, base string) *http.Request
	// Refusal is in the response to Inbound: the provider's way to refuse
	// a call before answering it.
	Refusal string
}

// Run is the conformance suite: a bad signature gives 403 and is counted;
// a status callback becomes the right carrier.Events; an inbound call is
// refused before answer; an unknown route gives problem 404.
func Run(t *testing.T, hc HTTPCarrier) {
	t.Run("BadSignatureRefusedAndCounted", func(t *testing.T) {
		t.Parallel()
		h := mount(t, hc)
		before := refused(t, h.c)
		status, body := Do(t, hc.BadSignature(t, h.base))
		if status != http.StatusForbidden || !isProblem(body, http.StatusForbidden) {
			t.Fatalf("bad signature: %d %s, want 403 problem JSON", status, body)
		}
		if after := refused(t, h.c); after != before+1 {
			t.Fatalf("refused webhooks counted %v → %v, want one more", before, after)
		}
		if len(h.rec.Events()) != 0 || len(h.rec.Inbound()) != 0 {
			t.Fatalf("a refused webhook reached the domain: %+v %+v", h.rec.Events(), h.rec.Inbound())
		}
	})
	t.Run("StatusCallbackBecomesEvents", func(t *testing.T) {
		t.Parallel()
		h := mount(t, hc)
		req, want := hc.Status(t, h.c, h.base)
		if status, body := Do(t, req); status/100 != 2 {
			t.Fatalf("status callback: %d %s", status, body)
		}
		got := h.rec.Events()
		if len(got) != len(want) {
			t.Fatalf("events %+v, want %+v", got, want)
		}
		for i, e := range got {
			w := want[i]
			if e.Kind != w.Kind || e.ID != w.ID || e.Cause != w.Cause || e.Carrier != h.c.Name() {
				t.Errorf("event %d = %+v, want kind %s id %s cause %q carrier %s", i, e, w.Kind, w.ID, w.Cause, h.c.Name())
			}
		}
	})
	t.Run("InboundCallRefusedBeforeAnswer", func(t *testing.T) {
		t.Parallel()
		h := mount(t, hc)
		status, body := Do(t, hc.Inbound(t, h.base))
		if status != http.StatusOK || !strings.Contains(body, hc.Refusal) {
			t.Fatalf("inbound call: %d %s, want 200 with %s", status, body, hc.Refusal)
		}
		in := h.rec.Inbound()
		if len(in) != 1 || in[0].Carrier != h.c.Name() || !strings.HasPrefix(in[0].From, "+") || !strings.HasPrefix(in[0].To, "+") {
			t.Fatalf("inbound calls %+v, want one from this carrier in E.164", in)
		}
		for _, e := range h.rec.Events() {
			if e.Kind == carrier.EventAnswered {
				t.Fatalf("the inbound call was answered: %+v", e)
			}
		}
	})
	t.Run("UnknownRouteIsProblem404", func(t *testing.T) {
		t.Parallel()
		h := mount(t, hc)
		for _, m := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(m, h.base+"/no-such-webhook", strings.NewReader("a=b"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if status, body := Do(t, req); status != http.StatusNotFound || !isProblem(body, http.StatusNotFound) {
				t.Errorf("%s unknown route: %d %s, want problem 404", m, status, body)
			}
		}
	})
}

type mounted struct {
	c    carrier.WebhookHandler
	rec  *Recorder
	base string
}

// mount builds the carrier and serves it at /carriers/NAME/, as the
// server mounts it.
func mount(t *testing.T, hc HTTPCarrier) mounted {
	rec := &Recorder{}
	c, srv := Serve(t, func(public string) (carrier.WebhookHandler, error) { return hc.New(t, rec, public) })
	return mounted{c: c, rec: rec, base: srv.URL + "/carriers/" + c.Name()}
}

// Serve starts ringgate's public side for one carrier: build is given its
// URL (the carrier's PublicURL) and the carrier it returns is served at
// /carriers/NAME/ with that prefix stripped, as the server mounts it. The
// server is closed when the test ends; a build error fails the test.
func Serve[C carrier.WebhookHandler](t testing.TB, build func(publicURL string) (C, error)) (C, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := build(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "/carriers/" + c.Name()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, c))
	return c, srv
}

// refused reads the carrier's refused-webhook metric.
func refused(t *testing.T, c carrier.WebhookHandler) float64 {
	mr, ok := c.(carrier.MetricsReporter)
	if !ok {
		t.Fatal("the carrier reports no metrics")
	}
	for _, m := range mr.Metrics() {
		if m.Name == "ringgate_carrier_webhooks_refused_total" {
			return m.Value()
		}
	}
	t.Fatal("the carrier has no ringgate_carrier_webhooks_refused_total")
	return 0
}

// Do sends req and returns the response's status and body.
func Do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, b := Send(t, req)
	return res.StatusCode, string(b)
}

// Client is Send's client, for tests that send webhooks themselves. Not
// http.DefaultClient: httptest.Server's
// Close closes the idle connections of http.DefaultTransport, and a
// parallel test's request that had just taken one of them failed with
// "connection broken: http: CloseIdleConnections called" (a CI run's
// TestConformance/StatusCallbackBecomesEvents on telnyx).
var Client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// Send sends req and returns the response (its body read and closed) and
// the body; a transport error fails the test.
func Send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// isProblem reports whether body is RFC 9457 problem JSON with status.
func isProblem(body string, status int) bool {
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	return json.Unmarshal([]byte(body), &p) == nil && p.Type != "" && p.Status == status
}

// FormPost is a POST of params as a form, as the providers send webhooks.
func FormPost(target string, params url.Values) *http.Request {
	req, _ := http.NewRequest("POST", target, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// FromRoundRobin checks the one meaning of a carrier's from: list
// (docs/carriers.md): c was built with from: list (two numbers or more)
// and sends four texts; the three naming no sender take list[0], list[1],
// list[0] in turn, the fourth names own and keeps it. sentFrom(i) is the
// sender the provider's API got with text i, and wire writes a number as
// the provider does (E.164 with or without its '+').
func FromRoundRobin(t *testing.T, c carrier.Sender, list []string, own string, sentFrom func(i int) string, wire func(e164 string) string) {
	t.Helper()
	for i, want := range []string{list[0], list[1], list[0], own} {
		m := carrier.SMS{ID: "job_" + strconv.Itoa(i), To: "+14155552671", Text: "code"}
		if want == own {
			m.From = own
		}
		if _, err := c.SendSMS(t.Context(), m); err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		if got := sentFrom(i); got != wire(want) {
			t.Errorf("text %d sent from %q, want %q", i, got, wire(want))
		}
	}
}

// E164 writes numbers as they are (Twilio, Telnyx); PlusLess without the
// '+' (Vonage, Plivo).
func E164(n string) string     { return n }
func PlusLess(n string) string { return strings.TrimPrefix(n, "+") }
