package verify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ringgate/ringgate/internal/i18n"
	"github.com/ringgate/ringgate/internal/ivr"
	"math"
	mrand "math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/phone"
)

// Channel limits.
const (
	MaxWorkflowSteps   = 5
	MaxAttempts        = 5 // checks of a code before the verification fails
	MinCodeLength      = 4
	MaxCodeLength      = 10
	DefaultOTPLength   = 6
	DefaultFlashLength = 6                // with MaxAttempts, 1 in 200,000 per verification (docs/abuse.md)
	DefaultRingTimeout = 10 * time.Second // flash_call, seed 004
	MaxRingTimeout     = 60 * time.Second
	DefaultFlashStep   = 60 * time.Second
	DefaultAnswerRing  = 45 * time.Second
	maxJobAttempts     = 4
	jobRetryBase       = 2 * time.Second
)

// Outbound is the carrier layer as the service sees it: a Sender that
// routes each command to a carrier (with failover), and can tell at start
// whether any carrier serves a channel for an app and country.
type Outbound interface {
	PlaceCall(ctx context.Context, c carrier.Call) (carrier.Receipt, error)
	SendSMS(ctx context.Context, m carrier.SMS) (carrier.Receipt, error)
	Routable(appID, country, channel string, sandbox bool) bool
	// EndCall ends a call through the carrier that placed it (the name
	// its Receipt gave).
	EndCall(ctx context.Context, carrierName string, c carrier.CallEnd) error
}

// workflowOf turns a request's channel or workflow into steps.
func workflowOf(r StartRequest) ([]Step, error) {
	steps := r.Workflow
	switch {
	case len(steps) == 0 && r.Channel == "":
		return nil, FieldErrorf(CodeInvalid, "channel", "channel (or workflow) is required")
	case len(steps) == 0:
		steps = []StepRequest{{Channel: r.Channel, TimeoutS: r.TimeoutS}}
	case r.TimeoutS != 0:
		return nil, FieldErrorf(CodeInvalid, "timeout_s", "with a workflow, give each step its own timeout_s")
	case r.Channel != "" && r.Channel != steps[0].Channel:
		return nil, FieldErrorf(CodeInvalid, "channel", "channel %q is not the workflow's first step (%q); leave channel out", r.Channel, steps[0].Channel)
	case len(steps) > MaxWorkflowSteps:
		return nil, FieldErrorf(CodeInvalid, "workflow", "a workflow has at most %d steps", MaxWorkflowSteps)
	}
	out := make([]Step, len(steps))
	seen := map[Channel]bool{}
	for i, st := range steps {
		field := "channel"
		if len(r.Workflow) > 0 {
			field = fmt.Sprintf("workflow[%d].channel", i)
		}
		switch {
		case st.Channel == "":
			return nil, FieldErrorf(CodeInvalid, field, "channel is required")
		case !st.Channel.Known():
			return nil, FieldErrorf(CodeUnsupportedChannel, field, "unknown channel %q (want missed_call, flash_call, answer_call, voice_otp or sms_otp)", st.Channel)
		case seen[st.Channel]:
			return nil, FieldErrorf(CodeInvalid, field, "channel %q appears twice in the workflow", st.Channel)
		}
		seen[st.Channel] = true
		timeout := DefaultTimeout
		if st.Channel == ChannelFlashCall {
			timeout = DefaultFlashStep
		}
		if st.TimeoutS != 0 {
			timeout = time.Duration(st.TimeoutS) * time.Second
			if timeout < MinTimeout || timeout > MaxTimeout {
				tf := "timeout_s"
				if len(r.Workflow) > 0 {
					tf = fmt.Sprintf("workflow[%d].timeout_s", i)
				}
				return nil, FieldErrorf(CodeInvalid, tf, "timeout_s must be between %d and %d", int(MinTimeout/time.Second), int(MaxTimeout/time.Second))
			}
		}
		out[i] = Step{Channel: st.Channel, Timeout: timeout}
		switch st.Channel {
		case ChannelFlashCall:
			out[i].CodeLength, out[i].RingTimeout = DefaultFlashLength, DefaultRingTimeout
			if r.RingTimeoutS != 0 {
				out[i].RingTimeout = time.Duration(r.RingTimeoutS) * time.Second
			}
		case ChannelVoiceOTP, ChannelSMSOTP:
			out[i].CodeLength = DefaultOTPLength
		}
		if r.CodeLength != 0 && st.Channel.UsesCode() {
			out[i].CodeLength = r.CodeLength
		}
	}
	return out, nil
}

var localeRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

func checkCodeOptions(r StartRequest, w []Step) error {
	if r.CodeLength != 0 && (r.CodeLength < MinCodeLength || r.CodeLength > MaxCodeLength) {
		return FieldErrorf(CodeInvalid, "code_length", "code_length must be between %d and %d", MinCodeLength, MaxCodeLength)
	}
	if r.RingTimeoutS != 0 && (r.RingTimeoutS < 1 || time.Duration(r.RingTimeoutS)*time.Second > MaxRingTimeout) {
		return FieldErrorf(CodeInvalid, "ring_timeout_s", "ring_timeout_s must be between 1 and %d", int(MaxRingTimeout/time.Second))
	}
	if r.Locale != "" && !localeRE.MatchString(r.Locale) {
		return FieldErrorf(CodeInvalid, "locale", "locale %q is not a language tag like \"en\" or \"pt-BR\"", r.Locale)
	}
	return nil
}

// checkSteps refuses, at start, a workflow some step of which could never
// run: a missed call with no pool number, a flash call with no caller-ID
// range, an outbound channel no carrier serves.
func (s *Service) checkSteps(ctx context.Context, tx Tx, app App, v Verification) error {
	for i, st := range v.Workflow {
		field := "channel"
		if len(v.Workflow) > 1 {
			field = fmt.Sprintf("workflow[%d].channel", i)
		}
		switch st.Channel {
		case ChannelMissedCall:
			if i == 0 {
				continue // prepareStep draws from the pool now, and says so if it is empty
			}
			pool, err := tx.PoolNumbers(ctx, v.AppID, v.Country)
			if err != nil {
				return err
			}
			if len(pool) == 0 {
				return FieldErrorf(CodeNoNumber, "phone", "app %s has no missed-call number for %s; add one with `ringgate numbers add`", v.AppID, v.Country)
			}
			continue
		case ChannelFlashCall:
			r, ok := callerIDRange(app.Settings, v.Country)
			if !ok {
				return FieldErrorf(CodeNoCallerID, field, "app %s has no flash-call caller-ID range for %s; set flash_caller_ids with PATCH /v1/app", v.AppID, v.Country)
			}
			n := st.CodeLength
			if digits := strings.Count(r.Pattern, "X"); n > digits {
				return FieldErrorf(CodeInvalid, "code_length", "the flash caller-ID range %s carries at most %d code digits", r.Pattern, digits)
			}
		}
		if s.out == nil || !s.out.Routable(v.AppID, v.Country, string(st.Channel), v.Sandbox) {
			return FieldErrorf(CodeNoRoute, field, "no carrier serves %s to %s on this server; configure a carrier route", st.Channel, v.Country)
		}
	}
	return nil
}

// command is an outbound job's payload before sealing: everything the
// carrier needs, the code included, so it is encrypted at rest.
type command struct {
	Channel     Channel           `json:"channel"`
	From        string            `json:"from,omitempty"`
	To          string            `json:"to"`
	Country     string            `json:"country"`
	RingMS      int64             `json:"ring_ms,omitempty"`
	DropOnRing  bool              `json:"drop_on_ring,omitempty"`
	OnAnswer    carrier.OnAnswer  `json:"on_answer,omitempty"`
	DialplanXML string            `json:"dialplan_xml,omitempty"`
	Vars        map[string]string `json:"vars,omitempty"`
	Text        string            `json:"text,omitempty"`
	Locale      string            `json:"locale,omitempty"` // picks the built-in dialplan's language
	AppName     string            `json:"app_name,omitempty"`
	Sandbox     bool              `json:"sandbox,omitempty"`
	// A hang-up job's call: its id, and the carrier and ref that took it.
	CallID  string `json:"call_id,omitempty"`
	Carrier string `json:"carrier,omitempty"`
	Ref     string `json:"ref,omitempty"`
}

// prepareStep makes step i current on v: its channel and deadline, and
// for the channels that need one, a fresh code and the outbound job that
// delivers it. The job is returned for the caller to queue once v is
// written (nil for missed_call, where the user calls us).
func (s *Service) prepareStep(ctx context.Context, tx Tx, app App, v *Verification, i int) (*Job, error) {
	return s.prepareStepDial(ctx, tx, app, v, i, nil)
}

