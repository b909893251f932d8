package sip

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// sipgoLog is the handler sipgo's layers log through. sipgo v1.7.2 logs
// every datagram it cannot parse at ERROR with the whole datagram attached
// ("failed to parse", data=…): anyone who can reach the port can then fill
// the log at ERROR with text of their choosing. Such records are counted
// (Carrier.Malformed, a metric) and passed on at DEBUG with the data cut
// short; everything else goes through unchanged.
type sipgoLog struct {
	next      slog.Handler
	malformed *atomic.Int64
}

// maxLoggedData is how much of a malformed message a DEBUG line keeps.
const maxLoggedData = 200

func (h sipgoLog) Enabled(ctx context.Context, l slog.Level) bool {
	// A malformed message must be counted even when DEBUG is off, so ERROR
	// (the level sipgo uses for it) is always let in.
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h sipgoLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "Read error" {
		// A TCP/TLS connection ended badly, most often our own idle or
		// header timeout: an ERROR line per connection would let anyone
		// who can connect fill the log. DEBUG.
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		out := slog.NewRecord(r.Time, slog.LevelDebug, "sip connection read ended", r.PC)
		r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
		return h.next.Handle(ctx, out)
	}
	if r.Message != "failed to parse" {
		if !h.next.Enabled(ctx, r.Level) {
			return nil
		}
		return h.next.Handle(ctx, r)
	}
	h.malformed.Add(1)
	if !h.next.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	out := slog.NewRecord(r.Time, slog.LevelDebug, "sip message not parsed", r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "data" {
			s := a.Value.String()
			if len(s) > maxLoggedData {
				s = s[:maxLoggedData] + "…"
			}
			a = slog.String("data", s)
		}
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h sipgoLog) WithAttrs(as []slog.Attr) slog.Handler {
	return sipgoLog{next: h.next.WithAttrs(as), malformed: h.malformed}
}

func (h sipgoLog) WithGroup(name string) slog.Handler {
	return sipgoLog{next: h.next.WithGroup(name), malformed: h.malformed}
}
