package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ringgate/ringgate/internal/verify"
)

// DevInbox is dev mode's own webhook receiver: the demo app's default
// callback points here, so a first curl walkthrough shows signed webhooks
// arriving without setting up a receiver. It checks each signature the way
// a customer's endpoint would and keeps the newest messages in memory.
type DevInbox struct {
	mu     sync.Mutex
	secret string
	msgs   []InboxMessage
}

// InboxMessage is one received webhook.
type InboxMessage struct {
	ID            string          `json:"webhook_id"`
	ReceivedAt    verify.Stamp    `json:"received_at"`
	SignatureOK   bool            `json:"signature_valid"`
	SignatureNote string          `json:"signature_error,omitempty"`
	Body          json.RawMessage `json:"body"`
}

const inboxSize = 200

// NewDevInbox returns an inbox checking signatures with secret (whsec_…).
func NewDevInbox(secret string) *DevInbox { return &DevInbox{secret: secret} }

func (a *API) devInboxReceive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		a.writeDecodeError(w, r, describe(err))
		return
	}
	m := InboxMessage{ID: r.Header.Get("webhook-id"), ReceivedAt: verify.StampOf(time.Now()), SignatureOK: true}
	if json.Valid(body) {
		m.Body = body
	} else {
		m.Body, _ = json.Marshal(string(body))
	}
	wh, err := standardwebhooks.NewWebhook(a.inbox.secret)
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		m.SignatureOK, m.SignatureNote = false, err.Error()
	}
	a.inbox.mu.Lock()
	a.inbox.msgs = append(a.inbox.msgs, m)
	if len(a.inbox.msgs) > inboxSize {
		a.inbox.msgs = a.inbox.msgs[len(a.inbox.msgs)-inboxSize:]
	}
	a.inbox.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) devInboxList(w http.ResponseWriter, r *http.Request) {
	a.inbox.mu.Lock()
	out := make([]InboxMessage, len(a.inbox.msgs))
	for i, m := range a.inbox.msgs { // newest first
		out[len(out)-1-i] = m
	}
	a.inbox.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}
