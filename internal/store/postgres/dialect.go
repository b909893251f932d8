package postgres

import (
	"embed"
	"errors"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's sqldb.Dialect.
type Dialect struct{}

var _ sqldb.Dialect = Dialect{}

// Rebind turns "?" placeholders into "$1", "$2"….
func (Dialect) Rebind(query string) string { return sqldb.RebindDollar(query) }

// ForUpdate locks the selected rows until the transaction ends.
func (Dialect) ForUpdate() string { return " FOR UPDATE" }

// ForUpdateSkipLocked locks the selected rows and passes over those another
// transaction holds: several nodes sweep expiries and claim webhooks from
// the same tables without queueing behind each other.
func (Dialect) ForUpdateSkipLocked() string { return " FOR UPDATE SKIP LOCKED" }

// CounterShards spreads each shared rate-limit counter (all but the
// end user's own, per phone and address: an app's, a key's, a country's, a
// prefix's)
// over this many rows: every start of an app added to one row under a lock held until commit, so starts on all
// connections and nodes queued on it (issue 21). Reading a counter sums
// its shards.
func (Dialect) CounterShards() int { return 16 }

// SQLSTATE codes ringgate reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// IsUniqueViolation matches unique_violation (23505), from a UNIQUE or
// PRIMARY KEY constraint or a unique index.
func (Dialect) IsUniqueViolation(err error) bool { return sqlState(err) == codeUniqueViolation }

// IsRetryable matches serialization_failure (40001) and deadlock_detected
// (40P01): PostgreSQL aborted the transaction, and running it again is the
// remedy.
func (Dialect) IsRetryable(err error) bool {
	switch sqlState(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// Migrations are the files in migrations/.
func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// MigrationLock holds a transaction-scoped advisory lock, released at commit
// or rollback: nodes starting together migrate one after another, and the
// later ones find the work done. The lock's first key is 29287 ("rg" in
// ASCII); the second is the schema, so that nodes migrating one schema
// queue while tests migrating schemas of their own do not.
func (Dialect) MigrationLock() string {
	return "SELECT pg_advisory_xact_lock(29287, hashtext(current_schema()))"
}

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
