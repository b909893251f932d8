package ringgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func sseEvent(id int, typ string) string {
	return fmt.Sprintf("id: %d\nevent: %s\ndata: {\"type\":%q,\"timestamp\":\"2026-01-02T03:04:05Z\",\"data\":{\"id\":\"vf_1\"}}\n\n", id, typ, typ)
}

// TestStreamReconnects: the connection drops mid-event, then the server
// answers 503 once; the stream resumes after the last whole event with
// Last-Event-ID and ends at the final event, each event read once.
func TestStreamReconnects(t *testing.T) {
	var mu sync.Mutex
	var lastIDs []string
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		switch i {
		case 1:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "retry: 10\n\n"+sseEvent(7, "verification.created")+"id: 8\ndata: {\"type\":")
		case 2:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(503)
			io.WriteString(w, `{"type":"about:blank","title":"x","status":503,"code":"unavailable"}`)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, ": heartbeat\n\n"+sseEvent(9, "call.received")+sseEvent(10, "verification.verified"))
		}
	}))
	defer srv.Close()
	fs := &fakeSleep{}
	s := newTestClient(srv.URL, fs).Events(context.Background(), "vf_1")
	defer s.Close()
	var got []string
	for s.Next() {
		got = append(got, s.Event().ID+" "+string(s.Event().Type))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"7 verification.created", "9 call.received", "10 verification.verified"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
	if strings.Join(lastIDs, ",") != ",7,7" {
		t.Fatalf("Last-Event-ID sent: %q", lastIDs)
	}
	if len(fs.waits) != 2 || fs.waits[0].Milliseconds() != 10 {
		t.Fatalf("waits %v: want the server's retry: 10ms", fs.waits)
	}
}

// TestStreamNoProgress: a server that sends the event the client resumed
// after, again and again, makes no progress; the stream gives up instead of
// yielding it forever.
func TestStreamNoProgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseEvent(5, "call.received"))
	}))
	defer srv.Close()
	s := newTestClient(srv.URL, &fakeSleep{}).Events(context.Background(), "vf_1", MaxReconnects(2))
	n := 0
	for s.Next() {
		n++
	}
	if n != 1 || s.Err() == nil {
		t.Fatalf("%d events, err %v: want the one event, then an error", n, s.Err())
	}
}

func TestStreamGivesUpAndRefusals(t *testing.T) {
	t.Run("a 401 ends the stream with a typed error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			io.WriteString(w, `{"type":"about:blank","title":"x","status":401,"code":"unauthorized"}`)
		}))
		defer srv.Close()
		s := newTestClient(srv.URL, &fakeSleep{}).Events(context.Background(), "vf_1")
		var pe *Error
		if s.Next() || !errors.As(s.Err(), &pe) || pe.Code != CodeUnauthorized {
			t.Fatalf("err %v", s.Err())
		}
	})
	t.Run("endless drops give up after MaxReconnects", func(t *testing.T) {
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			w.Header().Set("Content-Type", "text/event-stream")
		}))
		defer srv.Close()
		s := newTestClient(srv.URL, &fakeSleep{}).Events(context.Background(), "vf_1", MaxReconnects(3))
		if s.Next() || s.Err() == nil || calls != 4 { // the first connection and three reconnects
			t.Fatalf("err %v after %d connections", s.Err(), calls)
		}
	})
	t.Run("an undecodable event is an error, not skipped", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "id: 1\ndata: {not json\n\n")
		}))
		defer srv.Close()
		s := newTestClient(srv.URL, &fakeSleep{}).Events(context.Background(), "vf_1")
		if s.Next() || s.Err() == nil || !strings.Contains(s.Err().Error(), "undecodable") {
			t.Fatalf("err %v", s.Err())
		}
	})
}

// FuzzStream feeds arbitrary bytes as an event stream: the reader must
// never panic or loop, and must end with events or an error.
func FuzzStream(f *testing.F) {
	f.Add("retry: 10\n\n" + sseEvent(1, "verification.created") + sseEvent(2, "verification.verified"))
	f.Add("id: 1\r\ndata: {}\r\n\r\n")
	f.Add("data: {\"type\":\"verification.failed\"}\n\n")
	f.Add(":\n\nid\ndata\nretry: 99999999999\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		var mu sync.Mutex
		served := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			served++
			first := served == 1
			mu.Unlock()
			if !first {
				w.WriteHeader(http.StatusNoContent) // a finished verification
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, body)
		}))
		defer srv.Close()
		s := newTestClient(srv.URL, &fakeSleep{}).Events(context.Background(), "vf_1", MaxReconnects(1))
		defer s.Close()
		for i := 0; s.Next(); i++ {
			if i > len(body) {
				t.Fatal("more events than bytes")
			}
		}
	})
}
