package otpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/compat"
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

// Dispatcher sends the callbacks owed: one per request, once its
// verification has ended. Requests are rows (compat_otpapi_requests), so a
// restart loses none; a callback may be sent more than once (at least once,
// as ringgate's webhooks).
type Dispatcher struct {
	Verifier Verifier
	Store    compat.Store
	Client   *http.Client // the SSRF-safe client of the webhook policy
	Logger   *slog.Logger
	// Poll is how often it looks when not woken (1 s by default).
	Poll time.Duration
	// RetryBase overrides the first retry's delay (tests).
	RetryBase time.Duration
	kick      chan struct{}
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(d Dispatcher) *Dispatcher {
	d.kick = make(chan struct{}, 1)
	if d.Poll <= 0 {
		d.Poll = time.Second
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
	due, err := d.Store.DueOTPCallbacks(ctx, d.Verifier.Now(), 20)
	if err != nil {
		if ctx.Err() == nil {
			d.Logger.Warn("otpapi callbacks", "err", err)
		}
		return 0
	}
	for _, r := range due {
		// The lease: a node that dies mid-send leaves the row due again
		// after it; a node that loses the race skips the row.
		ok, err := d.Store.ClaimOTPCallback(ctx, r.ID, r.NextAttemptAt, d.Verifier.Now().Add(Lease))
		if err != nil || !ok {
			continue
		}
		d.send(ctx, r)
	}
	return len(due)
}

// Fields are the callback's form fields.
func Fields(v verify.Verification) url.Values {
	status, reason := "fail", string(v.Reason)
	if v.Status == verify.StatusVerified {
		status, reason = "success", "dialled"
	}
	if reason == "" {
		reason = string(v.Status)
	}
	return url.Values{
		"transactionId": {v.ID},
		"mobile":        {v.Phone},
		"createTime":    {v.CreatedAt.UTC().Format(TimeLayout)},
		"expiryTime":    {v.ExpiresAt.UTC().Format(TimeLayout)},
		"missCallTo":    {v.DialNumber},
		"type":          {"misscall"},
		"method":        {"generate"},
		"status":        {status},
		"reason":        {reason},
	}
}

func (d *Dispatcher) send(ctx context.Context, r compat.OTPRequest) {
	v, err := d.Verifier.Get(ctx, verify.Tenant{AppID: r.AppID, Sandbox: r.Sandbox}, r.VerificationID)
	now := d.Verifier.Now()
	r.Attempts++
	if err == nil {
		err = d.post(ctx, r.CallbackURL, Fields(v))
	}
	switch {
	case err == nil:
		r.State, r.LastError = compat.OTPDelivered, ""
	case verify.ErrorCode(err) == verify.CodeNotFound:
		r.State, r.LastError = compat.OTPFailed, "the verification is gone (retention)"
	case r.Attempts >= MaxAttempts:
		r.State, r.LastError = compat.OTPFailed, err.Error()
	default:
		wait := min(RetryMax, d.RetryBase<<min(r.Attempts-1, 20))
		r.NextAttemptAt, r.LastError = now.Add(wait), err.Error()
	}
	if err := d.Store.SettleOTPCallback(context.WithoutCancel(ctx), r); err != nil {
		d.Logger.Warn("otpapi settle callback", "id", r.ID, "err", err)
	}
}

func (d *Dispatcher) post(ctx context.Context, target string, form url.Values) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "ringgate-otpapi")
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
