package config

import (
	"fmt"
	"time"
)

// Retention says how long ringgate keeps what it learnt about phone
// numbers. After Days, a background job on every node deletes ended
// verifications with their events, outbound jobs, webhook deliveries and
// calls (see docs/operating.md). Pending work is never deleted.
type Retention struct {
	// Days to keep ended verifications; 0 keeps them forever.
	Days int `yaml:"days"`
	// After, when set, is the period as a duration instead of Days (for
	// periods under a day, as tests use).
	After time.Duration `yaml:"after"`
	// Interval between purges (each purges in batches until none is left).
	Interval time.Duration `yaml:"interval"`
	// Batch is how many verifications one transaction deletes.
	Batch int `yaml:"batch"`
}

// DefaultRetention is 90 days, purged hourly in batches of 500.
func DefaultRetention() Retention {
	return Retention{Days: 90, Interval: time.Hour, Batch: 500}
}

// Period is how long ended verifications are kept; 0 when retention is off.
func (r Retention) Period() time.Duration {
	if r.After > 0 {
		return r.After
	}
	return time.Duration(r.Days) * 24 * time.Hour
}

func (r Retention) validate() error {
	switch {
	case r.Days < 0 || r.After < 0:
		return fmt.Errorf("retention.days: %d is negative (0 keeps data forever)", r.Days)
	case r.Period() > 0 && r.Interval <= 0:
		return fmt.Errorf("retention.interval: must be positive")
	case r.Period() > 0 && (r.Batch <= 0 || r.Batch > 5000):
		return fmt.Errorf("retention.batch: %d is not between 1 and 5000", r.Batch)
	}
	return nil
}
