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
	ExpiresAt   time.Time         `json:"expires_at"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	CompletedAt *time.Time        `json:"completed_at"`
	ClientToken string            `json:"client_token,omitempty"`
	Metadata    map[string]string `json:"metadata"`
	ResultCode  *string           `json:"result_code"`
	Reason      *Reason           `json:"reason"`
	Sandbox     bool              `json:"sandbox"`
}

// CallView describes the call an event is about.
type CallView struct {
	From       string    `json:"from"`
	To         string    `json:"to"`
	Matched    bool      `json:"matched"`
	ReceivedAt time.Time `json:"received_at"`
}

// Envelope is a webhook body and a live-stream message.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is a verification as it was at the event, and the call if the
// event is about one.
type EventData struct {
	View
	Call *CallView `json:"call,omitempty"`
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
		ExpiresAt:  v.ExpiresAt.UTC(),
		CreatedAt:  v.CreatedAt.UTC(),
		UpdatedAt:  v.UpdatedAt.UTC(),
		Metadata:   v.Metadata,
		Sandbox:    v.Sandbox,
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if !v.CompletedAt.IsZero() {
		t := v.CompletedAt.UTC()
		out.CompletedAt = &t
	}
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
	return out
}

// PublicView is what a page holding only the client token may see: the
// phone masked, no metadata.
type PublicView struct {
	ID         string     `json:"id"`
	Status     Status     `json:"status"`
	Channel    Channel    `json:"channel"`
	Phone      string     `json:"phone"`
	DialNumber string     `json:"dial_number,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	ExpiresInS int        `json:"expires_in_s"`
	ResultCode *string    `json:"result_code"`
	Reason     *Reason    `json:"reason"`
	Completed  *time.Time `json:"completed_at"`
}

// PublicViewOf renders v for a page, counting down from now.
func (s *Service) PublicViewOf(v Verification) PublicView {
	full := s.ViewOf(v, false)
	left := 0
	if v.Status == StatusPending {
		left = max(0, int(v.ExpiresAt.Sub(s.now()).Round(time.Second)/time.Second))
	}
	return PublicView{
		ID: v.ID, Status: v.Status, Channel: v.Channel, Phone: phone.Mask(v.Phone),
		DialNumber: v.DialNumber, ExpiresAt: full.ExpiresAt, ExpiresInS: left,
		ResultCode: full.ResultCode, Reason: full.Reason, Completed: full.CompletedAt,
	}
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
	return json.Marshal(env)
}