// prepareStepDial is prepareStep for a missed-call step whose dial
// choices were read already (countStartDial), when dial has them.
func (s *Service) prepareStepDial(ctx context.Context, tx Tx, app App, v *Verification, i int, dial *dialChoices) (*Job, error) {
	st := v.Workflow[i]
	now := s.Now()
	v.Step, v.Channel, v.ExpiresAt, v.UpdatedAt = i, st.Channel, now.Add(st.Timeout), now
	v.DialNumber, v.CodeHash, v.CLIPrefix, v.CLIFilter, v.CallerID = "", "", "", "", ""
	cmd := command{Channel: st.Channel, To: v.Phone, Country: v.Country, Locale: v.Locale, Sandbox: v.Sandbox}
	kind := JobCall
	switch st.Channel {
	case ChannelMissedCall:
		var pool []Number
		var recent []string
		if dial != nil && dial.read {
			pool, recent = dial.pool, dial.recent
		} else {
			var err error
			if pool, recent, err = tx.DialChoices(ctx, v.AppID, v.Country, v.Phone, now.Add(-s.abuse.DialCooldown)); err != nil {
				return nil, err
			}
		}
		if len(pool) == 0 {
			return nil, FieldErrorf(CodeNoNumber, "phone", "app %s has no missed-call number for %s", v.AppID, v.Country)
		}
		last := ""
		if len(recent) > 0 {
			last = recent[0]
		} else if len(pool) > 1 {
			// The cool-down is over: still never re-show the previous
			// attempt's number.
			all, err := tx.RecentDialNumbers(ctx, v.AppID, v.Phone, time.UnixMilli(0))
			if err != nil {
				return nil, err
			}
			if len(all) > 0 {
				last = all[0]
			}
		}
		// math/rand/v2's global source is ChaCha8 seeded from the OS, so the
		// choice cannot be predicted by someone trying to spoof a caller ID.
		v.DialNumber = pickDialNumber(pool, recent, last, mrand.IntN).Number
		v.CodeLength = 0
		return nil, nil
	case ChannelFlashCall:
		r, ok := callerIDRange(app.Settings, v.Country)
		if !ok {
			return nil, FieldErrorf(CodeNoCallerID, "channel", "app %s has no flash-call caller-ID range for %s", v.AppID, v.Country)
		}
		n := st.CodeLength
		cli, prefix, filter := flashCLI(r.Pattern, n)
		v.CodeLength, v.CLIPrefix, v.CLIFilter = n, prefix, filter
		v.CodeHash = s.codeHash(v.ID, i, cli[len(prefix):])
		cmd.From, cmd.DropOnRing, cmd.OnAnswer = cli, true, carrier.HangUp
		cmd.RingMS = st.RingTimeout.Milliseconds()
	case ChannelAnswerCall:
		v.CodeLength = 0
		v.CallerID = s.callerID(ctx, tx, *v)
		cmd.From, cmd.OnAnswer = v.CallerID, carrier.HangUp
		cmd.RingMS = min(st.Timeout, DefaultAnswerRing).Milliseconds()
	case ChannelVoiceOTP:
		code := s.newStepCode(v, st)
		v.CallerID = s.callerID(ctx, tx, *v)
		cmd.From, cmd.OnAnswer = v.CallerID, carrier.RunDialplan
		cmd.RingMS = min(st.Timeout, DefaultAnswerRing).Milliseconds()
		cmd.DialplanXML, cmd.Locale = app.Settings.DialplanXML, v.Locale
		cmd.Vars = map[string]string{ivr.VarCode: code, ivr.VarApp: app.Name}
		if tag := i18n.TTS(v.Locale); tag != "" {
			cmd.Vars[ivr.VarLanguage] = tag // an app's own plan speaks the verification's language too
		}
	case ChannelSMSOTP:
		code := s.newStepCode(v, st)
		kind = JobSMS
		cmd.From, cmd.Text, cmd.AppName = app.Settings.SMSSender, SMSText(app, v.Locale, code), app.Name
	}
	payload, err := s.seal(cmd)
	if err != nil {
		return nil, err
	}
	prefix := "oc_"
	if kind == JobSMS {
		prefix = "sm_"
	}
	return &Job{
		ID: NewID(prefix), AppID: v.AppID, VerificationID: v.ID, Step: i, Kind: kind, Payload: payload,
		Status: JobPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// newStepCode draws an OTP code for the current step and keeps only its
// HMAC on v.
func (s *Service) newStepCode(v *Verification, st Step) string {
	code := randomDigits(st.CodeLength)
	v.CodeLength, v.CodeHash = st.CodeLength, s.codeHash(v.ID, v.Step, code)
	return code
}

// callerID is the number answer_call and voice_otp call from: the app's
// dedicated number for the country (the first of its pool, so it stays
// the same and the app can watch for it), or the carrier's default.
func (s *Service) callerID(ctx context.Context, tx Tx, v Verification) string {
	pool, err := tx.PoolNumbers(ctx, v.AppID, v.Country)
	if err != nil || len(pool) == 0 {
		return ""
	}
	return pool[0].Number
}

// randomDigits returns n decimal digits from crypto/rand, uniformly.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0' + byte(mrandDigit())
	}
	return string(b)
}

