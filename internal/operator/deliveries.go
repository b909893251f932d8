package operator

import (
	"context"
	"errors"

	"github.com/ringgate/ringgate/internal/verify"
)

// Deliveries lists the app's webhook deliveries, newest first, and the next
// page's cursor.
func (s *Service) Deliveries(ctx context.Context, f verify.DeliveryFilter) ([]verify.Delivery, string, error) {
	switch f.Status {
	case "", verify.DeliveryPending, verify.DeliveryDelivered, verify.DeliveryFailed:
	default:
		return nil, "", verify.FieldErrorf(verify.CodeInvalid, "status", "unknown delivery status %q (want pending, delivered or failed)", f.Status)
	}
	want := verify.ClampPage(f.Limit)
	f.Limit = want + 1 // one more tells whether there is a next page
	ds, err := s.store.Deliveries(ctx, f)
	return page(ds, err, want, func(d verify.Delivery) string { return d.ID })
}

// RetryDelivery makes one of the tenant's webhook deliveries due now.
func (s *Service) RetryDelivery(ctx context.Context, t verify.Tenant, id string) (verify.Delivery, error) {
	var d verify.Delivery
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		if _, err := tx.Delivery(ctx, t, id); err != nil {
			return err
		}
		if err := tx.RequeueDelivery(ctx, t, id, s.Now()); err != nil {
			return err
		}
		var err error
		if d, err = tx.Delivery(ctx, t, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, t, verify.AuditDeliveryRetried, id, map[string]any{"verification_id": d.VerificationID, "type": d.Type})
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.Delivery{}, verify.Errorf(verify.CodeNotFound, "no webhook delivery %q", id)
	}
	if err != nil {
		return verify.Delivery{}, err
	}
	if s.pub != nil { // wake the dispatcher
		s.pub.Publish(verify.Notice{AppID: t.AppID, VerificationID: d.VerificationID, Deliveries: true})
	}
	return d, nil
}

// ConsoleRetryDelivery is RetryDelivery for the operator, who sees the
// app's sandbox and live deliveries alike.
func (s *Service) ConsoleRetryDelivery(ctx context.Context, appID, id string) (verify.Delivery, error) {
	d, err := s.RetryDelivery(ctx, verify.LiveTenant(appID), id)
	if verify.ErrorCode(err) == verify.CodeNotFound {
		return s.RetryDelivery(ctx, verify.Tenant{AppID: appID, Sandbox: true}, id)
	}
	return d, err
}
