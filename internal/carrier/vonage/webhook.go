package vonage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/httpcarrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

// ServeHTTP serves Vonage's webhooks (see the package doc for the routes).
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !httpcarrier.GetOrPost(w, r) {
		return
	}
	body, err := httpcarrier.ReadBody(r)
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "body_too_large", "webhook body unreadable or over 64 KiB")
		return
	}
	switch r.URL.Path {
	case "/answer", "/event", "/input":
		if err := c.authVoice(r, body); err != nil {
			c.refuse(w, r, err)
			return
		}
	case "/sms-status":
		params, err := smsParams(r, body)
		if err != nil {
			problem(w, http.StatusBadRequest, "malformed", err.Error())
			return
		}
		if !verifySMSSig(params, c.cfg.SignatureSecret) {
			c.refuse(w, r, errSignature)
			return
		}
		c.smsStatus(r.Context(), w, params)
		return
	default:
		problem(w, http.StatusNotFound, "no_such_route", "no Vonage webhook at "+r.URL.Path)
		return
	}
	switch r.URL.Path {
	case "/answer":
		c.answer(w, r, body)
	case "/event":
		c.callEvent(w, r, body)
	case "/input":
		c.input(w, r, body)
	}
}

// authVoice checks a voice webhook's signed JWT and its payload_hash,
// and that the token was not used before. The token signs the body only
// (payload_hash), not the URL: a webhook without a body (GET, where
// Vonage puts from, to and uuid in the query) would carry state nobody
// signed, and any token captured in the last ten minutes would vouch for
// it. So voice webhooks must be POST with a body (answer_method and
// event_method POST), and each token's jti is accepted once.
func (c *Carrier) authVoice(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || len(bytes.TrimSpace(body)) == 0 {
		return errUnsignedState
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return errNoToken
	}
	claims, err := verifyJWT(strings.TrimSpace(tok), c.cfg.SignatureSecret, c.now())
	if err != nil {
		return err
	}
	if k, _ := claims["api_key"].(string); k != "" && c.cfg.APIKey != "" && k != c.cfg.APIKey {
		return errors.New("token for another api_key")
	}
	if a, _ := claims["application_id"].(string); a != "" && c.cfg.ApplicationID != "" && a != c.cfg.ApplicationID {
		return errors.New("token for another application")
	}
	if err := checkPayloadHash(claims, body); err != nil {
		return err
	}
	jti, _ := claims["jti"].(string)
	iat, _ := claims["iat"].(float64)
	if jti == "" || iat == 0 {
		return errNoJTI
	}
	// Remembered for as long as verifyJWT would accept the token.
	until := time.Unix(int64(iat), 0).Add((maxTokenAge + 60) * time.Second)
	if c.jtis.Seen(jti, c.now(), until) {
		return errReplayed
	}
	return nil
}

// refuse answers 403 to an unauthenticated webhook and counts it.
func (c *Carrier) refuse(w http.ResponseWriter, r *http.Request, err error) {
	c.refusals.Refuse(w, r, c.log, c.cfg.Name, err.Error())
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	httpcarrier.Problem(w, status, code, detail)
}

// callInfo is the part of Vonage's answer and event webhooks ringgate reads.
type callInfo struct {
	From             string `json:"from"`
	To               string `json:"to"`
	UUID             string `json:"uuid"`
	ConversationUUID string `json:"conversation_uuid"`
	Status           string `json:"status"`
	Direction        string `json:"direction"`
	Timestamp        string `json:"timestamp"`
	// input webhooks: dtmf is an object {"digits","timed_out"} in the
	// current API and was a bare string with a top-level timed_out before.
	DTMF     json.RawMessage `json:"dtmf"`
	TimedOut bool            `json:"timed_out"`
}

// parseCallInfo reads a webhook's fields from its JSON body (the only
// part the token signs: authVoice refuses webhooks without one).
func parseCallInfo(r *http.Request, body []byte) (callInfo, error) {
	var ci callInfo
	if err := json.Unmarshal(body, &ci); err != nil {
		return ci, errors.New("body is not Vonage's JSON: " + err.Error())
	}
	return ci, nil
}

