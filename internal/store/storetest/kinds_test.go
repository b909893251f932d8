package storetest_test

import (
	"path/filepath"
	"testing"

	"github.com/ringgate/ringgate/internal/store/postgres"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/store/storetest"
)

// storeKinds opens an empty, migrated store of each kind, closed when the
// test or benchmark ends: SQLite in a temporary directory, PostgreSQL in
// a schema of its own.
var storeKinds = []struct {
	name string
	open func(tb testing.TB) storetest.Store
}{
	{"sqlite", func(tb testing.TB) storetest.Store {
		s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "test.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(tb testing.TB) storetest.Store {
		s, err := postgres.Open(tb.Context(), pgtest.Schema(tb))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}
