package sqlite

import (
	"embed"
	"errors"
	"io/fs"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's sqldb.Dialect.
type Dialect struct{}

var _ sqldb.Dialect = Dialect{}

// CacheStatements: modernc.org/sqlite compiles SQL on every unprepared
// call; sqldb keeps the statements prepared instead.
func (Dialect) CacheStatements() bool { return true }

// GroupCommit: SQLite has one writer, so transactions that wait for it
// run together and commit once (see sqldb.GroupCommitter).
func (Dialect) GroupCommit() bool { return true }

// Rebind leaves "?" placeholders as they are: SQLite reads them natively.
func (Dialect) Rebind(query string) string { return query }

// ForUpdate is empty: every write transaction begins IMMEDIATE and holds the
// database's only write lock, so what it reads cannot change under it.
func (Dialect) ForUpdate() string { return "" }

// ForUpdateSkipLocked is empty for the same reason: no other writer runs at
// the same time, so there is nothing to skip.
func (Dialect) ForUpdateSkipLocked() string { return "" }

// IsUniqueViolation matches UNIQUE and PRIMARY KEY constraint failures; the
// driver turns extended result codes on, so they are told apart from NOT
// NULL, CHECK and foreign key failures.
func (Dialect) IsUniqueViolation(err error) bool {
	code, ok := errorCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// IsRetryable matches SQLITE_BUSY and SQLITE_LOCKED with any extended code:
// another process held the lock past busy_timeout, or a WAL snapshot went
// stale. Running the transaction again is the remedy for both.
func (Dialect) IsRetryable(err error) bool {
	code, ok := errorCode(err)
	primary := code & 0xff
	return ok && (primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED)
}

// Migrations are the files in migrations/.
func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// MigrationLock is empty: the migration transaction begins IMMEDIATE.
func (Dialect) MigrationLock() string { return "" }

// CheckpointSQL empties the write-ahead log into the database file and
// truncates it (sqldb.Checkpointer).
func (Dialect) CheckpointSQL() string { return "PRAGMA wal_checkpoint(TRUNCATE)" }

func errorCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}
