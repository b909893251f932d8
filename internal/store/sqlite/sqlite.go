// Package sqlite is ringgate's single-node store: the shared sqldb
// implementation on an SQLite file, through the pure-Go modernc.org/sqlite
// driver (no cgo).
//
// The connection setup is the usual one for SQLite behind a server:
//
//   - WAL journal, so readers never block the writer or each other;
//   - one writer connection (MaxOpenConns 1) whose transactions BEGIN
//     IMMEDIATE (_txlock=immediate): each write transaction takes the write
//     lock before its first read, so it can never fail half-way with
//     SQLITE_BUSY when it tries to upgrade, and concurrent transactions queue
//     in Go for the one connection instead of spinning in SQLite's busy
//     handler;
//   - a separate pool of query_only connections for reads outside
//     transactions, so API reads do not wait behind writes;
//   - busy_timeout for the moments another process (a CLI command, a
//     backup) holds the lock.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ringgate/ringgate/internal/store/sqldb"
)

// DSN query parameters, as modernc.org/sqlite reads them (see the Driver.Open
// documentation of modernc.org/sqlite v1.61.1, driver.go). A plain file path
// keeps its "?…" for the driver, which strips it before SQLite sees the name.
// Each _pragma=name(value) runs "PRAGMA name(value)" on every new connection,
// busy_timeout first and the rest in name order; _txlock sets what BEGIN
// means for database/sql transactions on the connection.
const (
	// common to both pools:
	//   busy_timeout(5000)  wait up to 5 s for another process's lock;
	//   foreign_keys(1)     enforce REFERENCES (off by default in SQLite);
	//   synchronous(NORMAL) in WAL mode, durable across a crash of the
	//                       process, fsyncs only at checkpoints: the last
	//                       commits may be lost on power failure, never
	//                       corrupted.
	commonParams = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// writer:
	//   journal_mode(WAL)   persistent in the file; set by the first writer.
	//   _txlock=immediate   BEGIN IMMEDIATE for every transaction.
	//   temp_store(MEMORY)  group commit runs each transaction of a batch in
	//                       a SAVEPOINT, whose statement journal SQLite
	//                       would otherwise write to a temporary file, page
	//                       by page (a seventh of a missed call's CPU).
	//   secure_delete(FAST) zero deleted content where that costs no extra
	//                       I/O, so an overwritten secret (sealed at rest,
	//                       or a clear one being sealed) does not linger in
	//                       the page's free space.
	writerParams = commonParams + "&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)&_pragma=secure_delete(FAST)&_txlock=immediate"
	// readers:
	//   query_only(1)       a bug that writes through the read pool fails
	//                       instead of bypassing the writer's queue.
	readerParams = commonParams + "&_pragma=query_only(1)"
)

// Open opens (creating it if needed) the database file at path, brings its
// schema up to date and returns the store. path is a file name: an
// in-memory database cannot be shared by the writer and the reader pool, so
// tests use a file in t.TempDir() instead.
func Open(ctx context.Context, path string) (*sqldb.Store, error) {
	return open(ctx, path, Dialect{})
}

// open is Open with another dialect: benchmarks compare Dialect with and
// without its statement cache and group commit.
func open(ctx context.Context, path string, d sqldb.Dialect) (*sqldb.Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := prepareFiles(path); err != nil {
		return nil, err
	}
	w, err := openPool(ctx, path+"?"+writerParams, 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openPool(ctx, path+"?"+readerParams, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s readers: %w", path, err)
	}
	s := sqldb.New(d, w, r)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := chmodFiles(path); err != nil { // -wal and -shm exist now
		s.Close()
		return nil, err
	}
	return s, nil
}

// prepareFiles makes the database's directory (0700) when it is missing,
// and creates the database file 0600 before SQLite opens it: SQLite gives
// the -wal and -shm files the database file's mode, so none of them is
// readable by other users whatever the umask. Files of an older install are
// narrowed to 0600 too. An existing directory is left as it is (it may be
// shared); the files in it are what must be private.
func prepareFiles(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("open sqlite: create directory: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	f.Close()
	return chmodFiles(path)
}

// chmodFiles sets the database file and its companions to 0600.
func chmodFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("open sqlite: %w", err)
		}
	}
	return nil
}

func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("open sqlite: no path")
	case path == ":memory:" || strings.Contains(path, "mode=memory"):
		return errors.New("open sqlite: in-memory databases are not supported (the writer and readers need one shared file); use a file, e.g. in t.TempDir()")
	case strings.ContainsAny(path, "?#"):
		// The driver splits the name at the first '?' to find its
		// parameters, so a path with one would be cut short.
		return fmt.Errorf("open sqlite %q: the path must not contain '?' or '#'", path)
	}
	return nil
}

// openPool opens a pool of up to n connections that are kept open: a new
// connection costs a file open and the pragmas, and SQLite's page cache
// lives in the connection.
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// Ping opens one connection now, so a bad path or pragma fails Open
	// rather than the first request.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
