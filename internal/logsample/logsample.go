// Package logsample keeps refusal logs from flooding: an attacker who sends
// 20,000 bad requests must not get 20,000 log lines, while the counters that
// record every refusal stay exact. It is a thin wrapper over
// golang.org/x/time/rate's limiter, shared by every adapter that logs refusals
// of untrusted input (SIP, carrier webhooks, the HTTP API).
package logsample

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Logger logs at most Burst lines at once and Rate lines a second on
// average; lines beyond that are counted and reported as "suppressed" on the
// next line that is logged.
type Logger struct {
	log        *slog.Logger
	lim        *rate.Limiter
	suppressed atomic.Int64
}

// New returns a Logger that lets through up to burst lines at once and
// perSecond lines a second after that.
func New(log *slog.Logger, perSecond float64, burst int) *Logger {
	if log == nil {
		log = slog.Default()
	}
	return &Logger{log: log, lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

// Default is 5 lines at once, then one every two seconds.
func Default(log *slog.Logger) *Logger { return New(log, 0.5, 5) }

// Log writes the line if the budget allows, else counts it as suppressed.
// It reports whether the line was written.
func (l *Logger) Log(ctx context.Context, level slog.Level, msg string, args ...any) bool {
	return l.logAt(ctx, time.Now(), level, msg, args...)
}

func (l *Logger) logAt(ctx context.Context, now time.Time, level slog.Level, msg string, args ...any) bool {
	if !l.log.Enabled(ctx, level) {
		return false
	}
	if !l.lim.AllowN(now, 1) {
		l.suppressed.Add(1)
		return false
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(ctx, level, msg, args...)
	return true
}

// Suppressed is how many lines were dropped since the last one written.
func (l *Logger) Suppressed() int64 { return l.suppressed.Load() }
