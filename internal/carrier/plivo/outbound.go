package plivo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

// Kinds of call, as the sealed state records them.
const (
	kindFlash  = "flash"
	kindAnswer = "answer"
	kindOTP    = "otp"
)

func (c *Carrier) sealKind(id, kind string) string { return c.seal.Seal(id, []byte(kind)) }

func (c *Carrier) openKind(id, tok string) (string, error) {
	b, err := c.seal.Open(id, tok)
	if err != nil {
		return "", err
	}
	switch k := string(b); k {
	case kindFlash, kindAnswer, kindOTP:
		return k, nil
	}
	return "", httpcarrier.ErrSealed
}

// hookURL is one of ringgate's webhook URLs for command id: its sealed
// kind in "s" and, for voice_otp, the sealed dialplan session in "v".
func (c *Carrier) hookURL(path, id, kind, ivrTok string, extra ...string) string {
	q := url.Values{"id": {id}}
	if kind != "" {
		q.Set("s", c.sealKind(id, kind))
	}
	if ivrTok != "" {
		q.Set("v", ivrTok)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, path, q)
}

func (c *Carrier) accountPath(rest string) string {
	return c.base + "/v1/Account/" + url.PathEscape(c.cfg.AuthID) + rest
}

// makeCall is the body of POST /v1/Account/{auth_id}/Call/ (Plivo Voice
// API reference, "Make a call").
type makeCall struct {
	From             string `json:"from"`
	To               string `json:"to"`
	AnswerURL        string `json:"answer_url"`
	AnswerMethod     string `json:"answer_method"`
	RingURL          string `json:"ring_url"`
	RingMethod       string `json:"ring_method"`
	HangupURL        string `json:"hangup_url"`
	HangupMethod     string `json:"hangup_method"`
	RingTimeout      int    `json:"ring_timeout,omitempty"`
	TimeLimit        int    `json:"time_limit,omitempty"`
	MachineDetection string `json:"machine_detection,omitempty"`
}

// callFired is Plivo's 201 answer.
type callFired struct {
	APIID       string `json:"api_id"`
	Message     string `json:"message"`
	RequestUUID string `json:"request_uuid"`
}

// apiError is Plivo's error body: {"api_id": …, "error": …}.
type apiError struct {
	APIID string `json:"api_id"`
	Error any    `json:"error"` // a string, or an object of field errors
}

// PlaceCall asks Plivo to make the call. Plivo fetches the call's XML
// from ringgate's /answer when the callee answers, notifies /ring when it
// rings (a flash call is hung up there) and /hangup at the end.
func (c *Carrier) PlaceCall(ctx context.Context, call carrier.Call) (string, error) {
	kind, ivrTok := kindAnswer, ""
	body := makeCall{AnswerMethod: http.MethodPost, RingMethod: http.MethodPost, HangupMethod: http.MethodPost}
	switch {
	case call.OnAnswer == carrier.RunDialplan:
		plan := call.Dialplan
		if plan == nil {
			plan = ivr.Default()
		}
		tok, err := c.seal.SealIVR(call.ID, plan, call.Vars, plan.Start(call.Vars))
		if err != nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "dialplan", Err: err}
		}
		kind, ivrTok = kindOTP, tok
		// Synchronous detection: answer_url is requested once it has
		// judged, with Machine=true or false.
		body.MachineDetection = "true"
	case call.DropOnRing:
		kind = kindFlash
		body.TimeLimit = 1 // answered after all: end it at once
	default:
		// answer_call: only a person's answer proves the number (voicemail
		// answers a phone that is off). answer_url is requested once
		// detection has judged, with Machine=true or false, and hangs up.
		body.MachineDetection = "true"
	}
	body.From, body.To = httpcarrier.Digits(c.from.Pick(call.From)), httpcarrier.Digits(call.To)
	if body.To == "" || body.From == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseUnreachable, Err: fmt.Errorf("need a to and a from number, got %q and %q", call.To, call.From)}
	}
	if call.RingTimeout > 0 {
		body.RingTimeout = httpcarrier.Seconds(call.RingTimeout)
	}
	body.AnswerURL = c.hookURL("/answer", call.ID, kind, ivrTok)
	body.RingURL = c.hookURL("/ring", call.ID, kind, "")
	body.HangupURL = c.hookURL("/hangup", call.ID, kind, "")
	var out callFired
	if err := c.api(ctx, http.MethodPost, "/Call/", body, &out); err != nil {
		return "", fmt.Errorf("place call: %w", err)
	}
	return out.RequestUUID, nil
}

