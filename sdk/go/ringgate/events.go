package ringgate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StreamOption adjusts an event stream.
type StreamOption func(*Stream)

// LastEventID resumes a stream after the event with this id.
func LastEventID(id string) StreamOption { return func(s *Stream) { s.lastID = id } }

// MaxReconnects bounds how many times in a row the stream reconnects
// after a broken connection or a retryable answer (default 10); an event
// received resets the count.
func MaxReconnects(n int) StreamOption { return func(s *Stream) { s.maxReconnects = n } }

// Stream reads a verification's events (Server-Sent Events), reconnecting
// with Last-Event-ID when the connection breaks, until the verification's
// final event. Use it like bufio.Scanner:
//
//	s := c.Events(ctx, id)
//	defer s.Close()
//	for s.Next() {
//		ev := s.Event()
//	}
//	if err := s.Err(); err != nil { … }
type Stream struct {
	c             *Client
	ctx           context.Context
	cancel        context.CancelFunc
	id, token     string
	lastID        string
	retry         time.Duration
	maxReconnects int
	failures      int

	body   io.ReadCloser
	rd     *bufio.Reader
	ev     StreamEvent
	err    error
	done   bool
	opened bool
}

// StreamEvent is one event of the stream, with its SSE id.
type StreamEvent struct {
	ID string
	Event
}

// Events follows verification id's live events with the API key.
func (c *Client) Events(ctx context.Context, id string, opts ...StreamOption) *Stream {
	return c.stream(ctx, id, "", opts)
}

func (c *Client) stream(ctx context.Context, id, token string, opts []StreamOption) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{c: c, ctx: ctx, cancel: cancel, id: id, token: token, retry: 2 * time.Second, maxReconnects: 10}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Next waits for the next event; false at the end of the stream (the
// verification's final event was read, or the server answered 204) or on
// an error (see Err).
func (s *Stream) Next() bool {
	for !s.done {
		if s.body == nil {
			if s.opened {
				if s.failures > s.maxReconnects {
					s.fail(fmt.Errorf("ringgate: event stream: gave up after %d reconnects: %w", s.maxReconnects, s.err))
					return false
				}
				if err := s.c.sleep(s.ctx, s.retry); err != nil {
					s.fail(err)
					return false
				}
			}
			s.opened = true
			if !s.connect() {
				continue
			}
		}
		prev := s.lastID
		ev, err := s.read()
		if err == nil {
			if ev.ID != "" && ev.ID == prev {
				continue // the event we resumed after, sent again: no progress
			}
			s.failures = 0
			s.ev = ev
			if ev.Type.Final() {
				s.finish(nil)
			}
			return true
		}
		s.body.Close()
		s.body = nil
		if s.ctx.Err() != nil {
			s.fail(s.ctx.Err())
			return false
		}
		if _, bad := err.(*decodeError); bad {
			s.fail(err)
			return false
		}
		s.failures++
		s.err = err // kept for the give-up message; cleared by the next event
	}
	return false
}

// connect opens the stream; false when the caller should retry (or stop:
// s.done set).
func (s *Stream) connect() bool {
	p, err := pathID(s.id)
	if err != nil {
		s.fail(err)
		return false
	}
	q := map[string][]string{}
	if s.token != "" {
		q["token"] = []string{s.token}
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, s.c.url("/v1/verifications/"+p+"/events", q), nil)
	if err != nil {
		s.fail(fmt.Errorf("ringgate: %w", err))
		return false
	}
	s.c.authorize(req, s.token)
	req.Header.Set("Accept", "text/event-stream")
	if s.lastID != "" {
		req.Header.Set("Last-Event-ID", s.lastID)
	}
	hc := *s.c.hc
	hc.Timeout = 0 // a stream lasts as long as the verification
	resp, err := hc.Do(req)
	if err != nil {
		if s.ctx.Err() != nil {
			s.fail(s.ctx.Err())
			return false
		}
		s.failures++
		s.err = err
		return false
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		s.body, s.rd = resp.Body, bufio.NewReader(resp.Body)
		return true
	case resp.StatusCode == http.StatusNoContent:
		resp.Body.Close()
		s.finish(nil)
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	pe := problemOf(resp, b)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		s.failures++
		s.err = pe
		if pe.RetryAfter > s.retry && pe.RetryAfter <= s.c.maxWait {
			s.retry = pe.RetryAfter
		}
		return false
	}
	s.fail(pe)
	return false
}

type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// read parses the next event from the open stream, remembering its id and
// any retry: interval.
func (s *Stream) read() (StreamEvent, error) {
	var data strings.Builder
	var id string
	hasID, hasData := false, false
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the server closes only after a final event
			}
			return StreamEvent{}, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if !hasData {
				hasID = false
				continue
			}
			if hasID {
				s.lastID = id
			}
			var ev Event
			if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
				return StreamEvent{}, &decodeError{fmt.Errorf("ringgate: event stream: undecodable event %q: %w", id, err)}
			}
			return StreamEvent{ID: id, Event: ev}, nil
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "id":
			id, hasID = value, true
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms >= 0 {
				d := time.Duration(ms) * time.Millisecond
				if d > s.c.sseRetryMax {
					d = s.c.sseRetryMax
				}
				s.retry = d
			}
		}
	}
}

// Event is the event Next read.
func (s *Stream) Event() StreamEvent { return s.ev }

// LastEventID is the id of the last event read, to resume from later.
func (s *Stream) LastEventID() string { return s.lastID }

// Err is the error that ended the stream, nil at its normal end.
func (s *Stream) Err() error {
	if !s.done {
		return nil
	}
	return s.err
}

// Close ends the stream.
func (s *Stream) Close() error {
	s.finish(nil)
	return nil
}

func (s *Stream) fail(err error) { s.finish(err) }

func (s *Stream) finish(err error) {
	if s.done {
		return
	}
	s.done, s.err = true, err
	if s.body != nil {
		s.body.Close()
		s.body = nil
	}
	s.cancel()
}