// mrandDigit draws one digit from crypto/rand without modulo bias.
func mrandDigit() int {
	var buf [1]byte
	for {
		_, _ = rand.Read(buf[:])
		if buf[0] < 250 {
			return int(buf[0] % 10)
		}
	}
}

// codeHash is what is kept of a code: an HMAC under the server secret, bound
// to the verification and step so a code never passes anywhere else.
func (s *Service) codeHash(id string, step int, code string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("ringgate code\x00"))
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(strconv.Itoa(step)))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// callerIDRange finds the app's flash range for country, or its "*" one.
func callerIDRange(st Settings, country string) (CallerIDRange, bool) {
	var any []CallerIDRange
	var own []CallerIDRange
	for _, r := range st.FlashCallerIDs {
		switch r.Country {
		case country:
			own = append(own, r)
		case AnyCountry:
			any = append(any, r)
		}
	}
	if len(own) == 0 {
		own = any
	}
	if len(own) == 0 {
		return CallerIDRange{}, false
	}
	return own[mrand.IntN(len(own))], true
}

// CheckCallerIDPattern validates a flash range: "+", digits, then at least
// MinCodeLength trailing X's, at most 15 digits in all (E.164).
func CheckCallerIDPattern(p string) error {
	fixed := strings.TrimRight(p, "X")
	xs := len(p) - len(fixed)
	switch {
	case !strings.HasPrefix(fixed, "+") || len(fixed) < 3:
		return fmt.Errorf("pattern %q must start with + and the country code", p)
	case strings.Trim(fixed[1:], "0123456789") != "":
		return fmt.Errorf("pattern %q: only digits may come before the trailing X's", p)
	case xs < MinCodeLength:
		return fmt.Errorf("pattern %q needs at least %d trailing X's to carry the code", p, MinCodeLength)
	case len(p)-1 > 15:
		return fmt.Errorf("pattern %q is longer than 15 digits", p)
	}
	if _, err := phone.ParseE164(fixed + strings.Repeat("0", xs)); err != nil {
		return fmt.Errorf("pattern %q does not make valid numbers: %v", p, err)
	}
	return nil
}

// flashCLI draws a caller ID from pattern whose last n digits are a fresh
// code, and returns it with the part before the code and the regular
// expression every number of the range matches.
func flashCLI(pattern string, n int) (cli, prefix, filter string) {
	fixed := strings.TrimRight(pattern, "X")
	xs := len(pattern) - len(fixed)
	prefix = fixed + randomDigits(xs-n)
	cli = prefix + randomDigits(n)
	filter = "^" + regexp.QuoteMeta(fixed) + `\d{` + strconv.Itoa(xs) + "}$"
	return cli, prefix, filter
}

// SMSText renders the text for locale with the code: the app's template
// for that locale (or its language: "pt" serves "pt-BR"), else the
// built-in text for it (internal/i18n), else the app's default template
// ("en"), else the built-in English. An app that set only "en" thus still
// sends French to "fr". The Android SMS Retriever hash goes on a line of
// its own at the end when the app has one.
func SMSText(app App, locale, code string) string {
	text := strings.NewReplacer("{code}", code, "{app}", app.Name).Replace(smsTemplate(app.Settings.SMSTemplates, locale))
	if app.Settings.AndroidAppHash != "" {
		text += "\n" + app.Settings.AndroidAppHash
	}
	return text
}

