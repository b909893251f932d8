package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// PlaceCall asks Twilio to place c and returns its CallSid. What happens
// next arrives at /call-status (and /answer, /gather for voice_otp).
func (c *Carrier) PlaceCall(ctx context.Context, call carrier.Call) (string, error) {
	if call.ID == "" || call.To == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("call without id or To")}
	}
	from := c.from.Pick(call.From)
	if from == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "no_caller_id", Err: errors.New("no caller ID: give the call one or configure from")}
	}
	q := url.Values{"id": {call.ID}}
	form := url.Values{
		"To":                   {call.To},
		"From":                 {from},
		"StatusCallback":       nil,
		"StatusCallbackMethod": {"POST"},
		"StatusCallbackEvent":  {"initiated", "ringing", "answered", "completed"},
	}
	if call.RingTimeout > 0 {
		form.Set("Timeout", strconv.Itoa(httpcarrier.Seconds(call.RingTimeout)))
	}
	switch {
	case call.OnAnswer == carrier.RunDialplan:
		if call.Dialplan == nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("voice call without a dialplan")}
		}
		tok, err := c.seal.SealIVR(call.ID, call.Dialplan, call.Vars, call.Dialplan.Start(call.Vars))
		if err != nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "dialplan", Err: err}
		}
		form.Set("Url", c.callback("/answer", url.Values{"id": {call.ID}, "s": {tok}}))
		form.Set("Method", "POST")
		// Synchronous detection: Twilio fetches /answer once it has judged
		// the answer, with AnsweredBy.
		form.Set("MachineDetection", "Enable")
		q.Set("ivr", "1")
	case call.OnAnswer == carrier.HangUp && !call.DropOnRing:
		// answer_call: the answer proves the number only if a person gave
		// it (voicemail answers a phone that is off). Twilio fetches
		// /answered once detection has judged it, with AnsweredBy; the
		// answer is hung up there.
		form.Set("Url", c.callback("/answered", url.Values{"id": {call.ID}, "s": {c.voice.SealAnswerOnly(call.ID)}}))
		form.Set("Method", "POST")
		form.Set("MachineDetection", "Enable")
		q.Set("ivr", "1")
	default:
		// Nothing to say: flash_call should never be answered (it is
		// cancelled on ringing).
		form.Set("Twiml", string(httpcarrier.TwiMLHangup()))
	}
	if call.DropOnRing {
		q.Set("drop", "1")
	}
	form["StatusCallback"] = []string{c.callback("/call-status", q)}
	return c.post(ctx, "/Calls.json", form)
}

// cancel ends a call that has not been answered (flash_call on ringing).
func (c *Carrier) cancel(ctx context.Context, sid string) error {
	if sid == "" || strings.ContainsAny(sid, "/?#%") {
		return fmt.Errorf("bad CallSid %q", sid)
	}
	_, err := c.post(ctx, "/Calls/"+url.PathEscape(sid)+".json", url.Values{"Status": {"canceled"}})
	return err
}

var _ carrier.CallEnder = (*Carrier)(nil)

// EndCall ends a call whose step is over: Status=completed cancels it if
// it is queued or ringing and hangs it up if it is in progress. A call
// Twilio no longer has (404) is over already.
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	if e.Ref == "" || strings.ContainsAny(e.Ref, "/?#%") {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: fmt.Errorf("bad CallSid %q", e.Ref)}
	}
	_, err := c.post(ctx, "/Calls/"+url.PathEscape(e.Ref)+".json", url.Values{"Status": {"completed"}})
	var ce *carrier.Error
	if errors.As(err, &ce) && ce.Code == "20404" {
		return nil
	}
	return err
}

// SendSMS sends m and returns the MessageSid.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	if m.ID == "" || m.To == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("message without id or To")}
	}
	from := c.from.Pick(m.From)
	if from == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "no_sender", Err: errors.New("no sender: give the message one or configure from")}
	}
	return c.post(ctx, "/Messages.json", url.Values{
		"To":             {m.To},
		"From":           {from},
		"Body":           {m.Text},
		"StatusCallback": {c.callback("/sms-status", url.Values{"id": {m.ID}})},
	})
}

// handleCallStatus maps Twilio's CallStatus onto ringgate's events:
// ringing → ringing (and, for a flash call, cancel); in-progress →
// answered (unless the dialplan's /answer reports it, with AMD); the
// final statuses → ended with a cause.
func (c *Carrier) handleCallStatus(w http.ResponseWriter, r *http.Request, p url.Values) {
	id, ok := httpcarrier.CommandID(w, r)
	if !ok {
		return
	}
	if p.Get("CallSid") == "" {
		httpcarrier.Problem(w, http.StatusBadRequest, "invalid_parameter", "CallSid is required")
		return
	}
	q := r.URL.Query()
	e, final := callEvent(p, q.Get("ivr") == "1")
	if e.Kind == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// Ref names the call the status is about (the signature covers the
	// body, not always the ?id=): the domain checks it is the call placed
	// under id.
	e.ID, e.Ref = id, p.Get("CallSid")
	if sc, err := strconv.Atoi(p.Get("SipResponseCode")); err == nil {
		e.SIPStatus = sc
	}
	if e.Kind == carrier.EventRinging && q.Get("drop") == "1" {
		// The caller ID (the code) has reached the phone: hang up before
		// anyone answers.
		if err := c.cancel(r.Context(), p.Get("CallSid")); err != nil {
			c.log.Warn("cancelling a flash call on ringing", slog.String("carrier", c.cfg.Name), slog.String("id", id), slog.Any("err", err))
		}
	}
	if err := c.emit(r.Context(), e); err != nil && final {
		httpcarrier.Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// callEvent maps Twilio's status callback (SIP status in SipResponseCode).
func callEvent(p url.Values, dialplan bool) (e carrier.Event, final bool) {
	return httpcarrier.TwiMLCallStatus(p.Get("CallStatus"), p.Get("AnsweredBy"), p.Get("SipResponseCode"), dialplan)
}

// handleSMSStatus maps MessageStatus: delivered → sms_delivered;
// undelivered → sms_failed (undelivered); failed → sms_failed (failed);
// queued, sending, sent, accepted, scheduled, read → nothing yet.
func (c *Carrier) handleSMSStatus(w http.ResponseWriter, r *http.Request, p url.Values) {
	id, ok := httpcarrier.CommandID(w, r)
	if !ok {
		return
	}
	e := smsEvent(p)
	if e.Kind == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	e.ID = id
	if err := c.emit(r.Context(), e); err != nil {
		httpcarrier.Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func smsEvent(p url.Values) carrier.Event {
	status := p.Get("MessageStatus")
	if status == "" {
		status = p.Get("SmsStatus")
	}
	switch status {
	case "delivered":
		return carrier.Event{Kind: carrier.EventSMSDelivered}
	case "undelivered":
		return carrier.Event{Kind: carrier.EventSMSFailed, Cause: carrier.CauseUndelivered}
	case "failed":
		return carrier.Event{Kind: carrier.EventSMSFailed, Cause: carrier.CauseFailed}
	}
	return carrier.Event{}
}
