package postgres_test

import (
	"testing"

	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/store/storetest"
)

// BenchmarkOutboxBacklog: start and start+call with 100,000 webhook
// deliveries pending retry against an empty outbox (storetest).
func BenchmarkOutboxBacklog(b *testing.B) {
	storetest.BenchOutboxBacklog(b, func(b *testing.B) storetest.Store {
		return open(b, pgtest.Schema(b))
	})
}

// BenchmarkGrowth: start and start+call with 200,000 verified
// verifications against an empty database (storetest).
func BenchmarkGrowth(b *testing.B) {
	storetest.BenchGrowth(b, func(b *testing.B) storetest.Store {
		return open(b, pgtest.Schema(b))
	})
}
