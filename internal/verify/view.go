package verify

import (
	"encoding/json"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
)

// View is the public JSON form of a verification, the same in API responses,
// webhooks and the live stream.
type View struct {
	ID          string            `json:"id"`
	Status      Status            `json:"status"`
	Channel     Channel           `json:"channel"`
	Phone       string            `json:"phone"`
	Country     string            `json:"country"`
	DialNumber  string            `json:"dial_number,omitempty"`
	ExpiresAt   Stamp             `json:"expires_at"`
	CreatedAt   Stamp             `json:"created_at"`
	UpdatedAt   Stamp             `json:"updated_at"`
	CompletedAt *Stamp            `json:"completed_at"`
	ClientToken string            `json:"client_token,omitempty"`
	Metadata    map[string]string `json:"metadata"`
	ResultCode  *string           `json:"result_code"`
	Reason      *Reason           `json:"reason"`
	Sandbox     bool              `json:"sandbox"`
	// Workflow is every step; Step indexes the current one, whose channel
	// is Channel and whose deadline is ExpiresAt.
	Workflow        []StepView `json:"workflow"`
	Step            int        `json:"step"`
	VerifiedChannel *Channel   `json:"verified_channel"`
	Attempts        int        `json:"attempts"`
	// Code channels: the digits the user (or the phone app) must give.
	CodeLength int `json:"code_length,omitempty"`
	// flash_call: what the app on the phone watches for.
	CLIFilter            string `json:"cli_filter,omitempty"`
	InterceptionTimeoutS int    `json:"interception_timeout_s,omitempty"`
	// answer_call, voice_otp: the number we call from.
	CallerID string `json:"caller_id,omitempty"`
	Locale   string `json:"locale,omitempty"`
}

// StepView is one step of a workflow.
type StepView struct {
	Channel  Channel `json:"channel"`
	TimeoutS int     `json:"timeout_s"`
}

// CallView describes the call an event is about.
type CallView struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Matched    bool   `json:"matched"`
	ReceivedAt Stamp  `json:"received_at"`
	// Reason says why a call that matched verified nothing: "diverted"
	// (it was forwarded to the dial number). Empty otherwise.
	Reason string `json:"reason,omitempty"`
}

// Envelope is a webhook body and a live-stream message.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp Stamp     `json:"timestamp"`
	Data      EventData `json:"data"`
}

// OutboundView describes what an outbound call or text did (call.*, sms.*
// events, and a step that failed because of one).
type OutboundView struct {
	ID         string `json:"id,omitempty"`
	Carrier    string `json:"carrier,omitempty"`
	AnsweredBy string `json:"answered_by,omitempty"`
	Cause      string `json:"cause,omitempty"`
	Error      string `json:"error,omitempty"`
}

// StepChange is what a verification.step event reports: the channel the
// workflow left and why (a Reason, or "requested" for POST …/next).
type StepChange struct {
	FromChannel Channel `json:"from_channel"`
	Why         string  `json:"why"`
}

// CheckView is the count of checks made, on check.failed and the terminal
// event a check caused.
type CheckView struct {
	Attempts int `json:"attempts"`
}

// EventData is a verification as it was at the event, and the call, the
// outbound command or the check the event is about.
type EventData struct {
	View
	Call       *CallView     `json:"call,omitempty"`
	Outbound   *OutboundView `json:"outbound,omitempty"`
	Check      *CheckView    `json:"check,omitempty"`
	StepChange *StepChange   `json:"step_change,omitempty"`
	Fraud      *FraudView    `json:"fraud,omitempty"`
}

