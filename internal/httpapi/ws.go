package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/ringgate/ringgate/internal/verify"
)

// wsMessage is one event as a WebSocket text message: the SSE stream's
// id, event and data in one JSON object.
type wsMessage struct {
	ID    int64           `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// streamWS is the live stream over a WebSocket (github.com/coder/websocket):
// the same authorisation (API key, or the client token as ?token=), the
// same events in the same order, resumed after ?last_event_id= (a browser
// WebSocket cannot send Last-Event-ID), the same caps as SSE (one slot
// pool), and the same end: after the terminal event the server closes
// with 1000. A verification already over with nothing after last_event_id
// is closed at once with 1000 and the reason "ended", as SSE answers 204.
//
// Origins are not checked: the credential is the token in the URL or an
// Authorization header, which a browser never adds by itself, so another
// site's page can open a stream only with a token it was given (exactly
// as with the CORS-open SSE and status routes).
func (a *API) streamWS(w http.ResponseWriter, r *http.Request) {
	v, masked, err := a.viewer(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	release, refused := a.slots.acquire(a.RemoteIP(r), streamToken(r))
	if refused != nil {
		writeLimited(w, r, refused)
		return
	}
	defer release()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return // Accept has answered the handshake with its error
	}
	defer conn.CloseNow()
	conn.SetReadLimit(512) // the client sends nothing but control frames
	// CloseRead reads (and answers pings, closes) for us; its context ends
	// when the client goes away.
	ctx, cancel := context.WithCancel(conn.CloseRead(r.Context()))
	defer cancel()
	if c, ok := callerOf(r); ok {
		secret, _ := bearer(r)
		defer a.keys.watch(c.Key.ID, secret, cancel)()
	}
	sub := a.broker.Subscribe(v.ID)
	defer a.broker.Unsubscribe(sub)
	events, err := a.svc.Events(ctx, v.ID, last)
	if err != nil {
		conn.Close(websocket.StatusInternalError, "could not read the events")
		return
	}
	if len(events) == 0 && v.Status.Terminal() {
		conn.Close(websocket.StatusNormalClosure, "ended")
		return
	}
	ended := false
	a.follow(ctx, v.ID, last, events, sub.C, follower{
		send: func(e verify.Event) error {
			payload := []byte(e.Payload)
			if masked {
				var err error
				if payload, err = verify.MaskEnvelope(payload); err != nil {
					return err
				}
			}
			b, err := json.Marshal(wsMessage{ID: e.ID, Event: e.Type, Data: payload})
			if err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			ended = terminalTypes[e.Type]
			return conn.Write(wctx, websocket.MessageText, b)
		},
		flush: func() {},
		// A ping keeps proxies from closing an idle connection and finds a
		// peer that is gone; it reads nothing from the store.
		beat: func() error {
			pctx, cancel := context.WithTimeout(ctx, a.heartbeat)
			defer cancel()
			return conn.Ping(pctx)
		},
	})
	if ended {
		conn.Close(websocket.StatusNormalClosure, "ended")
	}
}
