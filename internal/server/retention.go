package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// retain deletes ended verifications older than the retention period, on
// every node: each batch locks its rows with SKIP LOCKED (PostgreSQL), so
// nodes purging at once split the work. Off when retention.days is 0.
func (s *Server) retain(ctx context.Context) {
	r := s.cfg.Retention
	if r.Period() <= 0 {
		return
	}
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		p, err := s.op.PurgeEnded(ctx, r.Period(), r.Batch)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("retention purge", slog.Any("err", err))
		case p.Total() > 0:
			s.log.Info("retention purge", slog.Int("verifications", p.Verifications), slog.Int("events", p.Events),
				slog.Int("jobs", p.Jobs), slog.Int("deliveries", p.Deliveries), slog.Int("calls", p.Calls))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logRequests logs every request's method, route, status and duration, so
// that someone trying ringgate dev sees why a request was refused. The
// route is the matched pattern when there is one, so a phone number in a
// path is not written out.
func logRequests(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = r.URL.Path
		}
		log.Info("request", slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush for SSE streams.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through, for SSE streams.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
