package compat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Callback retries: doubling from RetryBase up to RetryMax, given up after
// MaxAttempts (about a day with the defaults).
const (
	RetryBase   = 5 * time.Second
	RetryMax    = time.Hour
	MaxAttempts = 30
	// Lease is how long a node holds a callback it is sending.
	Lease = 30 * time.Second
)

// Renderer builds a callback's request from the verification it reports
// (each provider layer has its own format and signature).
type Renderer func(ctx context.Context, c Callback, v verify.Verification) (*http.Request, error)

// Dispatcher sends the callbacks owed (seed 001's, Vonage's status
// callbacks): one per row, once its verification has ended. They are rows
// (compat_callbacks), so a restart loses none; a callback may be sent more
// than once (at least once, as ringgate's webhooks).
type Dispatcher struct {
	Get       func(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error)
	Now       func() time.Time
	Store     Store
	Renderers map[string]Renderer // by Callback.Kind
	Client    *http.Client        // the SSRF-safe client of the webhook policy
	Logger    *slog.Logger
	// Poll is how often it looks when not woken (1 s by default).
	Poll time.Duration
	// RetryBase overrides the first retry's delay (tests).
	RetryBase time.Duration
	// Gap is the least time between two looks when kicked (25 ms by
	// default). Every event of every verification kicks, and most have no
	// callback owed: without it, each event cost a read of the callbacks
	// table (3% of a node's CPU at 1,000 verified calls a second). Kicks
	// in the gap merge into one look at its end.
	Gap  time.Duration
	kick chan struct{}
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(d Dispatcher) *Dispatcher {
	d.kick = make(chan struct{}, 1)
	if d.Poll <= 0 {
		d.Poll = time.Second
	}
	if d.Gap <= 0 {
		d.Gap = 25 * time.Millisecond
	}
	if d.RetryBase <= 0 {
		d.RetryBase = RetryBase
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &d
}

// Kick wakes the dispatcher (a verification changed).
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run sends due callbacks until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		for d.RunOnce(ctx) == 20 && ctx.Err() == nil { // a full batch: more may be due
		}
		gap := time.NewTimer(d.Gap)
		select {
		case <-ctx.Done():
			gap.Stop()
			return
		case <-gap.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// RunOnce sends the callbacks due now, and reports how many it tried.
func (d *Dispatcher) RunOnce(ctx context.Context) int {
	due, err := d.Store.DueCallbacks(ctx, d.Now(), 20)
	if err != nil {
		if ctx.Err() == nil {
			d.Logger.Warn("compat callbacks", "err", err)
		}
		return 0
	}
	for _, r := range due {
		// The lease: a node that dies mid-send leaves the row due again
		// after it; a node that loses the race skips the row.
		ok, err := d.Store.ClaimCallback(ctx, r.ID, r.NextAttemptAt, d.Now().Add(Lease))
		if err != nil || !ok {
			continue
		}
		d.send(ctx, r)
	}
	return len(due)
}

func (d *Dispatcher) send(ctx context.Context, r Callback) {
	v, err := d.Get(ctx, verify.Tenant{AppID: r.AppID, Sandbox: r.Sandbox}, r.VerificationID)
	now := d.Now()
	r.Attempts++
	render := d.Renderers[r.Kind]
	if err == nil && render == nil {
		err = fmt.Errorf("no renderer for callbacks of kind %q", r.Kind)
	}
	if err == nil {
		err = d.post(ctx, render, r, v)
	}
	switch {
	case err == nil:
		r.State, r.LastError = CallbackDelivered, ""
	case verify.ErrorCode(err) == verify.CodeNotFound:
		r.State, r.LastError = CallbackFailed, "the verification is gone (retention)"
	case r.Attempts >= MaxAttempts:
		r.State, r.LastError = CallbackFailed, err.Error()
	default:
		wait := min(RetryMax, d.RetryBase<<min(r.Attempts-1, 20))
		r.NextAttemptAt, r.LastError = now.Add(wait), err.Error()
	}
	if err := d.Store.SettleCallback(context.WithoutCancel(ctx), r); err != nil {
		d.Logger.Warn("settle compat callback", "id", r.ID, "err", err)
	}
}

func (d *Dispatcher) post(ctx context.Context, render Renderer, c Callback, v verify.Verification) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := render(ctx, c, v)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ringgate-compat")
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the callback answered %d", resp.StatusCode)
	}
	return nil
}
