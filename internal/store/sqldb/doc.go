// Package sqldb is ringgate's one implementation of verify.Store and
// webhook.Outbox over database/sql. The SQLite and PostgreSQL stores are thin
// packages around it that supply a Dialect, their migrations and the
// connection setup.
//
// There is one implementation rather than one per database because two
// hand-copied SQL stores drift: a fix to a query, a new column or a subtle
// contract (cursor direction, lease checks, the pool-number fallback) lands
// in one copy and not the other, and the conformance suite only catches what
// it happens to test. Here every query is written once, in a dialect-neutral
// subset of SQL both databases run unchanged:
//
//   - placeholders are written "?" and the Dialect rebinds them ("$1", "$2"…
//     for PostgreSQL);
//   - row locks are a suffix the Dialect supplies (" FOR UPDATE", " FOR UPDATE
//     SKIP LOCKED" on PostgreSQL; "" on SQLite, where a write transaction
//     already excludes every other writer);
//   - inserts that may break a uniqueness rule use ON CONFLICT DO NOTHING and
//     report verify.ErrConflict when no row was written, so the transaction
//     stays usable (PostgreSQL aborts a transaction on a raised unique
//     violation; ON CONFLICT does not raise);
//   - times are BIGINT unix milliseconds (the zero time is 0), booleans are
//     0/1 integers, metadata is JSON text and ids are text, so no value needs
//     a driver-specific type;
//   - UPDATE … RETURNING and INSERT … RETURNING, which both databases have.
//
// What does differ is behind the Dialect: error classification (unique
// violation, and which errors mean "run the whole transaction again") and the
// migrations, which are per-dialect SQL files because DDL is where the two
// disagree (AUTOINCREMENT against identity columns, STRICT tables).
//
// A Store is safe for concurrent use by many goroutines. Writes go through
// one *sql.DB and reads outside transactions through another, which may be
// the same pool (PostgreSQL) or a separate read-only pool (SQLite in WAL
// mode, whose single writer connection would otherwise also queue readers).
package sqldb