// dtmfOf returns an input webhook's digits ("" on timeout).
func (ci callInfo) dtmfOf() (string, error) {
	raw := bytes.TrimSpace(ci.DTMF)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var d struct {
		Digits   string `json:"digits"`
		TimedOut bool   `json:"timed_out"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", err
	}
	return d.Digits, nil
}

// ncco actions ringgate emits.
type nccoAction struct {
	Action      string    `json:"action"`
	Text        string    `json:"text,omitempty"`
	Language    string    `json:"language,omitempty"`
	Style       int       `json:"style,omitempty"`
	Type        []string  `json:"type,omitempty"`
	DTMF        *nccoDTMF `json:"dtmf,omitempty"`
	EventURL    []string  `json:"eventUrl,omitempty"`
	EventMethod string    `json:"eventMethod,omitempty"`
}

type nccoDTMF struct {
	MaxDigits int `json:"maxDigits"`
	TimeOut   int `json:"timeOut"`
}

// Vonage's limits on a dtmf input: timeOut 0–10 s, maxDigits 1–20.
const maxInputTimeout = 10

// talkLanguage is an NCCO talk's language for a TTS tag: the tag as it is
// ("fr-FR"), Vonage's spelling where it differs (Mandarin "cmn-CN",
// Arabic "ar"), en-US when the call names none.
func talkLanguage(tag string) string {
	switch strings.ToLower(tag) {
	case "":
		return "en-US"
	case "zh-cn":
		return "cmn-CN"
	case "zh-tw":
		return "cmn-TW"
	case "ar-sa":
		return "ar"
	}
	return tag
}

// nccoOf translates a dialplan's actions: each Say a talk; a Gather an
// input (dtmf) whose eventUrl carries the session, sealed; a HangUp is the
// end of the NCCO, which ends the call.
func (c *Carrier) nccoOf(id string, call *httpcarrier.IVRCall, acts []ivr.Action) ([]nccoAction, error) {
	out := []nccoAction{}
	for _, a := range acts {
		switch a.Kind {
		case ivr.Say:
			out = append(out, nccoAction{Action: "talk", Text: a.Text, Language: talkLanguage(a.Language)})
		case ivr.Gather:
			tok, err := c.seal.SealIVR(id, call.Plan, call.Vars, call.Session)
			if err != nil {
				return nil, err
			}
			out = append(out, nccoAction{
				Action: "input", Type: []string{"dtmf"},
				DTMF:     &nccoDTMF{MaxDigits: min(max(a.MaxDigits, 1), 20), TimeOut: min(httpcarrier.Seconds(a.Timeout), maxInputTimeout)},
				EventURL: []string{c.hookURL("/input", id, c.sealState(id, state{Kind: kindOTP}), tok)}, EventMethod: http.MethodPost,
			})
		case ivr.HangUp:
			return out, nil
		}
	}
	return out, nil
}

func writeNCCO(w http.ResponseWriter, ncco []nccoAction) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ncco)
}

// prompts reports what the call says (the IVR transcript).
func (c *Carrier) prompts(ctx context.Context, id string, acts []ivr.Action) {
	for _, e := range httpcarrier.PromptEvents(c.cfg.Name, id, acts, c.now()) {
		c.event(ctx, e)
	}
}

// speak answers a webhook with the NCCO of acts.
func (c *Carrier) speak(w http.ResponseWriter, r *http.Request, id string, call *httpcarrier.IVRCall, acts []ivr.Action) {
	c.prompts(r.Context(), id, acts)
	ncco, err := c.nccoOf(id, call, acts)
	if err != nil {
		c.log.ErrorContext(r.Context(), "sealing a dialplan session", slog.String("id", id), slog.Any("err", err))
		ncco = []nccoAction{}
	}
	writeNCCO(w, ncco)
}

// answer serves answer_url. Ringgate's own calls carry id and s; anything
// else is an inbound call to a pool number.
func (c *Carrier) answer(w http.ResponseWriter, r *http.Request, body []byte) {
	ci, err := parseCallInfo(r, body)
	if err != nil {
		problem(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		c.inbound(w, r, ci)
		return
	}
	st, err := c.openState(id, r.URL.Query().Get("s"))
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_state", "the call state in the URL does not open")
		return
	}
	if st.Kind == kindAnswer {
		// Hold the line in silence while machine detection judges the
		// answer (its verdict arrives at /event); the NCCO then ends.
		writeNCCO(w, []nccoAction{{Action: "talk", Text: fmt.Sprintf(`<speak><break time="%ds"/></speak>`, answerHold)}})
		return
	}
	if st.Kind != kindOTP {
		writeNCCO(w, []nccoAction{}) // flash call: end it now
		return
	}
	call, err := c.seal.OpenIVR(id, r.URL.Query().Get("v"))
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_state", "the dialplan state in the URL does not open")
		return
	}
	// Vonage hangs up on machines itself (machine_detection "hangup"), so
	// whoever is still here when the NCCO is fetched is not known to be a
	// machine.
	c.speak(w, r, id, call, call.Session.Answered(carrier.AnsweredUnknown))
}

// inbound handles a call to a pool number: the domain decides, and the
// call is refused with an empty NCCO (see docs/carriers.md on
// what Vonage documents about refusing calls).
func (c *Carrier) inbound(w http.ResponseWriter, r *http.Request, ci callInfo) {
	if ci.From == "" || ci.To == "" {
		problem(w, http.StatusBadRequest, "malformed", "an inbound call needs from and to")
		return
	}
	if ci.UUID == "" {
		problem(w, http.StatusBadRequest, "malformed", "an inbound call needs its uuid")
		return
	}
	// Vonage writes E.164 without its '+' ("447700900123").
	_, err := c.cfg.Inbound.InboundCall(r.Context(), carrier.InboundCall{
		From: httpcarrier.PlusDigits(ci.From), To: httpcarrier.PlusDigits(ci.To), Country: c.cfg.Country, Carrier: c.cfg.Name, CallID: ci.UUID, At: c.now(),
	})
	if err != nil {
		// Vonage retries answer_url once on a 503.
		c.log.ErrorContext(r.Context(), "inbound call not decided", slog.String("uuid", ci.UUID), slog.Any("err", err))
		problem(w, http.StatusServiceUnavailable, "unavailable", "could not decide on the call")
		return
	}
	writeNCCO(w, []nccoAction{})
}

// callEvent serves event_url: call status changes of ringgate's calls.
func (c *Carrier) callEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ci, err := parseCallInfo(r, body)
	if err != nil {
		problem(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" { // events of inbound calls: nothing to do
		w.WriteHeader(http.StatusNoContent)
		return
	}
	st, err := c.openState(id, r.URL.Query().Get("s"))
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_state", "the call state in the URL does not open")
		return
	}
	ctx := r.Context()
	switch ci.Status {
	case "ringing":
		c.event(ctx, carrier.Event{Kind: carrier.EventRinging, ID: id, Ref: ci.UUID})
		if st.Kind == kindFlash {
			c.memo(id, true).dropped = true
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := c.hangup(hctx, ci.UUID); err != nil {
				c.log.WarnContext(ctx, "hanging up a flash call on ringing", slog.String("id", id), slog.Any("err", err))
			}
			cancel()
		}
	case "answered":
		c.event(ctx, carrier.Event{Kind: carrier.EventAnswered, ID: id, AnsweredBy: carrier.AnsweredUnknown, Ref: ci.UUID})
	case "human", "machine":
		// Machine detection's verdict. answer_call needs it (a voicemail
		// answers a phone that is off); a voice_otp call is hung up on a
		// machine by Vonage itself.
		by := carrier.AnsweredHuman
		if ci.Status == "machine" {
			by = carrier.AnsweredMachine
			c.memo(id, true).machine = true
		}
		if st.Kind == kindAnswer {
			c.event(ctx, carrier.Event{Kind: carrier.EventAnswered, ID: id, AnsweredBy: by, Ref: ci.UUID})
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := c.hangup(hctx, ci.UUID); err != nil {
				c.log.WarnContext(ctx, "hanging up an answer_call once judged", slog.String("id", id), slog.Any("err", err))
			}
			cancel()
		}
	case "completed", "busy", "cancelled", "failed", "rejected", "timeout", "unanswered":
		cause := c.endCause(id, st, ci.Status)
		c.forget(id)
		c.event(ctx, carrier.Event{Kind: carrier.EventEnded, ID: id, Cause: cause, Ref: ci.UUID})
	}
	w.WriteHeader(http.StatusNoContent)
}

// endCause maps a final call status (Voice API "Event webhook" statuses)
// to ringgate's cause.
func (c *Carrier) endCause(id string, st state, status string) string {
	m := c.memo(id, false)
	switch {
	case m != nil && m.machine:
		return carrier.CauseMachine
	case st.Kind == kindFlash && (status == "cancelled" || (m != nil && m.dropped && status != "completed")):
		return carrier.CauseDropped
	}
	switch status {
	case "completed":
		return carrier.CauseCompleted
	case "busy":
		return carrier.CauseBusy
	case "rejected":
		return carrier.CauseRejected
	case "timeout", "unanswered", "cancelled":
		return carrier.CauseNoAnswer
	}
	return carrier.CauseFailed
}

// input serves the input action's eventUrl: the digits (or a timeout)
// drive the dialplan, whose next actions are the answer.
func (c *Carrier) input(w http.ResponseWriter, r *http.Request, body []byte) {
	ci, err := parseCallInfo(r, body)
	if err != nil {
		problem(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	dtmf, err := ci.dtmfOf()
	if err != nil {
		problem(w, http.StatusBadRequest, "malformed", "dtmf: "+err.Error())
		return
	}
	id := r.URL.Query().Get("id")
	st, err := c.openState(id, r.URL.Query().Get("s"))
	if err != nil || st.Kind != kindOTP {
		problem(w, http.StatusBadRequest, "bad_state", "the call state in the URL does not open")
		return
	}
	call, err := c.seal.OpenIVR(id, r.URL.Query().Get("v"))
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_state", "the dialplan state in the URL does not open")
		return
	}
	var acts []ivr.Action
	if dtmf == "" {
		acts = call.Session.Timeout()
	} else {
		c.event(r.Context(), carrier.Event{Kind: carrier.EventDTMF, ID: id, Digits: dtmf, Ref: ci.UUID})
		acts = call.Session.Digits(dtmf)
	}
	c.speak(w, r, id, call, acts)
}

// smsParams collects a delivery receipt's parameters: the query for GET
// receipts, plus a form or JSON body for POST ones (an account setting).
func smsParams(r *http.Request, body []byte) (url.Values, error) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, errors.New("body is not JSON: " + err.Error())
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				params.Set(k, v)
			case float64:
				params.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			case bool:
				params.Set(k, strconv.FormatBool(v))
			}
		}
		return params, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("body is not a form: " + err.Error())
	}
	for k, v := range form {
		params[k] = v
	}
	return params, nil
}

// smsStatus maps a delivery receipt (SMS API "Delivery Receipt" webhook)
// to ringgate's events: delivered; expired, failed, rejected are
// failures; accepted, buffered and unknown are interim and ignored.
func (c *Carrier) smsStatus(ctx context.Context, w http.ResponseWriter, p url.Values) {
	id := p.Get("client-ref")
	if id == "" {
		// Signed by Vonage but not about a text ringgate sent (no
		// client-ref): acknowledge it, or Vonage keeps retrying.
		c.log.InfoContext(ctx, "delivery receipt without client-ref ignored", slog.String("message_id", p.Get("messageId")))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch p.Get("status") {
	case "delivered":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSDelivered, ID: id})
	case "expired", "failed":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSFailed, ID: id, Cause: carrier.CauseUndelivered})
	case "rejected":
		c.event(ctx, carrier.Event{Kind: carrier.EventSMSFailed, ID: id, Cause: carrier.CauseFailed})
	}
	w.WriteHeader(http.StatusNoContent)
}
