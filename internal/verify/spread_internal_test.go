package verify

import (
	"testing"
	"time"
)

// Only counters many starts share (app, key, country, prefix) with a limit
// of SpreadMin or more may be spread over rows; the end user's own limits
// (phone, address) and small limits stay exact.
func TestLimitHitsSpreadOnlyLargeSharedLimits(t *testing.T) {
	limits := []RateLimit{
		{ScopePhone, 1 << 20, 3600}, {ScopeIP, 1 << 20, 3600},
		{ScopeApp, 10000, 3600}, {ScopeAPIKey, SpreadMin, 3600}, {ScopeCountry, SpreadMin, 3600},
		{ScopePrefix, SpreadMin - 1, 3600},
	}
	sub := subject{App: "app_a", Key: "key_1", Phone: "+447700900001", Country: "GB", IP: "198.51.100.7"}
	want := map[string]bool{ScopePhone: false, ScopeIP: false, ScopeApp: true, ScopeAPIKey: true, ScopeCountry: true, ScopePrefix: false}
	hits := limitHits(limits, sub, 3, time.Unix(0, 0))
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d", len(hits), len(want))
	}
	for _, h := range hits {
		if h.Hit.Shared != want[h.Limit.Scope] {
			t.Errorf("%s limit %d: Shared %v, want %v", h.Limit.Scope, h.Limit.Max, h.Hit.Shared, want[h.Limit.Scope])
		}
	}
}
