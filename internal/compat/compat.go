// Package compat holds what the provider-compatible APIs share: each app's
// provider-style credentials (Twilio Account SID and Auth Token, API key SID
// and secret; Vonage api_key and api_secret, application id and public key),
// the store they and the layers' own records live in, and the small
// interface of the verification service the layers drive.
//
// The layers themselves are the subpackages twilio (Twilio Verify v2),
// vonage (Vonage Verify v2) and otpapi (seed 001's missed-call API). Each
// answers in its provider's own wire format, errors included, and none
// keeps state beyond the mapping from the provider's ids to ringgate's
// verifications: the verification itself, its codes, attempts, expiry and
// webhooks are verify.Service's as for the native API.
package compat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Verifier is what the layers need of the verification service;
// *verify.Service has it.
type Verifier interface {
	Start(ctx context.Context, c verify.Caller, r verify.StartRequest) (verify.Verification, bool, error)
	Get(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error)
	Check(ctx context.Context, t verify.Tenant, id string, r verify.CheckRequest) (verify.CheckResult, error)
	Cancel(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error)
	Next(ctx context.Context, t verify.Tenant, id string) (verify.Verification, error)
	Now() time.Time
}

// Record is an app's compat credentials as stored: the secrets as hashes.
type Record struct {
	AppID               string
	TwilioAccountSID    string
	TwilioAuthTokenHash string
	TwilioKeySID        string
	TwilioKeySecretHash string
	VonageAPIKey        string
	VonageSecretHash    string
	VonageAppID         string // the Vonage application id JWTs name
	VonagePublicKey     string // PEM; "" until the app sets one
	// VonageStatusURL is where Vonage-style status callbacks go ("" for
	// none); VonageSignatureSecret signs them (sealed at rest, clear here).
	VonageStatusURL       string
	VonageSignatureSecret string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Service is a Twilio Verify Service (VA…) of an app.
type Service struct {
	SID          string
	AppID        string
	FriendlyName string
	CodeLength   int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// SendAttempt is one send of a Twilio verification's code.
type SendAttempt struct {
	AttemptSID string    `json:"attempt_sid"`
	Channel    string    `json:"channel"`
	Time       time.Time `json:"time"`
}

// TwilioVerification maps a Twilio Verification SID to the ringgate
// verification carrying it now.
type TwilioVerification struct {
	SID            string
	ServiceSID     string
	AppID          string
	VerificationID string
	To             string
	Channel        string
	SendAttempts   []SendAttempt
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// VonageRequest maps a Vonage Verify v2 request id to its verification.
type VonageRequest struct {
	RequestID      string
	AppID          string
	VerificationID string
	CreatedAt      time.Time
}

// Callback is a provider-format callback owed once a verification ends
// (Kind KindOTPAPI or KindVonage); Ref is the provider's id of the request.
type Callback struct {
	ID             string
	Kind           string
	Ref            string
	AppID          string
	VerificationID string
	Sandbox        bool // started with a test key
	CallbackURL    string
	State          string // pending, delivered, failed
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	CreatedAt      time.Time
}

// Callback kinds and states.
const (
	KindOTPAPI = "otpapi"
	KindVonage = "vonage"

	CallbackPending   = "pending"
	CallbackDelivered = "delivered"
	CallbackFailed    = "failed"
)

// Store keeps the compat records. Lookups that miss return an error
// wrapping verify.ErrNotFound; inserts that break a uniqueness rule,
// verify.ErrConflict.
type Store interface {
	PutCompatCredentials(ctx context.Context, r Record) error
	CompatCredentials(ctx context.Context, appID string) (Record, error)
	CompatCredentialsByTwilioAccount(ctx context.Context, accountSID string) (Record, error)
	CompatCredentialsByTwilioKey(ctx context.Context, keySID string) (Record, error)
	CompatCredentialsByVonageKey(ctx context.Context, apiKey string) (Record, error)
	CompatCredentialsByVonageApp(ctx context.Context, applicationID string) (Record, error)
	SetVonagePublicKey(ctx context.Context, appID, pem string, at time.Time) error

	InsertTwilioService(ctx context.Context, s Service) error
	TwilioService(ctx context.Context, appID, sid string) (Service, error)

	InsertTwilioVerification(ctx context.Context, v TwilioVerification) error
	UpdateTwilioVerification(ctx context.Context, v TwilioVerification) error
	TwilioVerification(ctx context.Context, appID, serviceSID, sid string) (TwilioVerification, error)
	// LatestTwilioVerification is the newest verification of a Service
	// for a phone.
	LatestTwilioVerification(ctx context.Context, appID, serviceSID, to string) (TwilioVerification, error)

	InsertVonageRequest(ctx context.Context, r VonageRequest) error
	VonageRequest(ctx context.Context, appID, requestID string) (VonageRequest, error)

	SetVonageStatusURL(ctx context.Context, appID, url string, at time.Time) error

	InsertCallback(ctx context.Context, c Callback) error
	// DueCallbacks are pending callbacks due at now whose verification
	// has ended.
	DueCallbacks(ctx context.Context, now time.Time, limit int) ([]Callback, error)
	// ClaimCallback takes a due callback for one sender (several nodes
	// poll the same rows): it moves next_attempt_at from was to until
	// and reports whether it did (false: another node took it).
	ClaimCallback(ctx context.Context, id string, was, until time.Time) (bool, error)
	SettleCallback(ctx context.Context, c Callback) error
}

// HashSecret is how compat secrets are kept: SHA-256, hex. They are random
// with at least 160 bits, so a slow hash adds nothing (as for API keys).
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a presented secret with a stored hash in constant
// time. An empty hash matches nothing.
func SecretMatches(presented, hash string) bool {
	if hash == "" {
		return false
	}
	got := HashSecret(presented)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum draws n characters from [A-Za-z0-9] without bias.
func randomAlnum(n int) string {
	b := make([]byte, n)
	var buf [1]byte
	for i := 0; i < n; {
		_, _ = rand.Read(buf[:])
		if int(buf[0]) >= 256-256%len(alnum) {
			continue
		}
		b[i] = alnum[int(buf[0])%len(alnum)]
		i++
	}
	return string(b)
}

// NewSID returns a Twilio-style SID: a two-letter prefix and 32 hex digits.
func NewSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NewUUID returns a random (version 4) UUID, the form of Vonage's ids.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

var (
	sidRE        = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)
	authTokenRE  = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	vonageKeyRE  = regexp.MustCompile(`^[0-9a-f]{8}$`)
	vonageSecRE  = regexp.MustCompile(`^[A-Za-z0-9]{16,64}$`)
	uuidRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	errNoSecrets = errors.New("compat: no credentials")
)

// ValidSID reports whether s is prefix and 32 lower-case hex digits.
func ValidSID(s, prefix string) bool { return len(s) == 34 && s[:2] == prefix && sidRE.MatchString(s) }

// ValidUUID reports whether s is a lower-case UUID.
func ValidUUID(s string) bool { return uuidRE.MatchString(s) }

// Credentials are an app's compat credentials in the clear: shown when
// created or rotated, never again.
type Credentials struct {
	AppID            string `json:"app_id"`
	TwilioAccountSID string `json:"twilio_account_sid"`
	TwilioAuthToken  string `json:"twilio_auth_token"`
	TwilioKeySID     string `json:"twilio_api_key_sid"`
	TwilioKeySecret  string `json:"twilio_api_key_secret"`
	VonageAPIKey     string `json:"vonage_api_key"`
	VonageAPISecret  string `json:"vonage_api_secret"`
	VonageAppID      string `json:"vonage_application_id"`
	// VonageSignatureSecret signs Vonage-style status callbacks (HS256).
	VonageSignatureSecret string `json:"vonage_signature_secret"`
}

// Pins fix some credentials (dev mode's RINGGATE_DEV_* variables); empty
// fields are generated.
type Pins struct {
	TwilioAccountSID string
	TwilioAuthToken  string
	VonageAPIKey     string
	VonageAPISecret  string
}

// Check validates pinned values, so a bad one fails at start, not at the
// first request.
func (p Pins) Check() error {
	if p.TwilioAccountSID != "" && !ValidSID(p.TwilioAccountSID, "AC") {
		return errors.New("the Twilio Account SID must be AC and 32 lower-case hex digits")
	}
	if p.TwilioAuthToken != "" && !authTokenRE.MatchString(p.TwilioAuthToken) {
		return errors.New("the Twilio Auth Token must be 32 letters and digits (the official Go client refuses other characters)")
	}
	if p.VonageAPIKey != "" && !vonageKeyRE.MatchString(p.VonageAPIKey) {
		return errors.New("the Vonage api_key must be 8 lower-case hex digits")
	}
	if p.VonageAPISecret != "" && !vonageSecRE.MatchString(p.VonageAPISecret) {
		return errors.New("the Vonage api_secret must be 16 to 64 letters and digits")
	}
	return nil
}

// NewCredentials draws credentials for an app, taking pinned values
// where p has them (call p.Check first).
func NewCredentials(appID string, p Pins) Credentials {
	c := Credentials{
		AppID:            appID,
		TwilioAccountSID: p.TwilioAccountSID, TwilioAuthToken: p.TwilioAuthToken,
		TwilioKeySID: NewSID("SK"), TwilioKeySecret: randomAlnum(32),
		VonageAPIKey: p.VonageAPIKey, VonageAPISecret: p.VonageAPISecret,
		VonageAppID: NewUUID(), VonageSignatureSecret: randomAlnum(32),
	}
	if c.TwilioAccountSID == "" {
		c.TwilioAccountSID = NewSID("AC")
	}
	if c.TwilioAuthToken == "" {
		c.TwilioAuthToken = randomAlnum(32)
	}
	if c.VonageAPIKey == "" {
		c.VonageAPIKey = NewSID("XX")[2:10]
	}
	if c.VonageAPISecret == "" {
		c.VonageAPISecret = randomAlnum(32)
	}
	return c
}

func (c Credentials) record(now time.Time, old Record) Record {
	return Record{
		AppID:            c.AppID,
		TwilioAccountSID: c.TwilioAccountSID, TwilioAuthTokenHash: HashSecret(c.TwilioAuthToken),
		TwilioKeySID: c.TwilioKeySID, TwilioKeySecretHash: HashSecret(c.TwilioKeySecret),
		VonageAPIKey: c.VonageAPIKey, VonageSecretHash: HashSecret(c.VonageAPISecret),
		VonageAppID: c.VonageAppID, VonagePublicKey: old.VonagePublicKey,
		VonageStatusURL: old.VonageStatusURL, VonageSignatureSecret: c.VonageSignatureSecret,
		CreatedAt: orNow(old.CreatedAt, now), UpdatedAt: now,
	}
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// Apps finds an app by id (the operator's side of ringgate has it).
type Apps interface {
	App(ctx context.Context, id string) (verify.App, error)
}

// Keeper creates, rotates and checks apps' compat credentials.
type Keeper struct {
	Store Store
	Apps  Apps // the app a credential authenticates as
	Now   func() time.Time
}

func (k Keeper) now() time.Time {
	if k.Now == nil {
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	return k.Now().UTC().Truncate(time.Millisecond)
}

// Rotate gives the app new credentials (pinned ones where p says), which
// replace the old at once, and returns them in the clear. The Vonage
// application id and public key are kept: JWTs signed with the app's
// private key go on working.
func (k Keeper) Rotate(ctx context.Context, appID string, p Pins) (Credentials, error) {
	if err := p.Check(); err != nil {
		return Credentials{}, verify.FieldErrorf(verify.CodeInvalid, "credentials", "%v", err)
	}
	old, err := k.Store.CompatCredentials(ctx, appID)
	if err != nil && !errors.Is(err, verify.ErrNotFound) {
		return Credentials{}, err
	}
	c := NewCredentials(appID, p)
	if old.VonageAppID != "" {
		c.VonageAppID = old.VonageAppID
	}
	if err := k.Store.PutCompatCredentials(ctx, c.record(k.now(), old)); err != nil {
		if errors.Is(err, verify.ErrConflict) {
			return Credentials{}, verify.Errorf(verify.CodeConflict, "a pinned credential belongs to another app")
		}
		return Credentials{}, fmt.Errorf("store compat credentials: %w", err)
	}
	return c, nil
}

// Install stores exactly these credentials for their app (dev mode: the
// printed ones, pinned or saved, hold across restarts), keeping the Vonage
// public key.
func (k Keeper) Install(ctx context.Context, c Credentials) error {
	p := Pins{TwilioAccountSID: c.TwilioAccountSID, TwilioAuthToken: c.TwilioAuthToken, VonageAPIKey: c.VonageAPIKey, VonageAPISecret: c.VonageAPISecret}
	if err := p.Check(); err != nil {
		return err
	}
	if !ValidSID(c.TwilioKeySID, "SK") || !authTokenRE.MatchString(c.TwilioKeySecret) || !ValidUUID(c.VonageAppID) ||
		!authTokenRE.MatchString(c.VonageSignatureSecret) {
		return errors.New("compat: malformed API key SID, secret or Vonage application id")
	}
	old, err := k.Store.CompatCredentials(ctx, c.AppID)
	if err != nil && !errors.Is(err, verify.ErrNotFound) {
		return err
	}
	if err := k.Store.PutCompatCredentials(ctx, c.record(k.now(), old)); err != nil {
		return fmt.Errorf("install compat credentials of %s: %w", c.AppID, err)
	}
	return nil
}

// Principal is who a compat request authenticated as.
type Principal struct {
	App    verify.App
	Record Record
	// Via says which credential was used: "account" (Account SID and Auth
	// Token), "key" (API key SID and secret), "vonage_basic", "vonage_jwt".
	Via string
}

// Caller is the verify.Caller a compat request acts as: a live key of the
// app with the verify scope, named after the credential.
func (p Principal) Caller() verify.Caller {
	id := "compat:" + p.Via + ":" + p.App.ID
	return verify.Caller{App: p.App, Key: verify.APIKey{
		ID: id, AppID: p.App.ID, Kind: verify.KeyLive, Scope: verify.ScopeVerify, Prefix: p.Via,
	}}
}

// Tenant is the live data of the app.
func (p Principal) Tenant() verify.Tenant { return verify.LiveTenant(p.App.ID) }

// ErrBadCredentials is any authentication failure; callers render it in
// their provider's shape and never say which half was wrong.
var ErrBadCredentials = errors.New("compat: bad credentials")

// AuthTwilio checks HTTP Basic credentials as Twilio takes them: an Account
// SID and its Auth Token, or an API key SID (SK…) and its secret.
func (k Keeper) AuthTwilio(ctx context.Context, user, pass string) (Principal, error) {
	var rec Record
	var err error
	var hash, via string
	switch {
	case ValidSID(user, "AC"):
		rec, err = k.Store.CompatCredentialsByTwilioAccount(ctx, user)
		hash, via = rec.TwilioAuthTokenHash, "account"
	case ValidSID(user, "SK"):
		rec, err = k.Store.CompatCredentialsByTwilioKey(ctx, user)
		hash, via = rec.TwilioKeySecretHash, "key"
	default:
		return Principal{}, ErrBadCredentials
	}
	return k.finish(ctx, rec, err, pass, hash, via)
}

// AuthVonageBasic checks Vonage's api_key:api_secret.
func (k Keeper) AuthVonageBasic(ctx context.Context, key, secret string) (Principal, error) {
	if !vonageKeyRE.MatchString(key) {
		return Principal{}, ErrBadCredentials
	}
	rec, err := k.Store.CompatCredentialsByVonageKey(ctx, key)
	return k.finish(ctx, rec, err, secret, rec.VonageSecretHash, "vonage_basic")
}

// VonageApp finds the app a Vonage application id belongs to (the JWT's
// signature is the caller's to check, with Record.VonagePublicKey).
func (k Keeper) VonageApp(ctx context.Context, applicationID string) (Principal, error) {
	if !ValidUUID(applicationID) {
		return Principal{}, ErrBadCredentials
	}
	rec, err := k.Store.CompatCredentialsByVonageApp(ctx, applicationID)
	if err != nil || rec.VonagePublicKey == "" {
		return Principal{}, ErrBadCredentials
	}
	app, err := k.Apps.App(ctx, rec.AppID)
	if err != nil {
		return Principal{}, ErrBadCredentials
	}
	return Principal{App: app, Record: rec, Via: "vonage_jwt"}, nil
}

func (k Keeper) finish(ctx context.Context, rec Record, err error, secret, hash, via string) (Principal, error) {
	if errors.Is(err, verify.ErrNotFound) {
		// Compare anyway, so a wrong SID and a wrong token take as long.
		SecretMatches(secret, HashSecret("x"))
		return Principal{}, ErrBadCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	if !SecretMatches(secret, hash) {
		return Principal{}, ErrBadCredentials
	}
	app, err := k.Apps.App(ctx, rec.AppID)
	if err != nil {
		return Principal{}, ErrBadCredentials
	}
	return Principal{App: app, Record: rec, Via: via}, nil
}

// SetVonageStatusURL sets where the app's Vonage-style status callbacks
// go ("" stops them); check it with the webhook URL policy first.
func (k Keeper) SetVonageStatusURL(ctx context.Context, appID, url string) error {
	if _, err := k.Store.CompatCredentials(ctx, appID); err != nil {
		if errors.Is(err, verify.ErrNotFound) {
			return errNoSecrets
		}
		return err
	}
	return k.Store.SetVonageStatusURL(ctx, appID, url, k.now())
}

// SetVonagePublicKey installs the PEM public key Vonage application JWTs
// of the app are checked with.
func (k Keeper) SetVonagePublicKey(ctx context.Context, appID, pem string) error {
	if _, err := k.Store.CompatCredentials(ctx, appID); err != nil {
		if errors.Is(err, verify.ErrNotFound) {
			return errNoSecrets
		}
		return err
	}
	return k.Store.SetVonagePublicKey(ctx, appID, pem, k.now())
}
