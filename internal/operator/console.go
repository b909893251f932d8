package operator

import (
	"context"
	"errors"
	"slices"

	"github.com/ringgate/ringgate/internal/verify"
)

// ConsoleList is List across apps for the operator: f.AppID may be empty,
// and Channel and Country filter too.
func (s *Service) ConsoleList(ctx context.Context, f verify.ListFilter) ([]verify.Verification, string, error) {
	if f.Channel != "" && !f.Channel.Known() {
		return nil, "", verify.FieldErrorf(verify.CodeInvalid, "channel", "unknown channel %q", f.Channel)
	}
	if f.Country != "" && !validRegion(f.Country) {
		return nil, "", verify.FieldErrorf(verify.CodeInvalid, "country", "country %q is not an ISO region code such as GB", f.Country)
	}
	f.AllTenants = true // the operator sees every app, sandbox and live
	return s.v.List(ctx, f)
}

func validRegion(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// Detail is one verification with its whole history, for the console.
type Detail struct {
	Verification verify.Verification
	Events       []verify.Event
	Deliveries   []verify.Delivery
}

// ConsoleDetail reads a verification of any app, its events and its webhook
// deliveries.
func (s *Service) ConsoleDetail(ctx context.Context, id string) (Detail, error) {
	v, err := s.store.Verification(ctx, id)
	if errors.Is(err, verify.ErrNotFound) {
		return Detail{}, verify.Errorf(verify.CodeNotFound, "no verification %q", id)
	}
	if err != nil {
		return Detail{}, err
	}
	evs, err := s.store.Events(ctx, id, 0, 1000)
	if err != nil {
		return Detail{}, err
	}
	ds, err := s.store.Deliveries(ctx, verify.DeliveryFilter{Tenant: verify.TenantOf(v), VerificationID: id, Limit: 1000})
	if err != nil {
		return Detail{}, err
	}
	slices.Reverse(ds) // oldest first, like the events
	return Detail{Verification: v, Events: evs, Deliveries: ds}, nil
}
