package vonage

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
	kindFlash  = "flash"  // drop on ringing
	kindAnswer = "answer" // hang up once machine detection has judged the answer
	kindOTP    = "otp"    // run the dialplan
)

// state is what ringgate keeps in its callback URLs (the "s" parameter),
// sealed to the call id. A voice_otp call's dialplan session travels
// beside it in "v", sealed by httpcarrier.Sealer.SealIVR.
type state struct {
	Kind string `json:"k"`
}

func (c *Carrier) sealState(id string, st state) string {
	b, _ := json.Marshal(st)
	return c.seal.Seal(id, b)
}

func (c *Carrier) openState(id, tok string) (state, error) {
	var st state
	b, err := c.seal.Open(id, tok)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, httpcarrier.ErrSealed
	}
	return st, nil
}

// hookURL is the URL of one of ringgate's webhooks for command id, with
// its sealed state and, for voice_otp, its sealed dialplan session.
func (c *Carrier) hookURL(path, id, sealed, ivrTok string) string {
	q := url.Values{"id": {id}, "s": {sealed}}
	if ivrTok != "" {
		q.Set("v", ivrTok)
	}
	return httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, path, q)
}

// Vonage's limits on the timers of a call, in seconds.
const (
	minRinging = 1
	// answerHold is how long, in seconds, an answered answer_call is held
	// in silence for machine detection's verdict.
	answerHold = 10
	maxRinging = 120
)

// createCall is the body of POST /v1/calls (Voice API reference,
// "Create an outbound call").
type createCall struct {
	To               []endpoint `json:"to"`
	From             endpoint   `json:"from"`
	AnswerURL        []string   `json:"answer_url"`
	AnswerMethod     string     `json:"answer_method"`
	EventURL         []string   `json:"event_url"`
	EventMethod      string     `json:"event_method"`
	MachineDetection string     `json:"machine_detection,omitempty"`
	RingingTimer     int        `json:"ringing_timer,omitempty"`
	LengthTimer      int        `json:"length_timer,omitempty"`
}

type endpoint struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

// callCreated is Vonage's 201 answer.
type callCreated struct {
	UUID             string `json:"uuid"`
	Status           string `json:"status"`
	Direction        string `json:"direction"`
	ConversationUUID string `json:"conversation_uuid"`
}

// apiProblem is the Voice API's error body (RFC 7807 style).
type apiProblem struct {
	Type              string `json:"type"`
	Title             string `json:"title"`
	Detail            string `json:"detail"`
	Instance          string `json:"instance"`
	InvalidParameters []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid_parameters"`
}

// PlaceCall creates the call with the Voice API. The call's NCCO comes
// from ringgate's /answer webhook when the callee answers: nothing for
// flash and answer calls (an empty NCCO ends the call), the dialplan for
// voice_otp. Flash calls ring for at most RingTimeout and are hung up on
// the first "ringing" event.
func (c *Carrier) PlaceCall(ctx context.Context, call carrier.Call) (string, error) {
	st := state{Kind: kindAnswer}
	body := createCall{AnswerMethod: http.MethodPost, EventMethod: http.MethodPost}
	ivrTok := ""
	switch {
	case call.OnAnswer == carrier.RunDialplan:
		plan := call.Dialplan
		if plan == nil {
			plan = ivr.Default()
		}
		st.Kind = kindOTP
		tok, err := c.seal.SealIVR(call.ID, plan, call.Vars, plan.Start(call.Vars))
		if err != nil {
			return "", &carrier.Error{Carrier: c.cfg.Name, Code: "dialplan", Err: err}
		}
		ivrTok = tok
		// Vonage hangs up on a machine itself; a plan's machine branch
		// beyond hanging up is not run (see docs).
		body.MachineDetection = "hangup"
	case call.DropOnRing:
		st.Kind = kindFlash
		body.LengthTimer = 1 // answered after all: end it at once
	default:
		// answer_call: only a person's answer proves the number. Standard
		// machine detection, "continue": Vonage reports the verdict to
		// event_url as status "human" or "machine" while the answer NCCO
		// keeps the line up; ringgate hangs up on the verdict.
		body.MachineDetection = "continue"
		body.LengthTimer = answerHold + 5 // nobody judged by then: over
	}
	to, from := httpcarrier.Digits(call.To), httpcarrier.Digits(c.from.Pick(call.From))
	if to == "" || from == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseUnreachable, Err: fmt.Errorf("need a to and a from number, got %q and %q", call.To, call.From)}
	}
	body.To = []endpoint{{Type: "phone", Number: to}}
	body.From = endpoint{Type: "phone", Number: from}
	if call.RingTimeout > 0 {
		body.RingingTimer = min(max(int((call.RingTimeout+time.Second-1)/time.Second), minRinging), maxRinging)
	}
	sealed := c.sealState(call.ID, st)
	body.AnswerURL = []string{c.hookURL("/answer", call.ID, sealed, ivrTok)}
	body.EventURL = []string{c.hookURL("/event", call.ID, sealed, "")}

	var out callCreated
	if err := c.voiceAPI(ctx, http.MethodPost, "/v1/calls", body, &out); err != nil {
		return "", fmt.Errorf("place call: %w", err)
	}
	return out.UUID, nil
}

var _ carrier.CallEnder = (*Carrier)(nil)

// EndCall ends a call whose step is over (PUT /v1/calls/{uuid}, action
// hangup: cancels it while it rings, hangs it up once answered). A call
// Vonage no longer has (404) is over already.
func (c *Carrier) EndCall(ctx context.Context, e carrier.CallEnd) error {
	if e.Ref == "" {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "invalid", Err: errors.New("no call uuid to end")}
	}
	err := c.hangup(ctx, e.Ref)
	var ce *carrier.Error
	if errors.As(err, &ce) && ce.Code == "http_404" {
		return nil
	}
	return err
}