func smsTemplate(own map[string]string, locale string) string {
	lang, _, _ := strings.Cut(locale, "-")
	for _, k := range []string{locale, lang} {
		if t, ok := own[k]; ok && k != "" {
			return t
		}
	}
	if t, ok := i18n.Lookup(locale); ok {
		return t.SMS
	}
	if t, ok := own[i18n.Default]; ok {
		return t
	}
	t, _ := i18n.Lookup(i18n.Default)
	return t.SMS
}

// CheckSMSTemplate validates an app's SMS template.
func CheckSMSTemplate(t string) error {
	switch {
	case !strings.Contains(t, "{code}"):
		return errors.New("must contain {code}")
	case len(t) > 480:
		return errors.New("is longer than 480 bytes")
	}
	rest := strings.NewReplacer("{code}", "", "{app}", "").Replace(t)
	if i := strings.IndexByte(rest, '{'); i >= 0 && strings.IndexByte(rest[i:], '}') > 0 {
		return fmt.Errorf("has an unknown placeholder near %q (want {code} or {app})", rest[i:min(len(rest), i+12)])
	}
	return nil
}

// Next moves a pending verification on to its workflow's next step now
// ("send me a text instead").
func (s *Service) Next(ctx context.Context, t Tenant, id string) (Verification, error) {
	var out Verification
	err := s.apply(ctx, func(w *writer) error {
		v, err := s.lockOwn(ctx, w, t, id)
		if err != nil {
			return err
		}
		if v.Status.Terminal() {
			return Errorf(CodeNotPending, "verification %s is already %s", v.ID, v.Status)
		}
		if v.Step+1 >= len(v.Workflow) {
			return Errorf(CodeNoNextStep, "verification %s is on the last step of its workflow (%s)", v.ID, v.Channel)
		}
		if err := s.checkResend(ctx, w, v); err != nil {
			return err
		}
		if err := w.advance(ctx, v, "requested"); err != nil {
			return err
		}
		out, err = w.Verification(ctx, id)
		return err
	})
	if err != nil {
		s.noteRefusal(err)
		return Verification{}, err
	}
	return out, nil
}

func (s *Service) lockOwn(ctx context.Context, tx Tx, t Tenant, id string) (Verification, error) {
	v, err := tx.LockVerificationOf(ctx, t, id)
	if errors.Is(err, ErrNotFound) {
		return Verification{}, Errorf(CodeNotFound, "no verification %q", id)
	}
	return v, err
}

// CheckRequest is a code the user typed, or the caller ID a flash call
// reached the phone with.
type CheckRequest struct {
	Code string `json:"code,omitempty"`
	CLI  string `json:"cli,omitempty"`
}

// CheckResult is the outcome of a check and the verification after it. It
// is not an API form (Verification holds the code's hash): render it with
// ViewOf.
type CheckResult struct {
	Valid             bool
	AttemptsRemaining int
	Verification      Verification
}

// Check compares a code (or a flash call's caller ID) with the current
// step's. The attempt is counted in the same transaction, before the
// comparison, under the verification's lock: parallel checks queue, and no
// more than MaxAttempts are ever compared. A malformed code is refused
// without counting.
func (s *Service) Check(ctx context.Context, t Tenant, id string, r CheckRequest) (CheckResult, error) {
	var res CheckResult
	err := s.apply(ctx, func(w *writer) error {
		res = CheckResult{}
		v, err := s.lockOwn(ctx, w, t, id)
		if err != nil {
			return err
		}
		code, prefix, err := checkInput(v, r)
		if err != nil {
			return err
		}
		v.Attempts++
		// Both comparisons always run, so timing says nothing of which failed.
		okPrefix := hmac.Equal([]byte(prefix), []byte(v.CLIPrefix))
		okCode := hmac.Equal([]byte(s.codeHash(v.ID, v.Step, code)), []byte(v.CodeHash))
		res.Valid = okPrefix && okCode && v.CodeHash != ""
		switch {
		case res.Valid:
			err = w.finish(ctx, v, StatusVerified, ReasonNone, detail{check: &CheckView{Attempts: v.Attempts}})
		case v.Attempts >= attemptsFor(v):
			err = w.finish(ctx, v, StatusFailed, ReasonMaxAttempts, detail{check: &CheckView{Attempts: v.Attempts}})
		default:
			v.UpdatedAt = s.Now()
			if err = w.UpdateVerification(ctx, v); err == nil {
				_, err = w.record(ctx, v, EventCheckFailed, detail{check: &CheckView{Attempts: v.Attempts}})
			}
		}
		if err != nil {
			return err
		}
		res.Verification, err = w.Verification(ctx, id)
		res.AttemptsRemaining = max(0, attemptsFor(res.Verification)-res.Verification.Attempts)
		if res.Verification.Status.Terminal() && !res.Valid {
			res.AttemptsRemaining = 0
		}
		return err
	})
	if err != nil {
		return CheckResult{}, err
	}
	return res, nil
}