// ViewOf renders v. The client token is included only when withToken, since
// webhooks and masked views have no use for it.
func (s *Service) ViewOf(v Verification, withToken bool) View {
	out := View{
		ID:         v.ID,
		Status:     v.Status,
		Channel:    v.Channel,
		Phone:      v.Phone,
		Country:    v.Country,
		DialNumber: v.DialNumber,
		ExpiresAt:  StampOf(v.ExpiresAt),
		CreatedAt:  StampOf(v.CreatedAt),
		UpdatedAt:  StampOf(v.UpdatedAt),
		Metadata:   v.Metadata,
		Sandbox:    v.Sandbox,
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	out.CompletedAt = StampPtr(v.CompletedAt)
	if rc := v.ResultCode(); rc != "" {
		out.ResultCode = &rc
	}
	if v.Reason != ReasonNone {
		r := v.Reason
		out.Reason = &r
	}
	if withToken {
		out.ClientToken = clientToken(s.secret, v.ID)
	}
	out.Workflow = make([]StepView, len(v.Workflow))
	for i, st := range v.Workflow {
		out.Workflow[i] = StepView{Channel: st.Channel, TimeoutS: int(st.Timeout / time.Second)}
	}
	out.Step, out.Attempts, out.Locale = v.Step, v.Attempts, v.Locale
	if v.VerifiedChannel != "" {
		c := v.VerifiedChannel
		out.VerifiedChannel = &c
	}
	if v.Channel.UsesCode() {
		out.CodeLength = v.CodeLength
	}
	if v.Channel == ChannelFlashCall && v.Step < len(v.Workflow) {
		out.CLIFilter = v.CLIFilter
		out.InterceptionTimeoutS = int(v.Workflow[v.Step].Timeout / time.Second)
	}
	out.CallerID = v.CallerID
	return out
}

// PublicView is what a page holding only the client token may see: the
// phone masked, no metadata.
type PublicView struct {
	ID         string  `json:"id"`
	Status     Status  `json:"status"`
	Channel    Channel `json:"channel"`
	Phone      string  `json:"phone"`
	DialNumber string  `json:"dial_number,omitempty"`
	// The number to dial formatted for reading aloud: in its country's
	// national format (for a visitor in that country) and spaced
	// international (for everyone else), and its country.
	DialNational      string  `json:"dial_number_national,omitempty"`
	DialInternational string  `json:"dial_number_international,omitempty"`
	DialCountry       string  `json:"dial_country,omitempty"`
	ExpiresAt         Stamp   `json:"expires_at"`
	ExpiresInS        int     `json:"expires_in_s"`
	ResultCode        *string `json:"result_code"`
	Reason            *Reason `json:"reason"`
	Completed         *Stamp  `json:"completed_at"`
	// CodeLength is the digits to type on a code channel.
	CodeLength int `json:"code_length,omitempty"`
	// NextChannel is the workflow's next step ("try another way"), if any.
	NextChannel Channel `json:"next_channel,omitempty"`
}

// PublicViewOf renders v for a page, counting down from now.
func (s *Service) PublicViewOf(v Verification) PublicView {
	full := s.ViewOf(v, false)
	left := 0
	if v.Status == StatusPending {
		left = max(0, int(v.ExpiresAt.Sub(s.now()).Round(time.Second)/time.Second))
	}
	out := PublicView{
		ID: v.ID, Status: v.Status, Channel: v.Channel, Phone: phone.Mask(v.Phone),
		DialNumber: v.DialNumber, ExpiresAt: full.ExpiresAt, ExpiresInS: left,
		ResultCode: full.ResultCode, Reason: full.Reason, Completed: full.CompletedAt,
		CodeLength: full.CodeLength, NextChannel: nextChannel(v),
	}
	if v.DialNumber != "" {
		d := phone.DisplayOf(v.DialNumber)
		out.DialNational, out.DialInternational, out.DialCountry = d.National, d.International, d.Country
	}
	return out
}

func nextChannel(v Verification) Channel {
	if v.Status == StatusPending && v.Step+1 < len(v.Workflow) {
		return v.Workflow[v.Step+1].Channel
	}
	return ""
}

// MaskEnvelope rewrites a stored event payload for a client-token holder:
// the phone masked and metadata dropped.
func MaskEnvelope(payload []byte) ([]byte, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, err
	}
	env.Data.Phone = phone.Mask(env.Data.Phone)
	env.Data.Metadata = map[string]string{}
	env.Data.ClientToken = ""
	if env.Data.Call != nil {
		env.Data.Call.From = phone.Mask(env.Data.Call.From)
	}
	if env.Data.Outbound != nil {
		env.Data.Outbound.Error = "" // a carrier's own words are for the backend
	}
	return json.Marshal(env)
}

// Stamp is a time as the API writes it: UTC, always with milliseconds
// ("2026-12-04T21:00:05.000Z"), so clients parsing a fixed layout never
// meet "…:05Z" beside "…:05.1Z" (encoding/json drops trailing zeros).
// Times are stored in milliseconds, so nothing finer is lost. It embeds
// time.Time, whose methods it keeps.
type Stamp struct{ time.Time }

// StampLayout is Stamp's JSON form.
const StampLayout = "2006-01-02T15:04:05.000Z07:00"

// StampOf is t as a Stamp, in UTC.
func StampOf(t time.Time) Stamp { return Stamp{t.UTC()} }

// StampPtr is StampOf for an optional time: nil for the zero time.
func StampPtr(t time.Time) *Stamp {
	if t.IsZero() {
		return nil
	}
	s := StampOf(t)
	return &s
}

// MarshalJSON writes the time in StampLayout, in UTC.
func (s Stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + s.Time.UTC().Format(StampLayout) + `"`), nil
}

// UnmarshalJSON reads any RFC 3339 time.
func (s *Stamp) UnmarshalJSON(b []byte) error { return s.Time.UnmarshalJSON(b) }
