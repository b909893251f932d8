package telnyx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
)

// callRequest is the body of POST /texml/calls/{connection_id}. Names are
// case-sensitive, as Telnyx documents them.
type callRequest struct {
	To                   string `json:"To"`
	From                 string `json:"From"`
	URL                  string `json:"Url,omitempty"`
	Method               string `json:"Method,omitempty"`
	Texml                string `json:"Texml,omitempty"`
	StatusCallback       string `json:"StatusCallback"`
	StatusCallbackMethod string `json:"StatusCallbackMethod"`
	StatusCallbackEvent  string `json:"StatusCallbackEvent"`
	Timeout              int    `json:"Timeout,omitempty"`
	MachineDetection     string `json:"MachineDetection,omitempty"`
}

// PlaceCall asks Telnyx to place c and returns its call_sid.
func (c *Carrier) PlaceCall(ctx context.Context, call carrier.Call) (string, error) {
	if c.cfg.ConnectionID == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "unsupported", Err: errors.New("no connection_id configured for outbound calls")}
	}
	if call.ID == "" || call.To == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("call without id or To")}
	}
	body := callRequest{
		To: call.To, From: c.from.Pick(call.From),
		StatusCallbackMethod: "POST", StatusCallbackEvent: "initiated ringing answered completed",
	}
	if body.From == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "no_caller_id", Err: errors.New("no caller ID: give the call one or configure from")}
	}
	if call.RingTimeout > 0 {
		body.Timeout = httpcarrier.Seconds(call.RingTimeout)
	}
	q := url.Values{"id": {call.ID}}
	if call.OnAnswer == carrier.RunDialplan {
		if call.Dialplan == nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("voice call without a dialplan")}
		}
		tok, err := c.seal.SealIVR(call.ID, call.Dialplan, call.Vars, call.Dialplan.Start(call.Vars))
		if err != nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "dialplan", Err: err}
		}
		body.URL = c.callback("/answer", url.Values{"id": {call.ID}, "s": {tok}})
		body.Method = "POST"
		body.MachineDetection = "Enable"
		q.Set("ivr", "1")
	} else if call.OnAnswer == carrier.HangUp && !call.DropOnRing {
		// answer_call: only a person's answer proves the number. Telnyx
		// fetches /answered once AnsweringMachineDetection has judged the
		// answer (MachineDetection=Enable), with AnsweredBy.
		body.URL = c.callback("/answered", url.Values{"id": {call.ID}, "s": {c.voice.SealAnswerOnly(call.ID)}})
		body.Method = "POST"
		body.MachineDetection = "Enable"
		q.Set("ivr", "1")
	} else {
		body.Texml = string(httpcarrier.TwiMLHangup())
	}
	if call.DropOnRing {
		q.Set("drop", "1")
	}
	body.StatusCallback = c.callback("/call-status", q)
	res, err := c.do(httpcarrier.NewJSONRequest(ctx, http.MethodPost, c.cfg.APIBase+"/texml/calls/"+url.PathEscape(c.cfg.ConnectionID), body))
	if err != nil {
		return "", err
	}
	var ok struct {
		CallSid string `json:"call_sid"`
		Sid     string `json:"sid"`
		Data    *struct {
			CallSid string `json:"call_sid"`
			Sid     string `json:"sid"`
		} `json:"data"`
	}
	_ = json.Unmarshal(res.Body, &ok)
	ref := ok.CallSid
	if ok.Data != nil && ref == "" {
		ref = ok.Data.CallSid
	}
	if ref == "" {
		ref = ok.Sid
	}
	if ref == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("HTTP %d without a call_sid", res.Status)}
	}
	return ref, nil
}

// hangUp ends a call before answer (flash_call on ringing) through the
// TeXML update-call API, which takes a form body.
func (c *Carrier) hangUp(ctx context.Context, accountSid, callSid string) error {
	if accountSid == "" || callSid == "" {
		return errors.New("no AccountSid or CallSid in the callback")
	}
	u := c.cfg.APIBase + "/texml/Accounts/" + url.PathEscape(accountSid) + "/Calls/" + url.PathEscape(callSid)
	_, err := c.do(httpcarrier.NewFormRequest(ctx, u, url.Values{"Status": {"completed"}}))
	return err
}

var _ carrier.CallEnder = (*Carrier)(nil)

// EndCall ends a call whose step is over by its call_sid, through the
// TeXML update-call request that needs no account sid (POST
// /texml/calls/{call_sid}/update, Status=completed: cancels a ringing
// call, hangs up an answered one). A call Telnyx no longer has (404) is
// over already.
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	if e.Ref == "" {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("no call_sid to end")}
	}
	u := c.cfg.APIBase + "/texml/calls/" + url.PathEscape(e.Ref) + "/update"
	_, err := c.do(httpcarrier.NewJSONRequest(ctx, http.MethodPost, u, map[string]string{"Status": "completed"}))
	var ce *carrier.Error
	if errors.As(err, &ce) && ce.Code == "10005" { // not found
		return nil
	}
	return err
}

