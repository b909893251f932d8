package sqldb

import (
	"context"
	"fmt"

	"github.com/ringgate/ringgate/internal/verify"
)

// JobByCarrierRef finds the newest job carrier accepted under ref. Refs
// are compared as stored: adapters whose carriers spell one id several
// ways store a canonical form and look up each spelling (see
// carrier.Event.RefAlt).
func (r reader) JobByCarrierRef(ctx context.Context, carrier, ref string) (verify.Job, error) {
	if carrier == "" || ref == "" {
		return verify.Job{}, fmt.Errorf("job of carrier %q ref %q: %w", carrier, ref, verify.ErrNotFound)
	}
	return one(ctx, r, scanJob, "job of "+carrier+" ref "+ref,
		`SELECT `+jobCols+` FROM jobs WHERE carrier = ? AND carrier_ref = ? ORDER BY created_at DESC, id DESC LIMIT 1`, carrier, ref)
}
