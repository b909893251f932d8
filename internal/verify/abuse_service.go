package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/phone"
)

// Abuse kinds reported to Config.OnAbuse, for metrics.
const (
	AbuseRefused       = "refused"      // a start or resend refused; limit is the error code or limit scope
	AbusePrefixBlock   = "prefix_block" // the pumping guard blocked a prefix
	AbuseRiskError     = "risk_error"   // the risk hook failed; the app's fail-open/closed applied
	AbuseRiskDenied    = "risk_denied"  // the risk hook said no
	EventPrefixBlocked = "fraud.prefix_blocked"
	// AuditPrefixUnblocked: an app lifted a pumping-guard block early.
	AuditPrefixUnblocked = "fraud.prefix_unblocked"
)

// RiskRequest is what an app's risk hook is asked about before a start.
type RiskRequest struct {
	AppID    string            `json:"app_id"`
	Phone    string            `json:"phone"`
	Country  string            `json:"country"`
	Channel  Channel           `json:"channel"`
	ClientIP string            `json:"client_ip,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RiskDecision is the hook's answer.
type RiskDecision struct {
	Allow  bool
	Reason string
}

// RiskChecker asks an app's risk hook (RiskHook in its settings) whether a
// verification may start. The server implements it over HTTP; the service
// only calls it, outside any transaction.
type RiskChecker interface {
	CheckRisk(ctx context.Context, app App, hook RiskHook, r RiskRequest) (RiskDecision, error)
}

// RiskHook is an app's pre-start risk check: ringgate POSTs a signed
// RiskRequest to URL and obeys {"decision":"allow"|"deny"}. When the hook
// fails or times out, the start goes ahead unless FailClosed.
type RiskHook struct {
	URL        string `json:"url"`
	FailClosed bool   `json:"fail_closed,omitempty"`
}

// FraudView is what a fraud.prefix_blocked event reports.
type FraudView struct {
	Prefix   string    `json:"prefix"`
	Started  int64     `json:"started"`
	Verified int64     `json:"verified"`
	Until    time.Time `json:"until"`
}

func (s *Service) noteAbuse(kind, limit string) {
	if s.onAbuse != nil {
		s.onAbuse(kind, limit)
	}
}

// noteRefusal reports err to OnAbuse when an abuse control caused it.
func (s *Service) noteRefusal(err error) {
	var e *Error
	if !errors.As(err, &e) {
		return
	}
	switch e.Code {
	case CodeRateLimited, CodePrefixBlocked, CodeCountryNotAllowed, CodePrefixDenied, CodeRiskDenied:
		scope, _, _ := strings.Cut(e.Limit, "_per_")
		s.noteAbuse(AbuseRefused, string(e.Code)+":"+scope)
	}
}

// endUserIP is the address a start is counted by: the client_ip the app
// passed, else the end user's own address when the request came from the
// user's browser (RemoteIP, never set for a caller with an API key, whose
// address is the integrator's server). "" leaves the per-IP limit out.
func endUserIP(r StartRequest) (string, error) {
	if r.ClientIP != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(r.ClientIP))
		if err != nil {
			return "", FieldErrorf(CodeInvalid, "client_ip", "client_ip %q is not an IPv4 or IPv6 address", r.ClientIP)
		}
		return a.Unmap().String(), nil
	}
	return r.RemoteIP, nil
}

// checkGeo applies the deny lists and the app's geo permissions to every
// step of a workflow: a refused step is refused at start, not when the
// workflow reaches it.
func (s *Service) checkGeo(app App, num phone.Number, w []Step) error {
	if p, ok := deniedPrefix(num.E164, s.abuse.DenyPrefixes, app.Settings.DenyPrefixes); ok {
		return FieldErrorf(CodePrefixDenied, "phone", "numbers starting %s are not served (a high-cost range on the deny list)", p)
	}
	for _, st := range w {
		if !countryAllowed(app.Settings.AllowedCountries, st.Channel, num.Country) {
			return FieldErrorf(CodeCountryNotAllowed, "phone", "app %s does not allow %s to %s; add the country to allowed_countries with PATCH /v1/app", app.ID, st.Channel, num.Country)
		}
	}
	return nil
}

// assessRisk asks the app's risk hook, if it has one, about nv.
func (s *Service) assessRisk(ctx context.Context, app App, nv Verification, ip string) error {
	hook := app.Settings.RiskHook
	if hook == nil || hook.URL == "" || s.risk == nil {
		return nil
	}
	d, err := s.risk.CheckRisk(ctx, app, *hook, RiskRequest{
		AppID: app.ID, Phone: nv.Phone, Country: nv.Country, Channel: nv.Channel, ClientIP: ip, Metadata: nv.Metadata,
	})
	if err != nil {
		s.noteAbuse(AbuseRiskError, "")
		s.log.WarnContext(ctx, "risk hook failed", slog.String("app", app.ID), slog.Bool("fail_closed", hook.FailClosed), slog.Any("err", err))
		if hook.FailClosed {
			return &Error{Code: CodeRiskDenied, Message: "the app's risk check did not answer, and the app refuses starts then (risk_hook.fail_closed)", Err: err}
		}
		return nil
	}
	if !d.Allow {
		s.noteAbuse(AbuseRiskDenied, "")
		msg := "the app's risk check refused this verification"
		if d.Reason != "" {
			msg += ": " + d.Reason
		}
		return Errorf(CodeRiskDenied, "%s", msg)
	}
	return nil
}

// outbound reports whether a workflow sends anything that costs money per
// attempt (every channel but missed_call): what SMS pumping and toll fraud
// are after.
func outbound(w []Step) bool {
	for _, st := range w {
		if st.Channel != ChannelMissedCall {
			return true
		}
	}
	return false
}

// checkPrefixBlock refuses a start to a prefix the pumping guard blocked.
func (s *Service) checkPrefixBlock(ctx context.Context, tx Tx, nv Verification) error {
	if !outbound(nv.Workflow) {
		return nil
	}
	prefix := phone.Prefix(nv.Phone, s.abuse.PrefixDigits)
	b, err := tx.PrefixBlock(ctx, nv.AppID, prefix)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.Now()
	if !now.Before(b.Until) {
		return nil // the cool-off is over
	}
	e := rateLimited("prefix_blocked", b.Until.Sub(now),
		"numbers starting %s are blocked until %s: %s", prefix, b.Until.Format(time.RFC3339), b.Reason)
	e.Code, e.Field = CodePrefixBlocked, "phone"
	return e
}

// countStart adds a new verification to every rate-limit counter it falls
// under, in the start's transaction, and refuses it when one is over.
// Rolled back with the start, a refused start counts nothing, so a number
// at its limit is not pushed further out by retries.
func (s *Service) countStart(ctx context.Context, tx Tx, app App, key APIKey, nv Verification, ip string, only ...string) error {
	return s.countStartDial(ctx, tx, app, key, nv, ip, nil, only...)
}

// dialChoices are a missed-call step's pool and the numbers its phone was
// shown lately, read with the start's counters (countStartDial) for its
// first step (prepareStep).
type dialChoices struct {
	read   bool
	pool   []Number
	recent []string
}

// countStartDial is countStart that, when dial is not nil, reads the
// missed-call first step's dial choices into it with the counters, in one
// round trip where the store can. They are only read here; prepareStep
// decides on them, after the counters have been judged, as before.
func (s *Service) countStartDial(ctx context.Context, tx Tx, app App, key APIKey, nv Verification, ip string, dial *dialChoices, only ...string) error {
	sub := subject{App: counterApp(nv), Key: key.ID, Phone: nv.Phone, Country: nv.Country, IP: ip}
	now := s.Now()
	lhs := limitHits(effectiveLimits(s.abuse.Limits, app.Settings.RateLimits), sub, s.abuse.PrefixDigits, now, only...)
	if len(lhs) == 0 {
		return nil
	}
	hits := make([]CounterHit, len(lhs))
	for i, h := range lhs {
		hits[i] = h.Hit
	}
	var ns []int64
	var err error
	if dial != nil {
		ns, dial.pool, dial.recent, err = tx.AddCountersDialChoices(ctx, hits, nv.AppID, nv.Country, nv.Phone, now.Add(-s.abuse.DialCooldown))
		dial.read = err == nil
	} else {
		ns, err = tx.AddCounters(ctx, hits)
	}
	if err != nil {
		return err
	}
	if u := rateUsageOf(ctx); u != nil {
		uses := make([]RateUse, len(lhs))
		for i, h := range lhs {
			uses[i] = RateUse{Name: h.Limit.Name(), Max: h.Limit.Max, Window: h.Limit.window(),
				Remaining: max(0, h.Limit.Max-int(ns[i])), Reset: h.End.Sub(now)}
		}
		u.set(uses)
	}
	for i, h := range lhs {
		if n := ns[i]; n > int64(h.Limit.Max) {
			hint := ""
			if h.Limit.Scope == ScopeIP {
				hint = "; the per-IP limit counts the end user's address, which the backend sends as client_ip"
			}
			return rateLimited(h.Limit.Name(), h.End.Sub(now),
				"too many verifications for this %s: at most %d per %s (limit %s)%s", strings.ReplaceAll(h.Limit.Scope, "_", " "), h.Limit.Max, time.Duration(h.Limit.WindowS)*time.Second, h.Limit.Name(), hint)
		}
	}
	return nil
}

// guardPumping counts an outbound start for its prefix and, when the
// prefix's starts reach the floor while few of them verify, blocks it and
// records fraud.prefix_blocked on nv (which is already inserted).
func (s *Service) guardPumping(ctx context.Context, w *writer, nv Verification) error {
	p := s.abuse.Pumping
	if !outbound(nv.Workflow) || p.Window <= 0 || p.MinStarts <= 0 || nv.Sandbox {
		return nil // the sandbox's texts and calls cost nothing, and must not block live prefixes
	}
	now := s.Now()
	prefix := phone.Prefix(nv.Phone, s.abuse.PrefixDigits)
	startedKey, verifiedKey, cur, prev, end := pumpingKeys(nv.AppID, prefix, p.Window, now)
	started, err := w.AddCounter(ctx, CounterHit{Key: startedKey, Window: cur, Expires: end.Add(p.Window), Delta: 1})
	if err != nil {
		return err
	}
	var sums [3]int64
	for i, k := range []struct {
		key string
		w   time.Time
	}{{startedKey, prev}, {verifiedKey, cur}, {verifiedKey, prev}} {
		if sums[i], err = w.Counter(ctx, k.key, k.w); err != nil {
			return err
		}
	}
	started += sums[0]
	verified := sums[1] + sums[2]
	if !p.Pumping(started, verified) {
		return nil
	}
	b := PrefixBlock{
		AppID: nv.AppID, Prefix: prefix, Started: started, Verified: verified, BlockedAt: now, Until: now.Add(p.BlockFor),
		Reason: fmt.Sprintf("%d starts, %d verified (below %.0f%%): suspected SMS pumping", started, verified, p.MinConversion*100),
	}
	if err := w.PutPrefixBlock(ctx, b); err != nil {
		return err
	}
	if _, err := w.record(ctx, nv, EventPrefixBlocked, detail{fraud: &FraudView{Prefix: prefix, Started: started, Verified: verified, Until: b.Until}}); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "prefix blocked", slog.String("app", nv.AppID), slog.String("prefix", prefix),
		slog.Int64("started", started), slog.Int64("verified", verified), slog.Time("until", b.Until))
	return nil
}

// countVerified adds a verification to its prefix's conversion.
func (s *Service) countVerified(ctx context.Context, tx Tx, v Verification) error {
	p := s.abuse.Pumping
	if !outbound(v.Workflow) || p.Window <= 0 || v.Sandbox {
		return nil
	}
	_, verifiedKey, cur, _, end := pumpingKeys(v.AppID, phone.Prefix(v.Phone, s.abuse.PrefixDigits), p.Window, s.Now())
	_, err := tx.AddCounter(ctx, CounterHit{Key: verifiedKey, Window: cur, Expires: end.Add(p.Window), Delta: 1})
	return err
}

// checkResend applies the resend limits to POST …/next on v: at most
// MaxResends moves, none sooner than ResendInterval after the current
// step sent its text or call, and each counted against the phone's rate
// limits (a resend costs what a start costs).
func (s *Service) checkResend(ctx context.Context, tx Tx, v Verification) error {
	now := s.Now()
	if m := s.abuse.MaxResends; m > 0 && v.Step >= m {
		return rateLimited("max_resends", v.ExpiresAt.Sub(now), "verification %s has moved on %d times, the most allowed; start a new one once it ends", v.ID, v.Step)
	}
	if v.Channel != ChannelMissedCall && s.abuse.ResendInterval > 0 && v.Step < len(v.Workflow) {
		sent := v.ExpiresAt.Add(-v.Workflow[v.Step].Timeout)
		if wait := sent.Add(s.abuse.ResendInterval).Sub(now); wait > 0 {
			return rateLimited("resend_interval", wait, "the %s of this step went out less than %s ago; wait %ds before the next", v.Channel, s.abuse.ResendInterval, RetryAfterSeconds(wait))
		}
	}
	app, err := tx.App(ctx, v.AppID)
	if err != nil {
		return err
	}
	if v.Workflow[v.Step+1].Channel == ChannelMissedCall {
		return nil // the user calls us: nothing is sent
	}
	return s.countStart(ctx, tx, app, APIKey{}, v, "", ScopePhone)
}

// checkStartPacing applies the resend interval to a start: a start whose
// first step sends a text or places a call is a resend when the phone's
// previous verification in the app (pending, canceled or over) sent one
// less than ResendInterval ago. Without it, start+cancel (or start after
// start, each superseding the last) would send a text per request.
func (s *Service) checkStartPacing(ctx context.Context, tx Tx, nv Verification) error {
	if s.abuse.ResendInterval <= 0 || nv.Workflow[0].Channel == ChannelMissedCall {
		return nil
	}
	last, err := tx.Verifications(ctx, ListFilter{Tenant: TenantOf(nv), Phone: nv.Phone, Limit: 1})
	if err != nil || len(last) == 0 {
		return err
	}
	prev := last[0]
	if prev.Channel == ChannelMissedCall || prev.Step >= len(prev.Workflow) {
		return nil // nothing was sent to the phone
	}
	sent := prev.ExpiresAt.Add(-prev.Workflow[prev.Step].Timeout)
	if wait := sent.Add(s.abuse.ResendInterval).Sub(s.Now()); wait > 0 {
		return rateLimited("resend_interval", wait, "a %s went to this number less than %s ago; wait %ds before starting another", prev.Channel, s.abuse.ResendInterval, RetryAfterSeconds(wait))
	}
	return nil
}

// SmallPool is an app's missed-call pool for one country (or AnyCountry)
// with fewer numbers than its per-phone limits need to rotate.
type SmallPool struct {
	AppID   string
	Country string
	Numbers int
	Need    int
}

// abuseFields names the abuse settings p changes, for the audit log.
func (p SettingsPatch) abuseFields() []string {
	var f []string
	for _, x := range []struct {
		set  bool
		name string
	}{{p.RateLimits != nil, "rate_limits"}, {p.AllowedCountries != nil, "allowed_countries"}, {p.DenyPrefixes != nil, "deny_prefixes"}, {p.RiskHook != nil, "risk_hook"}, {p.MaxWrongNumberCalls != nil, "max_wrong_number_calls"}} {
		if x.set {
			f = append(f, x.name)
		}
	}
	return f
}

func (p SettingsPatch) applyAbuse(st *Settings) {
	if p.RateLimits != nil {
		st.RateLimits = *p.RateLimits
	}
	if p.AllowedCountries != nil {
		st.AllowedCountries = *p.AllowedCountries
	}
	if p.DenyPrefixes != nil {
		st.DenyPrefixes = *p.DenyPrefixes
	}
	if p.RiskHook != nil {
		st.RiskHook = p.RiskHook
	}
	if p.MaxWrongNumberCalls != nil {
		st.MaxWrongNumberCalls = *p.MaxWrongNumberCalls
	}
}
