package verify

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"
)

// StatRow is one verification as the operator console's charts count it.
type StatRow struct {
	AppID       string
	Channel     Channel // the channel it ended on (or is on)
	Country     string
	Status      Status
	CreatedAt   time.Time
	CompletedAt time.Time // zero while pending
}

// MaxStatRows bounds the verifications one Stats call reads: the console's
// charts are computed in the process from the rows, which is simple and
// exact for the volumes one operator looks at, and bounded above them.
const MaxStatRows = 200_000

// Apps lists every app, ordered by id (the console's app filter and pool
// management).
func (s *Service) Apps(ctx context.Context) ([]App, error) { return s.store.Apps(ctx) }

// ConsoleList is List across apps for the operator: f.AppID may be empty,
// and Channel and Country filter too.
func (s *Service) ConsoleList(ctx context.Context, f ListFilter) ([]Verification, string, error) {
	if f.Channel != "" && !f.Channel.Known() {
		return nil, "", FieldErrorf(CodeInvalid, "channel", "unknown channel %q", f.Channel)
	}
	if f.Country != "" && !validRegion(f.Country) {
		return nil, "", FieldErrorf(CodeInvalid, "country", "country %q is not an ISO region code such as GB", f.Country)
	}
	f.AllTenants = true // the operator sees every app, sandbox and live
	return s.List(ctx, f)
}

// ConsoleRetryDelivery is RetryDelivery for the operator, who sees the
// app's sandbox and live deliveries alike.
func (s *Service) ConsoleRetryDelivery(ctx context.Context, appID, id string) (Delivery, error) {
	d, err := s.RetryDelivery(ctx, LiveTenant(appID), id)
	if ErrorCode(err) == CodeNotFound {
		return s.RetryDelivery(ctx, Tenant{AppID: appID, Sandbox: true}, id)
	}
	return d, err
}

func validRegion(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// Detail is one verification with its whole history, for the console.
type Detail struct {
	Verification Verification
	Events       []Event
	Deliveries   []Delivery
}

// ConsoleDetail reads a verification of any app, its events and its webhook
// deliveries.
func (s *Service) ConsoleDetail(ctx context.Context, id string) (Detail, error) {
	v, err := s.store.Verification(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Detail{}, Errorf(CodeNotFound, "no verification %q", id)
	}
	if err != nil {
		return Detail{}, err
	}
	evs, err := s.store.Events(ctx, id, 0, 1000)
	if err != nil {
		return Detail{}, err
	}
	ds, err := s.store.Deliveries(ctx, DeliveryFilter{Tenant: TenantOf(v), VerificationID: id, Limit: 1000})
	if err != nil {
		return Detail{}, err
	}
	slices.Reverse(ds) // oldest first, like the events
	return Detail{Verification: v, Events: evs, Deliveries: ds}, nil
}

// StatsQuery selects what the console charts.
type StatsQuery struct {
	Since  time.Time
	Until  time.Time     // zero: now
	Bucket time.Duration // width of one point of the time series
	// Price is what one attempt on a channel costs in a country.
	Price func(channel Channel, country string) float64
}

// ChannelStats sums up one channel over the whole window.
type ChannelStats struct {
	Channel  Channel `json:"channel"`
	Started  int     `json:"started"`
	Verified int     `json:"verified"`
	Pending  int     `json:"pending"`
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
	At        time.Time       `json:"at"`
	Started   map[Channel]int `json:"started"`
	Verified  map[Channel]int `json:"verified"`
	Completed int             `json:"-"`
}

// Stats is what the console draws.
type Stats struct {
	Since    time.Time      `json:"since"`
	Until    time.Time      `json:"until"`
	BucketS  int            `json:"bucket_s"`
	Channels []ChannelStats `json:"channels"`
	Series   []Point        `json:"series"`
	// Truncated is true when the window held more than MaxStatRows.
	Truncated bool `json:"truncated"`
}

// Stats computes the console's figures over a window.
func (s *Service) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	if q.Until.IsZero() {
		q.Until = s.Now()
	}
	if !q.Since.Before(q.Until) {
		return Stats{}, FieldErrorf(CodeInvalid, "since", "since must be before until")
	}
	if q.Bucket <= 0 {
		return Stats{}, FieldErrorf(CodeInvalid, "bucket", "bucket must be positive")
	}
	if q.Until.Sub(q.Since)/q.Bucket > 1000 {
		return Stats{}, FieldErrorf(CodeInvalid, "bucket", "at most 1000 points: widen the bucket or narrow the window")
	}
	rows, err := s.store.VerificationStats(ctx, q.Since, MaxStatRows+1)
	if err != nil {
		return Stats{}, err
	}
	st := Aggregate(rows, q)
	if len(rows) > MaxStatRows {
		st.Truncated = true
	}
	return st, nil
}

// Aggregate turns rows into Stats. It is pure, for tests.
func Aggregate(rows []StatRow, q StatsQuery) Stats {
	out := Stats{Since: q.Since.UTC(), Until: q.Until.UTC(), BucketS: int(q.Bucket / time.Second)}
	n := int((q.Until.Sub(q.Since) + q.Bucket - 1) / q.Bucket)
	out.Series = make([]Point, n)
	for i := range out.Series {
		out.Series[i] = Point{At: q.Since.Add(time.Duration(i) * q.Bucket).UTC(), Started: map[Channel]int{}, Verified: map[Channel]int{}}
	}
	per := map[Channel]*ChannelStats{}
	took := map[Channel][]float64{}
	ended := map[Channel]int{}
	for _, r := range rows {
		if r.CreatedAt.Before(q.Since) || !r.CreatedAt.Before(q.Until) {
			continue
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
		case StatusPending:
			c.Pending++
		case StatusVerified:
			c.Verified++
			ended[r.Channel]++
			out.Series[i].Verified[r.Channel]++
			took[r.Channel] = append(took[r.Channel], r.CompletedAt.Sub(r.CreatedAt).Seconds())
		default:
			ended[r.Channel]++
		}
	}
	for ch, c := range per {
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
