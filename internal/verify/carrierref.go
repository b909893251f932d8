package verify

import (
	"context"
	"errors"

	"github.com/ringgate/ringgate/internal/carrier"
)

// jobIDByRef resolves an event that names its command only by the
// carrier's id (an adapter that restarted since sending no longer knows
// ours): the job that carrier accepted under e.Ref, or under one of the
// other spellings in e.RefAlt, tried in order. "" when none matches.
func jobIDByRef(ctx context.Context, tx Tx, e carrier.Event) (string, error) {
	if e.Ref == "" {
		return "", nil
	}
	for _, ref := range append([]string{e.Ref}, e.RefAlt...) {
		j, err := tx.JobByCarrierRef(ctx, e.Carrier, ref)
		if err == nil {
			return j.ID, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	return "", nil
}
