package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// viewer resolves who reads a verification's live data: the app's API key
// (full data) or the page's client token (phone masked). CORS is open on
// these two routes because the token is the credential and pages are on the
// business's own origin.
func (a *API) viewer(w http.ResponseWriter, r *http.Request) (v verify.Verification, masked bool, err error) {
	id := r.PathValue("id")
	if c, ok := callerOf(r); ok {
		v, err = a.svc.Get(r.Context(), c.Tenant(), id)
		return v, false, err
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	v, err = a.svc.ClientView(r.Context(), id, r.URL.Query().Get("token"))
	return v, true, err
}

func (a *API) pollStatus(w http.ResponseWriter, r *http.Request) {
	v, _, err := a.viewer(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.svc.PublicViewOf(v))
}

var terminalTypes = map[string]bool{
	verify.EventVerified: true, verify.EventExpired: true,
	verify.EventCanceled: true, verify.EventFailed: true,
}

// streamEvents sends every event of a verification as Server-Sent Events,
// from the start or after Last-Event-ID, and ends after the terminal event.
// A reconnect after the end gets 204 No Content, which tells EventSource to
// stop reconnecting.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
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
	flusher, ok := w.(http.Flusher)
	if !ok {
		a.writeError(w, r, errors.New("response writer cannot flush"))
		return
	}
	release, refused := a.slots.acquire(a.RemoteIP(r), streamToken(r))
	if refused != nil {
		writeLimited(w, r, refused)
		return
	}
	// A stream that can be detached from net/http (HTTP/1.x) lives on
	// after this handler returns, so its context is the API's, not the
	// request's; the gone watcher ends it when the client leaves.
	canDetach := r.ProtoMajor == 1 && hijacker(w) != nil
	parent := r.Context()
	if canDetach {
		parent = a.detached.ctx
	}
	ctx, cancel := context.WithCancel(parent)
	var unwatch func()
	if c, ok := callerOf(r); ok {
		// A stream on an API key ends when the key is revoked or expires.
		secret, _ := bearer(r)
		unwatch = a.keys.watch(c.Key.ID, secret, cancel)
	}
	// Subscribe before the first read, so nothing committed in between is
	// missed; the store read after each wake-up makes duplicates harmless.
	sub := a.broker.Subscribe(v.ID)
	end := func() {
		a.broker.Unsubscribe(sub)
		if unwatch != nil {
			unwatch()
		}
		cancel()
		release()
	}
	detached := false
	defer func() {
		if !detached {
			end()
		}
	}()

	events, err := a.svc.Events(r.Context(), v.ID, last)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(events) == 0 && v.Status.Terminal() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	// A comment keeps proxies from closing an idle stream.
	const keepAlive = ": keep-alive\n\n"
	if canDetach {
		if conn, done, ok := a.detached.detach(w, r, "retry: 2000\n\n", cancel); ok {
			detached = true
			go func() { // counted in a.detached.wg by detach
				defer a.detached.wg.Done()
				defer end()
				defer done()
				write := func() { _ = conn.SetWriteDeadline(time.Now().Add(writeTimeout)) }
				a.follow(ctx, v.ID, last, events, sub.C, follower{
					send:  func(e verify.Event) error { write(); return writeEvent(conn, e, masked) },
					flush: func() {},
					beat:  func() error { write(); _, err := io.WriteString(conn, keepAlive); return err },
				})
			}()
			return
		}
		return // the connection failed while being taken over
	}
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	a.follow(ctx, v.ID, last, events, sub.C, follower{
		send:  func(e verify.Event) error { return writeEvent(w, e, masked) },
		flush: flusher.Flush,
		beat:  func() error { _, err := io.WriteString(w, keepAlive); return err },
	})
}

// follower is how one kind of live stream (SSE, WebSocket) sends.
type follower struct {
	send  func(verify.Event) error
	flush func()
	beat  func() error // reads nothing: the store is read on a notice or the slow re-read
}

// follow sends events (those read already, then each one committed after
// last) until the terminal event, the end of ctx, or a failed send. It is
// woken by the broker's notices (wake) and rereads the store on a slow
// timer, for a notice lost between nodes; heartbeats read nothing. One
// timer serves both the heartbeat and the re-read (an idle stream holds
// one runtime timer, not two tickers).
func (a *API) follow(ctx context.Context, id string, last int64, events []verify.Event, wake <-chan struct{}, f follower) {
	now := time.Now()
	nextBeat, nextReread := now.Add(a.heartbeat), now.Add(a.streams.Reread)
	t := time.NewTimer(a.heartbeat)
	defer t.Stop()
	for {
		for _, e := range events {
			if err := f.send(e); err != nil {
				return
			}
			last = e.ID
			if terminalTypes[e.Type] {
				f.flush()
				return
			}
		}
		events = nil
		f.flush()
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case now = <-t.C:
			beat, reread := !now.Before(nextBeat), !now.Before(nextReread)
			if beat {
				nextBeat = now.Add(a.heartbeat)
			}
			if reread {
				// A notice lost between nodes is caught here.
				nextReread = now.Add(a.streams.Reread)
			}
			next := nextBeat
			if nextReread.Before(next) {
				next = nextReread
			}
			t.Reset(next.Sub(now))
			if beat {
				if err := f.beat(); err != nil {
					return
				}
			}
			if !reread {
				continue
			}
		}
		var err error
		if events, err = a.svc.Events(ctx, id, last); err != nil {
			return
		}
	}
}

func writeEvent(w io.Writer, e verify.Event, masked bool) error {
	payload := []byte(e.Payload)
	if masked {
		var err error
		if payload, err = verify.MaskEnvelope(payload); err != nil {
			return err
		}
	}
	// Payloads are single-line JSON (encoding/json escapes newlines), so one
	// data: line carries the whole message.
	_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, payload)
	return err
}

func lastEventID(r *http.Request) (int64, error) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("last_event_id")
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, verify.FieldErrorf(verify.CodeInvalid, "Last-Event-ID", "Last-Event-ID must be an event id from this stream, not %q", s)
	}
	return n, nil
}
