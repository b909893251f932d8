package sqlite

import (
	"context"

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

// OpenDialect opens a store with dialect d (benchmarks only).
func OpenDialect(ctx context.Context, path string, d sqldb.Dialect) (*sqldb.Store, error) {
	return open(ctx, path, d)
}

// Plain is the dialect without a statement cache or group commit: how
// every transaction ran before them.
type Plain struct{ sqldb.Dialect }

// Prepared caches statements but commits each transaction alone.
type Prepared struct{ sqldb.Dialect }

func (Prepared) CacheStatements() bool { return true }