// MaxGuessOdds is the most a guesser may pass a flash call with, per
// verification: 1 in 100,000.
const MaxGuessOdds = 1e-5

// attemptsFor is how many checks v's current step allows. A flash call's
// code is the end of a caller ID the phone's owner sees, and an app that
// reads it needs one check: a short code (an app's explicit code_length 4
// or 5) gets as many attempts as keep a guesser at MaxGuessOdds, and at
// least one. Every other code gets MaxAttempts.
func attemptsFor(v Verification) int {
	if v.Channel != ChannelFlashCall || v.CodeLength <= 0 {
		return MaxAttempts
	}
	n := MaxGuessOdds * math.Pow10(v.CodeLength)
	return max(1, min(MaxAttempts, int(n)))
}

// checkInput validates a check against the current step and returns the
// code to compare and, for a flash call's caller ID, the part before it.
func checkInput(v Verification, r CheckRequest) (code, prefix string, err error) {
	switch {
	case v.Status.Terminal():
		return "", "", Errorf(CodeNotPending, "verification %s is already %s", v.ID, v.Status)
	case !v.Channel.UsesCode():
		return "", "", Errorf(CodeNotCheckable, "verification %s is on %s, which has no code to check: it completes by itself", v.ID, v.Channel)
	case (r.Code == "") == (r.CLI == ""):
		return "", "", FieldErrorf(CodeInvalid, "code", "give exactly one of code and cli")
	case r.CLI != "" && v.Channel != ChannelFlashCall:
		return "", "", FieldErrorf(CodeInvalid, "cli", "cli is for flash_call; verification %s is on %s", v.ID, v.Channel)
	}
	prefix = v.CLIPrefix
	code = stripSeparators(r.Code)
	if r.CLI != "" {
		n, perr := phone.ParseE164(strings.TrimSpace(r.CLI))
		if perr != nil {
			return "", "", &Error{Code: CodeInvalidCode, Field: "cli", Err: perr,
				Message: fmt.Sprintf("cli must be the caller ID in international format, + and country code first (like %s…); a check takes no country, so a national number (0…) cannot be read: %v", phone.Prefix(v.Phone, 3), perr)}
		}
		if len(n.E164) <= v.CodeLength {
			return "", "", FieldErrorf(CodeInvalidCode, "cli", "cli is too short to carry a %d-digit code", v.CodeLength)
		}
		cut := len(n.E164) - v.CodeLength
		prefix, code = n.E164[:cut], n.E164[cut:]
	}
	if len(code) != v.CodeLength || strings.Trim(code, "0123456789") != "" {
		return "", "", FieldErrorf(CodeInvalidCode, "code", "the code is %d digits", v.CodeLength)
	}
	return code, prefix, nil
}

// stripSeparators drops the spaces, dashes and dots people type inside a
// code ("463 008", "463-008", as an IVR reads it); anything else stays
// and is refused by the digits check. Bounded: a code is at most
// MaxCodeLength digits, so a long input is left as it is (and refused).
func stripSeparators(code string) string {
	if len(code) > 4*MaxCodeLength {
		return code
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '\u00a0', '\u2009', '\u202f', '\u2010', '\u2011', '\u2012', '\u2013':
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

// CheckByID checks a verification whatever its app: for the simulator's
// phones, whose app submits what the handset received, as a customer's
// backend would with its own key.
func (s *Service) CheckByID(ctx context.Context, id string, r CheckRequest) (CheckResult, error) {
	v, err := s.store.Verification(ctx, id)
	if err != nil {
		return CheckResult{}, err
	}
	return s.Check(ctx, TenantOf(v), id, r)
}
