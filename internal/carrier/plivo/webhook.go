package plivo

import (
	"bytes"
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

// ServeHTTP serves Plivo's webhooks (see the package doc for the routes).
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !httpcarrier.GetOrPost(w, r) {
		return
	}
	smsID, isSMS := strings.CutPrefix(r.URL.Path, "/sms-status/")
	switch r.URL.Path {
	case "/answer", "/ring", "/hangup", "/digits":
	default:
		if isSMS && smsID != "" {
			break
		}
		httpcarrier.Problem(w, http.StatusNotFound, "no_such_route", "no Plivo webhook at "+r.URL.Path)
		return
	}
	body, err := httpcarrier.ReadBody(r)
	if err != nil {
		httpcarrier.Problem(w, http.StatusRequestEntityTooLarge, "body_too_large", "webhook body unreadable or over 64 KiB")
		return
	}
	params := url.Values{}
	if r.Method == http.MethodPost && len(body) > 0 {
		if params, err = httpcarrier.FormParams(r, body); err != nil {
			httpcarrier.Problem(w, http.StatusBadRequest, "malformed", err.Error())
			return
		}
	}
	if r.Method == http.MethodGet { // GET callbacks carry Plivo's parameters in the query
		params = r.URL.Query()
	}
	// The URL Plivo called, as it signed it (path as sent, escapes kept).
	called := httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, "", nil) + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		called += "?" + r.URL.RawQuery
	}
	sigParams := params
	if r.Method == http.MethodGet {
		sigParams = url.Values{} // already part of the URL
	}
	nonce, reason, ok := verify(c.cfg.AuthToken, r.Header, called, r.Method, sigParams, isSMS)
	if !ok {
		c.refusals.Refuse(w, r, c.log, c.cfg.Name, reason)
		return
	}
	// A nonce is used once: a captured request replayed within the
	// window is refused. If ringgate could not handle the request (5xx),
	// the nonce is released, so that Plivo's retry is not refused.
	now := c.now()
	if c.nonces.Seen(nonce, now, now.Add(NonceWindow)) {
		c.refusals.Refuse(w, r, c.log, c.cfg.Name, "nonce seen before (a replay)")
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if sw.status >= 500 {
			c.nonces.Forget(nonce)
		}
	}()
	w = sw
	if isSMS {
		c.smsStatus(r.Context(), w, smsID, params)
		return
	}
	q := r.URL.Query()
	id := q.Get("id")
	if id == "" {
		switch r.URL.Path {
		case "/answer":
			c.inbound(w, r, params)
		default: // ring and hangup of inbound calls: nothing to do
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	kind, err := c.openKind(id, q.Get("s"))
	if err != nil {
		httpcarrier.Problem(w, http.StatusBadRequest, "bad_state", "the call state in the URL does not open")
		return
	}
	switch r.URL.Path {
	case "/answer":
		c.answer(w, r, id, kind, params)
	case "/ring":
		c.ring(w, r, id, kind, params)
	case "/hangup":
		c.hangupHook(w, r, id, kind, params)
	case "/digits":
		c.digits(w, r, id, kind, params)
	}
}

// xmlDoc builds a Plivo XML document.
type xmlDoc struct{ b bytes.Buffer }

func newDoc() *xmlDoc {
	d := &xmlDoc{}
	d.b.WriteString(xml.Header + "<Response>")
	return d
}

func (d *xmlDoc) text(s string) { _ = xml.EscapeText(&d.b, []byte(s)) }

func (d *xmlDoc) attr(name, v string) {
	d.b.WriteString(" " + name + `="`)
	d.text(v)
	d.b.WriteByte('"')
}

func (d *xmlDoc) speak(a ivr.Action) {
	d.b.WriteString("<Speak")
	d.attr("voice", voice(a.Voice))
	d.attr("language", speakLanguage(a.Language))
	d.b.WriteByte('>')
	d.text(a.Text)
	d.b.WriteString("</Speak>")
}

func (d *xmlDoc) bytes() []byte {
	d.b.WriteString("</Response>")
	return d.b.Bytes()
}

// voice maps a dialplan voice onto Plivo's basic voices WOMAN and MAN.
func voice(v string) string {
	if strings.ToLower(httpcarrier.Voice(v)) == "man" {
		return "MAN"
	}
	return "WOMAN"
}

// speakLanguage is Plivo's <Speak language> for a TTS tag: the tag as it
// is ("fr-FR"), Plivo's spelling where it differs (Mandarin "cmn-CN",
// Arabic "arb"), en-US when the call names none.
func speakLanguage(tag string) string {
	switch strings.ToLower(tag) {
	case "":
		return "en-US"
	case "zh-cn":
		return "cmn-CN"
	case "zh-tw":
		return "cmn-TW"
	case "ar-sa":
		return "arb"
	}
	return tag
}

// hangupXML ends a call; reason "rejected" (or "busy") refuses a call that
// was not answered, without answering it.
func hangupXML(reason string) []byte {
	d := newDoc()
	d.b.WriteString("<Hangup")
	if reason != "" {
		d.attr("reason", reason)
	}
	d.b.WriteString("/>")
	return d.bytes()
}

// render translates a dialplan's actions into Plivo XML: Says become
// <Speak>, inside <GetDigits> when a Gather follows (so a key press cuts
// them short); a Gather's action URL carries the session, sealed, and a
// <Redirect> after it reports a timeout (Plivo moves on to the next
// element when nothing is pressed); a HangUp is <Hangup/>.
func (c *Carrier) render(id string, call *httpcarrier.IVRCall, acts []ivr.Action) ([]byte, error) {
	d := newDoc()
	var says []ivr.Action
	for _, a := range acts {
		switch a.Kind {
		case ivr.Say:
			says = append(says, a)
		case ivr.Gather:
			tok, err := c.seal.SealIVR(id, call.Plan, call.Vars, call.Session)
			if err != nil {
				return nil, err
			}
			d.b.WriteString("<GetDigits")
			d.attr("action", c.hookURL("/digits", id, kindOTP, tok))
			d.attr("method", http.MethodPost)
			d.attr("timeout", strconv.Itoa(httpcarrier.Seconds(a.Timeout)))
			d.attr("numDigits", strconv.Itoa(max(a.MaxDigits, 1)))
			d.attr("retries", "1")
			d.attr("redirect", "true")
			d.b.WriteByte('>')
			for _, s := range says {
				d.speak(s)
			}
			says = nil
			d.b.WriteString("</GetDigits><Redirect")
			d.attr("method", http.MethodPost)
			d.b.WriteByte('>')
			d.text(c.hookURL("/digits", id, kindOTP, tok, "timeout", "1"))
			d.b.WriteString("</Redirect>")
		case ivr.HangUp:
			for _, s := range says {
				d.speak(s)
			}
			says = nil
			d.b.WriteString("<Hangup/>")
		}
	}
	for _, s := range says {
		d.speak(s)
	}
	return d.bytes(), nil
}

func (c *Carrier) speakActs(w http.ResponseWriter, r *http.Request, id string, call *httpcarrier.IVRCall, acts []ivr.Action) {
	for _, e := range httpcarrier.PromptEvents(c.cfg.Name, id, acts, c.now()) {
		c.event(r.Context(), e)
	}
	doc, err := c.render(id, call, acts)
	if err != nil {
		c.log.ErrorContext(r.Context(), "sealing a dialplan session", slog.String("id", id), slog.Any("err", err))
		doc = hangupXML("")
	}
	httpcarrier.WriteXML(w, doc)
}

// answer serves answer_url for ringgate's own calls: the call is answered
// (by whom, when machine detection ran), and the XML says what next.
func (c *Carrier) answer(w http.ResponseWriter, r *http.Request, id, kind string, p url.Values) {
	if u := p.Get("CallUUID"); u != "" {
		c.memo(id, true).callUUID = u
	}
	by := carrier.AnsweredUnknown
	switch strings.ToLower(p.Get("Machine")) {
	case "true":
		by = carrier.AnsweredMachine
		c.memo(id, true).machine = true
	case "false":
		by = carrier.AnsweredHuman
	}
	c.event(r.Context(), carrier.Event{Kind: carrier.EventAnswered, ID: id, AnsweredBy: by, Ref: callRef(p)})
	if kind != kindOTP {
		httpcarrier.WriteXML(w, hangupXML(""))
		return
	}
	call, err := c.seal.OpenIVR(id, r.URL.Query().Get("v"))
	if err != nil {
		httpcarrier.Problem(w, http.StatusBadRequest, "bad_state", "the dialplan state in the URL does not open")
		return
	}
	c.speakActs(w, r, id, call, call.Session.Answered(by))
}

// inbound refuses a call to a pool number with <Hangup reason="rejected"/>,
// after the domain has seen it.
func (c *Carrier) inbound(w http.ResponseWriter, r *http.Request, p url.Values) {
	from, to := p.Get("From"), p.Get("To")
	if from == "" || to == "" {
		httpcarrier.Problem(w, http.StatusBadRequest, "malformed", "an inbound call needs From and To")
		return
	}
	// The call id is what makes a replay an idempotent no-op (the domain
	// answers a call id it has seen with its first answer); V3 signs names
	// and values run together, so a replay could stretch CallUUID over
	// the next parameter unless only a UUID is accepted.
	if !validUUID(p.Get("CallUUID")) || len(p["CallUUID"]) != 1 {
		httpcarrier.Problem(w, http.StatusBadRequest, "malformed", "an inbound call needs one CallUUID (a UUID)")
		return
	}
	from, to = httpcarrier.PlusDigits(from), httpcarrier.PlusDigits(to)
	d, err := c.cfg.Inbound.InboundCall(r.Context(), carrier.InboundCall{
		From: from, To: to, Country: c.cfg.Country, Carrier: c.cfg.Name, CallID: p.Get("CallUUID"), At: c.now(),
	})
	if err != nil {
		c.log.ErrorContext(r.Context(), "inbound call not decided", slog.String("call_uuid", p.Get("CallUUID")), slog.Any("err", err))
		httpcarrier.Problem(w, http.StatusServiceUnavailable, "unavailable", "could not decide on the call")
		return
	}
	reason := "rejected"
	if d.SIPStatus == 486 || d.SIPStatus == 600 {
		reason = "busy"
	}
	httpcarrier.WriteXML(w, hangupXML(reason))
}

// ring serves ring_url: the callee's phone rings; a flash call has done
// its work and is hung up.
func (c *Carrier) ring(w http.ResponseWriter, r *http.Request, id, kind string, p url.Values) {
	ctx := r.Context()
	if u := p.Get("CallUUID"); u != "" {
		c.memo(id, true).callUUID = u
	}
	c.event(ctx, carrier.Event{Kind: carrier.EventRinging, ID: id, Ref: callRef(p)})
	if kind == kindFlash {
		c.memo(id, true).dropped = true
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		if err := c.hangup(hctx, p.Get("CallUUID")); err != nil {
			c.log.WarnContext(ctx, "hanging up a flash call on ringing", slog.String("id", id), slog.Any("err", err))
		}
		cancel()
	}
	w.WriteHeader(http.StatusNoContent)
}

// hangupHook serves hangup_url: the call is over.
func (c *Carrier) hangupHook(w http.ResponseWriter, r *http.Request, id, kind string, p url.Values) {
	cause := c.endCause(id, kind, p)
	c.forget(id)
	c.event(r.Context(), carrier.Event{Kind: carrier.EventEnded, ID: id, Cause: cause, Ref: callRef(p)})
	w.WriteHeader(http.StatusNoContent)
}

// endCause maps hangup_url's CallStatus (completed, busy, failed, timeout,
// no-answer, cancel) and HangupCauseName to ringgate's cause.
func (c *Carrier) endCause(id, kind string, p url.Values) string {
	m := c.memo(id, false)
	status := strings.ToLower(p.Get("CallStatus"))
	name := strings.ToLower(p.Get("HangupCauseName") + " " + p.Get("HangupCause"))
	switch {
	case (m != nil && m.machine) || strings.Contains(name, "machine"):
		return carrier.CauseMachine
	case kind == kindFlash && (status == "cancel" || (m != nil && m.dropped && status != "completed")):
		return carrier.CauseDropped
	}
	switch status {
	case "completed":
		return carrier.CauseCompleted
	case "busy":
		if strings.Contains(name, "reject") {
			return carrier.CauseRejected
		}
		return carrier.CauseBusy
	case "no-answer", "timeout", "cancel":
		return carrier.CauseNoAnswer
	}
	switch {
	case strings.Contains(name, "reject"):
		return carrier.CauseRejected
	case strings.Contains(name, "invalid") || strings.Contains(name, "unallocated") || strings.Contains(name, "no route") ||
		strings.Contains(name, "unreachable"):
		return carrier.CauseUnreachable
	}
	return carrier.CauseFailed
}

// digits serves the GetDigits action (Digits) and the timeout Redirect.
func (c *Carrier) digits(w http.ResponseWriter, r *http.Request, id, kind string, p url.Values) {
	if kind != kindOTP {
		httpcarrier.Problem(w, http.StatusBadRequest, "bad_state", "not a voice_otp call")
		return
	}
	call, err := c.seal.OpenIVR(id, r.URL.Query().Get("v"))
	if err != nil {
		httpcarrier.Problem(w, http.StatusBadRequest, "bad_state", "the dialplan state in the URL does not open")
		return
	}
	dtmf := p.Get("Digits")
	if r.URL.Query().Get("timeout") == "1" {
		dtmf = ""
	}
	var acts []ivr.Action
	if dtmf == "" {
		acts = call.Session.Timeout()
	} else {
		c.event(r.Context(), carrier.Event{Kind: carrier.EventDTMF, ID: id, Digits: dtmf, Ref: callRef(p)})
		acts = call.Session.Digits(dtmf)
	}
	c.speakActs(w, r, id, call, acts)
}

// smsStatus maps a message status callback: delivered; failed,
// undelivered, rejected are failures; queued and sent are interim.
func (c *Carrier) smsStatus(ctx context.Context, w http.ResponseWriter, id string, p url.Values) {
	if id == "" {
		httpcarrier.Problem(w, http.StatusBadRequest, "malformed", "a status without ringgate's id")
		return
	}
	switch strings.ToLower(p.Get("Status")) {
	case "delivered":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSDelivered, ID: id})
	case "undelivered", "failed":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSFailed, ID: id, Cause: carrier.CauseUndelivered})
	case "rejected":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSFailed, ID: id, Cause: carrier.CauseFailed})
	}
	w.WriteHeader(http.StatusNoContent)
}

// NonceWindow is how long a signature nonce is remembered: a replay of a
// captured webhook within it is refused. Plivo's nonces carry no time, so
// past the window what stops a replay is the domain: an inbound call id
// it has seen gets its first answer, and a call event it has recorded is
// not applied twice.
const NonceWindow = time.Hour

// callRef is the carrier's id of the call a callback is about, as
// PlaceCall returned it (the Call API's request_uuid, which Plivo sends
// as RequestUUID on the callbacks of API calls); the domain checks it
// against the call placed under the URL's id.
func callRef(p url.Values) string { return p.Get("RequestUUID") }

// validUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F') {
				return false
			}
		}
	}
	return true
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
