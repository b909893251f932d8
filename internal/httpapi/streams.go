package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// StreamLimits bound the live streams (SSE) a process holds. Zero fields
// take the defaults of DefaultStreamLimits.
type StreamLimits struct {
	MaxStreams  int // on this process
	MaxPerIP    int // from one client address
	MaxPerToken int // on one API key, or one verification's client token
	// Reread is the slow safety re-read of a stream's events, for a notice
	// lost between nodes; heartbeats read nothing.
	Reread time.Duration
	// KeyRecheck is how often the API keys behind open streams are looked
	// up again: a stream of a key revoked or expired elsewhere ends within
	// it (one lookup per key per interval, however many streams it holds).
	KeyRecheck time.Duration
}

// DefaultStreamLimits are the limits of a zero StreamLimits.
var DefaultStreamLimits = StreamLimits{MaxStreams: 2048, MaxPerIP: 128, MaxPerToken: 16, Reread: time.Minute, KeyRecheck: 5 * time.Second}

func (l StreamLimits) withDefaults() StreamLimits {
	d := DefaultStreamLimits
	if l.MaxStreams <= 0 {
		l.MaxStreams = d.MaxStreams
	}
	if l.MaxPerIP <= 0 {
		l.MaxPerIP = d.MaxPerIP
	}
	if l.MaxPerToken <= 0 {
		l.MaxPerToken = d.MaxPerToken
	}
	if l.Reread <= 0 {
		l.Reread = d.Reread
	}
	if l.KeyRecheck <= 0 {
		l.KeyRecheck = d.KeyRecheck
	}
	return l
}

// streamSlots counts open streams per process, client address and token.
type streamSlots struct {
	lim   StreamLimits
	mu    sync.Mutex
	total int
	ip    map[string]int
	tok   map[string]int
}

func newStreamSlots(l StreamLimits) *streamSlots {
	return &streamSlots{lim: l, ip: map[string]int{}, tok: map[string]int{}}
}

// acquire takes a slot for a stream from ip on tok, or says which limit
// refused it.
func (s *streamSlots) acquire(ip, tok string) (release func(), refused *verify.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var limit string
	var n int
	switch {
	case s.total >= s.lim.MaxStreams:
		limit, n = "sse_streams", s.lim.MaxStreams
	case s.ip[ip] >= s.lim.MaxPerIP:
		limit, n = "sse_streams_per_ip", s.lim.MaxPerIP
	case s.tok[tok] >= s.lim.MaxPerToken:
		limit, n = "sse_streams_per_token", s.lim.MaxPerToken
	}
	if limit != "" {
		return nil, &verify.Error{
			Code: verify.CodeRateLimited, Limit: limit, RetryAfter: 5 * time.Second,
			Message: fmt.Sprintf("too many live streams open (%s: %d); close one, or poll …/status", limit, n),
		}
	}
	s.total++
	s.ip[ip]++
	s.tok[tok]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.total--
			if s.ip[ip]--; s.ip[ip] <= 0 {
				delete(s.ip, ip)
			}
			if s.tok[tok]--; s.tok[tok] <= 0 {
				delete(s.tok, tok)
			}
		})
	}, nil
}

// keyWatch ends the streams of API keys that stop being valid: at once
// when this node revokes one, and otherwise within KeyRecheck, by looking
// each watched key up again (revoked on another node, or expired).
type keyWatch struct {
	svc      *verify.Service
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	keys    map[string]*watched // by key id
	next    int
	running bool
}

type watched struct {
	secret  string // the bearer key, to look it up again
	cancels map[int]context.CancelFunc
}

// watch registers a stream's cancel under its key; the returned func
// removes it.
func (k *keyWatch) watch(keyID, secret string, cancel context.CancelFunc) func() {
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.keys[keyID]
	if w == nil {
		w = &watched{secret: secret, cancels: map[int]context.CancelFunc{}}
		k.keys[keyID] = w
	}
	k.next++
	n := k.next
	w.cancels[n] = cancel
	if !k.running {
		k.running = true
		go k.loop()
	}
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if w := k.keys[keyID]; w != nil {
			delete(w.cancels, n)
			if len(w.cancels) == 0 {
				delete(k.keys, keyID)
			}
		}
	}
}

// end ends every stream of a key.
func (k *keyWatch) end(keyID string) {
	k.mu.Lock()
	w := k.keys[keyID]
	delete(k.keys, keyID)
	k.mu.Unlock()
	if w != nil {
		for _, cancel := range w.cancels {
			cancel()
		}
	}
}

// loop rechecks the watched keys until none is left.
func (k *keyWatch) loop() {
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for range t.C {
		k.mu.Lock()
		if len(k.keys) == 0 {
			k.running = false
			k.mu.Unlock()
			return
		}
		check := make(map[string]string, len(k.keys))
		for id, w := range k.keys {
			check[id] = w.secret
		}
		k.mu.Unlock()
		for id, secret := range check {
			ctx, cancel := context.WithTimeout(context.Background(), k.interval)
			c, err := k.svc.Authenticate(ctx, secret)
			cancel()
			var e *verify.Error
			switch {
			case errors.As(err, &e) && e.Code == verify.CodeUnauthorized, err == nil && c.Key.ID != id:
				k.end(id)
			case err != nil:
				k.log.Warn("rechecking the key of open streams", slog.String("key", id), slog.Any("err", err))
			}
		}
	}
}

// streamToken is what the per-token cap counts a stream against: the API
// key, or the verification whose client token opened it.
func streamToken(r *http.Request) string {
	if c, ok := callerOf(r); ok {
		return "key:" + c.Key.ID
	}
	return "tok:" + r.PathValue("id")
}