// messageRequest is the body of POST /messages.
type messageRequest struct {
	From               string `json:"from"`
	To                 string `json:"to"`
	Text               string `json:"text"`
	MessagingProfileID string `json:"messaging_profile_id,omitempty"`
	WebhookURL         string `json:"webhook_url"`
	UseProfileWebhooks bool   `json:"use_profile_webhooks"`
}

// SendSMS sends m and returns Telnyx's message id.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	if m.ID == "" || m.To == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("message without id or To")}
	}
	from := c.from.Pick(m.From)
	if from == "" && c.cfg.MessagingProfileID == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "no_sender", Err: errors.New("no sender: configure from or a messaging profile")}
	}
	res, err := c.do(httpcarrier.NewJSONRequest(ctx, http.MethodPost, c.cfg.APIBase+"/messages", messageRequest{
		From: from, To: m.To, Text: m.Text, MessagingProfileID: c.cfg.MessagingProfileID,
		WebhookURL: c.callback("/sms-status", url.Values{"id": {m.ID}}),
	}))
	if err != nil {
		return "", err
	}
	var ok struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &ok); err != nil || ok.Data.ID == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("HTTP %d without data.id", res.Status)}
	}
	return ok.Data.ID, nil
}

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
	e, final := callEvent(p, q.Get("ivr") == "1", q.Get("drop") == "1")
	if e.Kind == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	// Ref names the call the status is about (Telnyx signs the body, not
	// the ?id=): the domain checks it is the call placed under id.
	e.ID, e.Ref = id, p.Get("CallSid")
	if e.Kind == carrier.EventRinging && q.Get("drop") == "1" {
		if err := c.hangUp(r.Context(), p.Get("AccountSid"), p.Get("CallSid")); err != nil {
			c.log.Warn("ending a flash call on ringing", slog.String("carrier", c.cfg.Name), slog.String("id", id), slog.Any("err", err))
		}
	}
	if err := c.emit(r.Context(), e); err != nil && final {
		// Telnyx retries a webhook that is not answered 200 (at the
		// failover URL).
		httpcarrier.Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// callEvent maps a TeXML status callback (SIP status in SipHangupCause).
// A flash call ringgate ended on ringing, before anyone answered, reports
// completed without AnsweredTime: that is a drop, as meant.
func callEvent(p url.Values, dialplan, drop bool) (e carrier.Event, final bool) {
	e, final = httpcarrier.TwiMLCallStatus(p.Get("CallStatus"), p.Get("AnsweredBy"), p.Get("SipHangupCause"), dialplan)
	if drop && p.Get("CallStatus") == "completed" && p.Get("AnsweredTime") == "" {
		e.Cause = carrier.CauseDropped
	}
	return e, final
}

// smsWebhook is a messaging webhook: {"data": {"event_type":
// "message.finalized", "payload": {"id": …, "to": [{"phone_number": …,
// "status": "delivered"}], "errors": […]}}}.
type smsWebhook struct {
	Data struct {
		EventType string `json:"event_type"`
		Payload   struct {
			ID string `json:"id"`
			To []struct {
				PhoneNumber string `json:"phone_number"`
				Status      string `json:"status"`
			} `json:"to"`
		} `json:"payload"`
	} `json:"data"`
}

// handleSMSStatus maps the recipient's status: delivered → sms_delivered;
// delivery_failed → sms_failed (undelivered); sending_failed → sms_failed
// (failed); queued, sending, sent, delivery_unconfirmed → nothing.
func (c *Carrier) handleSMSStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	id, ok := httpcarrier.CommandID(w, r)
	if !ok {
		return
	}
	e, err := smsEvent(body)
	if err != nil {
		httpcarrier.Problem(w, http.StatusBadRequest, "malformed_json", err.Error())
		return
	}
	if e.Kind == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	e.ID = id
	if err := c.emit(r.Context(), e); err != nil {
		httpcarrier.Problem(w, http.StatusServiceUnavailable, "unavailable", "the event could not be recorded")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func smsEvent(body []byte) (carrier.Event, error) {
	var hook smsWebhook
	if err := json.Unmarshal(body, &hook); err != nil {
		return carrier.Event{}, errors.New("the webhook body is not Telnyx's JSON")
	}
	if len(hook.Data.Payload.To) == 0 {
		return carrier.Event{}, nil
	}
	// Ref is Telnyx's message id, the one SendSMS returned: the domain
	// checks it against the job, since the signature does not cover the
	// ?id= this webhook was posted to.
	ref := hook.Data.Payload.ID
	switch hook.Data.Payload.To[0].Status {
	case "delivered":
		return carrier.Event{Kind: carrier.EventSMSDelivered, Ref: ref}, nil
	case "delivery_failed":
		return carrier.Event{Kind: carrier.EventSMSFailed, Cause: carrier.CauseUndelivered, Ref: ref}, nil
	case "sending_failed":
		return carrier.Event{Kind: carrier.EventSMSFailed, Cause: carrier.CauseFailed, Ref: ref}, nil
	}
	return carrier.Event{}, nil
}
