package webhook

import (
	"context"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Outbox is what the dispatcher needs of the store. The store writes
// deliveries in the same transaction as the events they report
// (verify.Tx.InsertDelivery); the dispatcher only claims and settles them.
type Outbox interface {
	// ClaimDeliveries leases up to limit deliveries that are pending, due
	// (NextAttemptAt <= now) and not leased by anyone (lease over), setting
	// their lease to now+lease, and returns them oldest-due first with their
	// app's current webhook secret. Dispatchers on several nodes never hold
	// the same delivery at once; one that dies loses its lease when it runs
	// out, and the delivery is claimed again.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claimed, error)
	// SettleDelivery records the outcome of one attempt and ends the lease:
	// Attempts+1, Status, NextAttemptAt, LastStatusCode, LastError, and
	// DeliveredAt when delivered. It does nothing (and returns nil) if the
	// delivery is no longer held under c.LeaseUntil, because another node has
	// claimed it since.
	SettleDelivery(ctx context.Context, c Claimed, a Attempt) error
	// NextDeliveryDue is the earliest NextAttemptAt (or lease end, if later)
	// of any pending delivery; ok is false when none is pending.
	NextDeliveryDue(ctx context.Context) (at time.Time, ok bool, err error)
}

// BatchOutbox is an Outbox that can also settle several attempts at once,
// each exactly as SettleDelivery would; the dispatcher then records the
// outcomes of attempts that finish together in one statement.
type BatchOutbox interface {
	Outbox
	SettleDeliveries(ctx context.Context, s []Settlement) error
}

// Settlement is one attempt's outcome for SettleDeliveries.
type Settlement struct {
	Claimed Claimed
	Attempt Attempt
}

// Claimed is a delivery held by this dispatcher until its LeaseUntil, the
// lease this claim holds (settle only under it).
type Claimed struct {
	verify.Delivery
	Secret string // the app's whsec_ secret
}

// Attempt is the outcome of one POST of a delivery.
type Attempt struct {
	At            time.Time
	Status        string    // verify.DeliveryDelivered, DeliveryPending (retry later) or DeliveryFailed
	NextAttemptAt time.Time // when Status is pending
	StatusCode    int       // the receiver's HTTP status, 0 if none came
	Error         string    // why it failed, "" when delivered
}

// HandOffOutbox is an Outbox whose deliveries may be queued already leased
// to this node's dispatcher (verify.Config.DeliveryLease) and handed to it
// after commit (Dispatcher.Offer), so that sending one costs no claim. The
// dispatcher reads the apps' secrets, which a claim returns with its rows.
type HandOffOutbox interface {
	Outbox
	// WebhookSecrets returns the current webhook secret of each app in
	// appIDs that exists.
	WebhookSecrets(ctx context.Context, appIDs []string) (map[string]string, error)
}