var _ carrier.CallEnder = (*Carrier)(nil)

// EndCall ends a call whose step is over. Once Plivo has named the call
// (ring_url, answer_url: its CallUUID) it is hung up (DELETE
// …/Call/{call_uuid}/); before that, or on a node that did not see those
// webhooks, the request is cancelled by the request_uuid PlaceCall
// returned (DELETE …/Request/{request_uuid}/), which ends a call that is
// queued or ringing. A 404 means it is over already.
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	if m := c.memo(e.ID, false); m != nil && m.callUUID != "" {
		return c.hangup(ctx, m.callUUID)
	}
	if e.Ref == "" {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("no request_uuid to end")}
	}
	err := c.api(ctx, http.MethodDelete, "/Request/"+url.PathEscape(e.Ref)+"/", nil, nil)
	var ce *carrier.Error
	if errors.As(err, &ce) && ce.Code == "http_404" {
		return nil
	}
	return err
}

// hangup ends a call (DELETE /v1/Account/{auth_id}/Call/{call_uuid}/).
// A 404 means the call is over already, which is what was wanted.
func (c *Carrier) hangup(ctx context.Context, callUUID string) error {
	err := c.api(ctx, http.MethodDelete, "/Call/"+url.PathEscape(callUUID)+"/", nil, nil)
	var ce *carrier.Error
	if errors.As(err, &ce) && ce.Code == "http_404" {
		return nil
	}
	return err
}

// api sends an authenticated request to the account's API and decodes a
// 2xx answer into out. Failures are *carrier.Error: 5xx, 429 and transport
// errors retryable; 400 (validation: a bad number, a bad URL), 401
// (credentials), 402 (insufficient credit), 403 and 404 terminal.
func (c *Carrier) api(ctx context.Context, method, path string, in, out any) error {
	req, err := httpcarrier.NewJSONRequest(ctx, method, c.accountPath(path), in)
	if err != nil {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "request", Err: err}
	}
	req.SetBasicAuth(c.cfg.AuthID, c.cfg.AuthToken)
	res, err := httpcarrier.Do(c.client, c.cfg.Name, req)
	if err != nil {
		return err
	}
	if !res.OK() {
		msg := string(trim(res.Body))
		var e apiError
		if json.Unmarshal(res.Body, &e) == nil && e.Error != nil {
			if s, ok := e.Error.(string); ok {
				msg = s
			} else if b, err := json.Marshal(e.Error); err == nil {
				msg = string(b)
			}
		}
		return httpcarrier.Classify(c.cfg.Name, res.Status, "", msg, nil)
	}
	if out != nil && json.Unmarshal(res.Body, out) != nil {
		return &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("unreadable %d answer: %.200q", res.Status, res.Body)}
	}
	return nil
}

// sendMessage is the body of POST /v1/Account/{auth_id}/Message/.
type sendMessage struct {
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	Text   string `json:"text"`
	URL    string `json:"url"`
	Method string `json:"method"`
}

// messageQueued is Plivo's 202 answer.
type messageQueued struct {
	APIID       string   `json:"api_id"`
	Message     string   `json:"message"`
	MessageUUID []string `json:"message_uuid"`
}

// SendSMS sends the text with the Message API; its status callback (with
// ringgate's id in the URL) reports delivery.
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	src := httpcarrier.PlusLessSender(c.from.Pick(m.From))
	dst := httpcarrier.Digits(m.To)
	if src == "" || dst == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseUnreachable, Err: fmt.Errorf("need a to and a from, got %q and %q", m.To, m.From)}
	}
	// The id goes in the path, not the query: message callbacks may be
	// signed with V2 only, which covers the path but not the query.
	body := sendMessage{Src: src, Dst: dst, Text: m.Text, Method: http.MethodPost,
		URL: httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, "/sms-status/"+url.PathEscape(m.ID), nil)}
	var out messageQueued
	if err := c.api(ctx, http.MethodPost, "/Message/", body, &out); err != nil {
		return "", fmt.Errorf("send sms: %w", err)
	}
	if len(out.MessageUUID) == 0 {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: errors.New("send sms: no message_uuid in the answer")}
	}
	return out.MessageUUID[0], nil
}

func trim(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// hangupTimeout bounds the DELETE of a flash call from the ring webhook.
const hangupTimeout = 10 * time.Second
