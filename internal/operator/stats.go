package operator

import (
	"context"
	"sort"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// StatsQuery selects what the console charts.
type StatsQuery struct {
	Since  time.Time
	Until  time.Time     // zero: now
	Bucket time.Duration // width of one point of the time series
	// Price is what one attempt on a channel costs in a country.
	Price func(channel verify.Channel, country string) float64
	// Sandbox counts test-key verifications too; by default the charts
	// show live traffic only.
	Sandbox bool
}

// ChannelStats sums up one channel over the whole window.
type ChannelStats struct {
	Channel  verify.Channel `json:"channel"`
	Started  int            `json:"started"`
	Verified int            `json:"verified"`
	Pending  int            `json:"pending"`
	// Ended is Verified and every other final status: Conversion's
	// denominator, shown beside it ("12 of 40").
	Ended int `json:"ended"`
	// Conversion is Verified / ended (pending ones are not counted yet).
	Conversion float64 `json:"conversion"`
	// MedianSeconds is the median time from start to verified.
	MedianSeconds float64 `json:"median_seconds"`
	// Cost is what the window's attempts cost; CostPerVerified divides it
	// by the users verified (0 when none was).
	Cost            float64 `json:"cost"`
	CostPerVerified float64 `json:"cost_per_verified"`
}

// Point is one bucket of the time series.
type Point struct {
	At        verify.Stamp           `json:"at"` // milliseconds, as the API writes times
	Started   map[verify.Channel]int `json:"started"`
	Verified  map[verify.Channel]int `json:"verified"`
	Completed int                    `json:"-"`
}

// Stats is what the console draws.
type Stats struct {
	Since    verify.Stamp   `json:"since"`
	Until    verify.Stamp   `json:"until"`
	BucketS  int            `json:"bucket_s"`
	Channels []ChannelStats `json:"channels"`
	Series   []Point        `json:"series"`
	// Truncated is true when the window held more than MaxStatRows.
	Truncated bool `json:"truncated"`
	// Sandbox says test-key verifications are counted; SandboxRows is how
	// many the window holds either way (the console offers the toggle).
	Sandbox     bool `json:"sandbox"`
	SandboxRows int  `json:"sandbox_rows"`
}

// bucketSteps are the widths the time chart picks from.
var bucketSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// AutoBucket picks the time chart's buckets from the data: the series
// starts at the first verification of the window (not the window's edge,
// so a day with ten minutes of traffic is not 23 empty hours), and the
// bucket is the smallest step giving at most about 40 points.
func AutoBucket(rows []verify.StatRow, since, until time.Time) (time.Time, time.Duration) {
	first := until
	for _, r := range rows {
		if !r.CreatedAt.Before(since) && r.CreatedAt.Before(first) {
			first = r.CreatedAt
		}
	}
	span := until.Sub(first)
	step := bucketSteps[len(bucketSteps)-1]
	for _, b := range bucketSteps {
		if span/b <= 40 {
			step = b
			break
		}
	}
	start := first.Truncate(step)
	if start.Before(since) {
		start = since
	}
	return start, step
}

// Stats computes the console's figures over a window.
func (s *Service) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	if q.Until.IsZero() {
		q.Until = s.Now()
	}
	if !q.Since.Before(q.Until) {
		return Stats{}, verify.FieldErrorf(verify.CodeInvalid, "since", "since must be before until")
	}
	if q.Bucket < 0 {
		return Stats{}, verify.FieldErrorf(verify.CodeInvalid, "bucket", "bucket must be positive (or absent: picked from the data)")
	}
	if q.Bucket > 0 && q.Until.Sub(q.Since)/q.Bucket > 1000 {
		return Stats{}, verify.FieldErrorf(verify.CodeInvalid, "bucket", "at most 1000 points: widen the bucket or narrow the window")
	}
	rows, err := s.store.VerificationStats(ctx, q.Since, verify.MaxStatRows+1)
	if err != nil {
		return Stats{}, err
	}
	if q.Bucket == 0 {
		var kept []verify.StatRow
		for _, r := range rows {
			if q.Sandbox || !r.Sandbox {
				kept = append(kept, r)
			}
		}
		q.Since, q.Bucket = AutoBucket(kept, q.Since, q.Until)
	}
	st := Aggregate(rows, q)
	if len(rows) > verify.MaxStatRows {
		st.Truncated = true
	}
	return st, nil
}

// Aggregate turns rows into Stats. It is pure, for tests.
func Aggregate(rows []verify.StatRow, q StatsQuery) Stats {
	out := Stats{Since: verify.StampOf(q.Since), Until: verify.StampOf(q.Until), BucketS: int(q.Bucket / time.Second)}
	n := int((q.Until.Sub(q.Since) + q.Bucket - 1) / q.Bucket)
	out.Series = make([]Point, n)
	for i := range out.Series {
		out.Series[i] = Point{At: verify.StampOf(q.Since.Add(time.Duration(i) * q.Bucket)), Started: map[verify.Channel]int{}, Verified: map[verify.Channel]int{}}
	}
	out.Sandbox = q.Sandbox
	per := map[verify.Channel]*ChannelStats{}
	took := map[verify.Channel][]float64{}
	ended := map[verify.Channel]int{}
	for _, r := range rows {
		if r.CreatedAt.Before(q.Since) || !r.CreatedAt.Before(q.Until) {
			continue
		}
		if r.Sandbox {
			out.SandboxRows++
			if !q.Sandbox {
				continue
			}
		}
		c := per[r.Channel]
		if c == nil {
			c = &ChannelStats{Channel: r.Channel}
			per[r.Channel] = c
		}
		c.Started++
		if q.Price != nil {
			c.Cost += q.Price(r.Channel, r.Country)
		}
		i := int(r.CreatedAt.Sub(q.Since) / q.Bucket)
		out.Series[i].Started[r.Channel]++
		switch r.Status {
		case verify.StatusPending:
			c.Pending++
		case verify.StatusVerified:
			c.Verified++
			ended[r.Channel]++
			out.Series[i].Verified[r.Channel]++
			took[r.Channel] = append(took[r.Channel], r.CompletedAt.Sub(r.CreatedAt).Seconds())
		default:
			ended[r.Channel]++
		}
	}
	for ch, c := range per {
		c.Ended = ended[ch]
		if e := ended[ch]; e > 0 {
			c.Conversion = float64(c.Verified) / float64(e)
		}
		c.MedianSeconds = median(took[ch])
		if c.Verified > 0 {
			c.CostPerVerified = c.Cost / float64(c.Verified)
		}
		out.Channels = append(out.Channels, *c)
	}
	sort.Slice(out.Channels, func(i, j int) bool { return out.Channels[i].Channel < out.Channels[j].Channel })
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
