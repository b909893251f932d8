package verify

import (
	"context"
	"time"
)

// Store persists the domain. Implementations: internal/store/sqlite and
// internal/store/postgres; internal/store/storetest is the conformance suite
// both must pass.
type Store interface {
	Reader
	// Tx runs fn in one transaction: everything fn writes commits together, or
	// nothing does if fn returns an error. Implementations serialise
	// conflicting writers (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks), so
	// a verification read with LockVerification cannot change under fn.
	// Tx may run fn more than once when the database asks for a retry
	// (serialisation failure), so fn must not have effects outside tx.
	Tx(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Reader holds the queries available both inside and outside a transaction.
// Methods that look up one thing return ErrNotFound when it does not exist.
type Reader interface {
	AbuseReader
	App(ctx context.Context, id string) (App, error)
	// APIKeyByHash finds a key that is not revoked, and its app.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, App, error)
	// Verification finds a verification of any tenant: for the carriers'
	// and the job runner's side, client tokens and the console. What an API
	// key reads goes through VerificationOf.
	Verification(ctx context.Context, id string) (Verification, error)
	// VerificationOf finds one of the tenant's verifications; another
	// app's, or the other side of the sandbox line, is ErrNotFound.
	VerificationOf(ctx context.Context, t Tenant, id string) (Verification, error)
	// Verifications lists an app's verifications, newest first, that match f.
	Verifications(ctx context.Context, f ListFilter) ([]Verification, error)
	// Events returns events of one verification with ID > afterID, oldest
	// first, at most limit.
	Events(ctx context.Context, verificationID string, afterID int64, limit int) ([]Event, error)
	// Numbers lists an app's pool numbers ordered by number.
	Numbers(ctx context.Context, appID string) ([]Number, error)
	// PoolNumbers lists the app's numbers serving country, falling back to
	// those marked AnyCountry only when the country has none of its own.
	PoolNumbers(ctx context.Context, appID, country string) ([]Number, error)
	// Delivery finds one webhook delivery of the tenant.
	Delivery(ctx context.Context, t Tenant, id string) (Delivery, error)
	// Deliveries lists an app's webhook deliveries, newest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// NextExpiry is the earliest ExpiresAt of any pending verification; ok is
	// false when none is pending.
	NextExpiry(ctx context.Context) (at time.Time, ok bool, err error)
	// Job finds an outbound job by id.
	Job(ctx context.Context, id string) (Job, error)
	// Jobs lists a verification's jobs, oldest first (by CreatedAt, then ID).
	Jobs(ctx context.Context, verificationID string) ([]Job, error)
	// Apps lists every app, ordered by id.
	Apps(ctx context.Context) ([]App, error)
	// VerificationStats returns verifications of every app created at or
	// after since, oldest first, at most limit (0: no limit).
	VerificationStats(ctx context.Context, since time.Time, limit int) ([]StatRow, error)
	// JobByCarrierRef finds the newest job that carrier accepted under ref,
	// its own id for the command (Job.Carrier, Job.CarrierRef); ErrNotFound
	// if none, or if either is empty.
	JobByCarrierRef(ctx context.Context, carrier, ref string) (Job, error)
	// APIKeys lists an app's keys, revoked ones included, oldest first.
	APIKeys(ctx context.Context, appID string) ([]APIKey, error)
	// AuditEntries lists an app's audit entries, newest first, that match f.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// Tx is a transaction. Reads through it see its own writes.
type Tx interface {
	Reader
	AbuseTx
	InsertApp(ctx context.Context, a App) error
	// UpdateApp writes an app's name, default callback, webhook secret and
	// settings; ErrNotFound if the app does not exist.
	UpdateApp(ctx context.Context, a App) error
	// InsertAPIKey returns ErrConflict if the hash exists.
	InsertAPIKey(ctx context.Context, k APIKey) error
	// RevokeAPIKey marks an app's key revoked at at; ErrNotFound if the app
	// has no such key that is not already revoked.
	RevokeAPIKey(ctx context.Context, appID, id string, at time.Time) error
	// TouchAPIKey sets a key's LastUsedAt to at if it is older than
	// notAfter; no error when it is not (another request was first).
	TouchAPIKey(ctx context.Context, id string, at, notAfter time.Time) error
	// InsertAudit records an audit entry; ErrConflict if the id exists.
	InsertAudit(ctx context.Context, e AuditEntry) error
	// InsertNumber returns ErrConflict if the app already has the number.
	InsertNumber(ctx context.Context, n Number) error
	// DeleteNumber returns ErrNotFound if the app has no such number.
	DeleteNumber(ctx context.Context, appID, number string) error

	// LockVerification reads a verification and keeps it from changing until
	// the transaction ends.
	LockVerification(ctx context.Context, id string) (Verification, error)
	// LockVerificationOf is LockVerification of one of the tenant's
	// verifications; ErrNotFound for anyone else's.
	LockVerificationOf(ctx context.Context, t Tenant, id string) (Verification, error)
	// PendingVerification finds and locks the tenant's pending verification
	// for phone (locked, because the caller may end it when it is overdue).
	PendingVerification(ctx context.Context, t Tenant, phone string) (Verification, error)
	// VerificationByIdempotencyKey finds the verification a tenant started with key.
	VerificationByIdempotencyKey(ctx context.Context, t Tenant, key string) (Verification, error)
	// PendingForCaller locks and returns every pending verification of any app
	// for phone on channel.
	PendingForCaller(ctx context.Context, phone string, channel Channel) ([]Verification, error)
	// PendingForCallerApps is PendingForCaller and the apps of the
	// verifications it returns (read as App reads them: not locked), in one
	// round trip where the store can.
	PendingForCallerApps(ctx context.Context, phone string, channel Channel) ([]Verification, map[string]App, error)
	// DueForExpiry locks and returns up to limit pending verifications whose
	// ExpiresAt is not after now, skipping rows another transaction holds.
	DueForExpiry(ctx context.Context, now time.Time, limit int) ([]Verification, error)
	// InsertVerification returns ErrConflict when the tenant (app and
	// sandbox or live) already has a pending verification for the phone, or
	// a verification with the same non-empty idempotency key.
	InsertVerification(ctx context.Context, v Verification) error
	// UpdateVerification writes v's mutable fields (status, reason, attempts,
	// channel, step and its code, dial number, caller IDs, verified channel,
	// timestamps). It returns ErrNotFound if v.ID does not exist.
	UpdateVerification(ctx context.Context, v Verification) error

	// InsertEvent stores e and sets e.ID; through Deferred, by the time
	// the transaction's next statement, or Tx, returns.
	InsertEvent(ctx context.Context, e *Event) error
	// InsertEventDelivery stores e and its webhook delivery d, whose
	// EventID is e's, and sets e.ID as InsertEvent does. ErrConflict if
	// d's id exists.
	InsertEventDelivery(ctx context.Context, e *Event, d Delivery) error
	// InsertCall records an inbound call. It returns ErrConflict when a call
	// with the same non-empty (Carrier, CarrierCallID) exists.
	InsertCall(ctx context.Context, c Call) error
	// CallByCarrierID finds a recorded call by its carrier's id.
	CallByCarrierID(ctx context.Context, carrier, callID string) (Call, error)

	// InsertJob queues an outbound job; ErrConflict if the id exists.
	InsertJob(ctx context.Context, j Job) error
	// ClaimJobs marks up to limit jobs running until leaseUntil and returns
	// them (Attempts already counted): pending jobs due by now, and running
	// jobs whose lease ran out (their runner died). Rows another
	// transaction holds are skipped, so nodes claiming at once split the work.
	ClaimJobs(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Job, error)
	// UpdateJob writes a job's status, attempts, schedule, lease, carrier,
	// error and payload; ErrNotFound if it does not exist.
	UpdateJob(ctx context.Context, j Job) error

	InsertDelivery(ctx context.Context, d Delivery) error
	// RequeueDelivery makes a delivery due now (status pending, next attempt
	// at), keeping its attempt count and webhook-id; ErrNotFound if the
	// tenant has no such delivery.
	RequeueDelivery(ctx context.Context, t Tenant, id string, at time.Time) error

	// Deferred is the transaction with its writes allowed to wait: a store
	// may hold back an Insert or Update made through it (one that returns
	// only an error) and send it with the transaction's next statement or
	// its commit, so that several travel to the database together. Its
	// error then comes from that later call, or from Tx itself, and the
	// transaction never commits past it. Use it for writes whose error
	// ends the transaction, never for one whose error the caller handles
	// and goes on. Reads through it are the transaction's and see every
	// write. A store may also write at once (SQLite does).
	Deferred() Tx

	// PurgeEnded deletes up to limit verifications that ended before
	// before, with their events, jobs, deliveries and calls, skipping any
	// with a job pending or running or a delivery pending, and as many
	// unclaimed calls and verification-less settled deliveries that old.
	PurgeEnded(ctx context.Context, before time.Time, limit int) (Purged, error)
	// ErasePhone deletes every verification of the app (live and sandbox) for phone with
	// their rows, and the app's calls from phone.
	ErasePhone(ctx context.Context, appID, phone string) (Purged, error)
}

// ListFilter selects verifications of one tenant: Tenant always counts
// (an empty AppID matches nothing), unless AllTenants is set, for the
// operator's console, where Tenant.AppID filters by app when not empty.
// Other empty fields match all.
type ListFilter struct {
	Tenant     Tenant
	AllTenants bool
	Phone      string
	Status     Status
	Channel    Channel // the current (or final) step's channel
	Country    string  // ISO region of the phone
	BeforeID   string  // cursor: only IDs less than this
	Limit      int
}

// DeliveryFilter selects webhook deliveries of one tenant, or with
// AllTenants (the console) of any, Tenant.AppID filtering when set.
type DeliveryFilter struct {
	Tenant         Tenant
	AllTenants     bool
	Status         string
	VerificationID string
	BeforeID       string
	Limit          int
}

// Notice tells live subscribers that a verification has new events.
type Notice struct {
	AppID          string
	VerificationID string
	EventID        int64  // the newest event
	Type           string // its type (verification.verified, …); "" for a webhook retry
	Deliveries     bool   // webhook deliveries were queued for any dispatcher to claim
	// Handed are the deliveries queued leased to this node's dispatcher
	// (Config.DeliveryLease), for it to send without claiming them. They
	// stay on this node: the cluster carries no payloads.
	Handed []Delivery
	Jobs   bool // outbound jobs were queued
	// SecretRotated says the app's webhook secret changed: whoever keeps
	// it (the webhook dispatcher) reads it again.
	SecretRotated bool
	// For metrics: the verification's channel at the event, when it
	// started and when the event happened (zero on notices from peers).
	Channel   Channel
	StartedAt time.Time
	At        time.Time
}

// Publisher is told of every committed change. It must not block.
type Publisher interface {
	Publish(n Notice)
}
