package sqldb

import (
	"io/fs"
	"strconv"
	"strings"
)

// Dialect is what differs between the databases sqldb runs on. Every method
// must be safe for concurrent use; implementations are normally stateless.
type Dialect interface {
	// Rebind turns a query written with "?" placeholders into the driver's
	// form. SQLite returns it unchanged; PostgreSQL uses RebindDollar.
	Rebind(query string) string
	// ForUpdate is appended to a SELECT whose rows the transaction is about
	// to change, so that no other transaction changes them first.
	ForUpdate() string
	// ForUpdateSkipLocked is like ForUpdate but leaves out rows another
	// transaction holds, for work queues polled by several nodes.
	ForUpdateSkipLocked() string
	// IsUniqueViolation reports whether err is a broken uniqueness rule
	// (sqldb reports it as verify.ErrConflict).
	IsUniqueViolation(err error) bool
	// IsRetryable reports whether err means the whole transaction should
	// run again: a serialisation failure, a deadlock, a busy database.
	IsRetryable(err error) bool
	// Migrations holds the schema as files named "<version>_<name>.sql" at
	// its root, version a positive integer; they are applied in version
	// order, each at most once.
	Migrations() fs.FS
	// MigrationLock is a statement run first in the migration transaction,
	// before schema_migrations exists, so that processes starting together
	// migrate one at a time; "" when beginning the transaction already
	// excludes other writers (SQLite with _txlock=immediate). PostgreSQL:
	// "SELECT pg_advisory_xact_lock(<some constant>)".
	MigrationLock() string
}

// RebindDollar rewrites "?" placeholders as "$1", "$2"… for PostgreSQL. A
// "?" inside a single-quoted literal or a double-quoted identifier is left
// alone; sqldb's queries contain none, but a migration or a future query
// might.
func RebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the open quote character, 0 outside quotes
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