// hangup ends a call (PUT /v1/calls/{uuid} {"action":"hangup"}).
func (c *Carrier) hangup(ctx context.Context, uuid string) error {
	return c.voiceAPI(ctx, http.MethodPut, "/v1/calls/"+url.PathEscape(uuid), map[string]string{"action": "hangup"}, nil)
}

// voiceAPI sends a JWT-authenticated Voice API request and decodes a 2xx
// answer into out (nil: ignore it). Failures are *carrier.Error: 5xx, 429
// and transport errors retryable; 400 (invalid parameters), 401
// (credentials), 402 (balance), 403, 404 terminal.
func (c *Carrier) voiceAPI(ctx context.Context, method, path string, in, out any) error {
	tok, err := c.appJWT()
	if err != nil {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "config", Err: err}
	}
	req, err := httpcarrier.NewJSONRequest(ctx, method, c.voiceBase+path, in)
	if err != nil {
		return &carrier.Error{Carrier: c.cfg.Name, Code: "request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := httpcarrier.Do(c.client, c.cfg.Name, req)
	if err != nil {
		return err
	}
	if !res.OK() {
		var p apiProblem
		_ = json.Unmarshal(res.Body, &p)
		msg := p.Title
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		for _, ip := range p.InvalidParameters {
			msg += fmt.Sprintf(" (%s: %s)", ip.Name, ip.Reason)
		}
		return httpcarrier.Classify(c.cfg.Name, res.Status, "", msg, nil)
	}
	if out != nil && json.Unmarshal(res.Body, out) != nil {
		return &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("unreadable %d answer: %.200q", res.Status, res.Body)}
	}
	return nil
}

// smsAnswer is the SMS API's answer: HTTP 200 whether or not it worked,
// with a status per message part.
type smsAnswer struct {
	MessageCount string `json:"message-count"`
	Messages     []struct {
		To        string `json:"to"`
		MessageID string `json:"message-id"`
		Status    string `json:"status"`
		ErrorText string `json:"error-text"`
	} `json:"messages"`
}

// smsRetryable maps the SMS API's per-message status codes (SMS API
// reference, "Response codes") to retryable or terminal. Retryable: 1
// Throttled, 5 Internal Error, 10 Too Many Existing Binds (Vonage-side
// capacity). Terminal: 2 Missing Parameters, 3 Invalid Parameters, 4
// Invalid Credentials, 6 Invalid Message, 7 Number Barred, 8 Partner
// Account Barred, 9 Partner Quota Violation (no funds), 11 Account Not
// Enabled For HTTP, 12 Message Too Long, 14 Invalid Signature, 15 Invalid
// Sender Address, 22 Invalid Network Code, 23 Invalid Callback URL, 29
// Non-Whitelisted Destination, 32 Signature And API Secret Disallowed, 33
// Number De-activated, and anything unknown.
func smsRetryable(status string) bool {
	switch status {
	case "1", "5", "10":
		return true
	}
	return false
}

// SendSMS submits the text to the SMS API with a delivery receipt to
// ringgate's /sms-status (the receipt carries client-ref, ringgate's id).
func (c *Carrier) SendSMS(ctx context.Context, m carrier.SMS) (string, error) {
	if c.cfg.APIKey == "" || c.cfg.APISecret == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "config", Err: errors.New("api_key and api_secret are required for SMS")}
	}
	from := httpcarrier.PlusLessSender(c.from.Pick(m.From))
	to := httpcarrier.Digits(m.To)
	if to == "" || from == "" {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: carrier.CauseUnreachable, Err: fmt.Errorf("need a to and a from, got %q and %q", m.To, m.From)}
	}
	form := url.Values{
		"api_key":           {c.cfg.APIKey},
		"api_secret":        {c.cfg.APISecret},
		"from":              {from},
		"to":                {to},
		"text":              {m.Text},
		"type":              {smsType(m.Text)},
		"client-ref":        {m.ID},
		"status-report-req": {"1"},
		"callback":          {httpcarrier.CallbackURL(c.cfg.PublicURL, c.cfg.Name, "/sms-status", nil)},
	}
	req, err := httpcarrier.NewFormRequest(ctx, c.smsBase+"/sms/json", form)
	if err != nil {
		return "", &carrier.Error{Carrier: c.cfg.Name, Code: "request", Err: err}
	}
	res, err := httpcarrier.Do(c.client, c.cfg.Name, req)
	if err != nil {
		return "", fmt.Errorf("send sms: %w", err)
	}
	if !res.OK() {
		return "", fmt.Errorf("send sms: %w", httpcarrier.Classify(c.cfg.Name, res.Status, "", string(trim(res.Body)), nil))
	}
	var a smsAnswer
	if json.Unmarshal(res.Body, &a) != nil || len(a.Messages) == 0 {
		return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: true, Code: "bad_response", Err: fmt.Errorf("send sms: unreadable answer %.200q", res.Body)}
	}
	for _, p := range a.Messages {
		if p.Status != "0" {
			return "", &carrier.Error{Carrier: c.cfg.Name, Retryable: smsRetryable(p.Status), Code: "sms_status_" + p.Status,
				Err: fmt.Errorf("send sms: status %s: %s", p.Status, p.ErrorText)}
		}
	}
	return a.Messages[0].MessageID, nil
}

// smsType is "text" for GSM-7 text and "unicode" otherwise, so that
// non-Latin codes arrive intact.
func smsType(s string) string {
	for _, r := range s {
		if r > 0x7e || (r < 0x20 && r != '\n' && r != '\r') {
			return "unicode"
		}
	}
	return "text"
}

func trim(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
