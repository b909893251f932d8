// Package pgtest gives tests a PostgreSQL schema of their own.
//
// The server is RINGGATE_TEST_POSTGRES_URL, or DefaultURL (the local server
// scripts/install-deps.sh starts). Each call of Schema creates a schema with
// a random name, returns a connection URL whose search_path is that schema,
// and drops it when the test ends, so tests run in parallel on one
// database without seeing each other's rows.
//
// When no server answers, tests skip with a loud message on a developer's
// machine, and fail when CI=true: CI must not pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test server when RINGGATE_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the server tests use.
func BaseURL() string {
	if u := os.Getenv("RINGGATE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Unavailable ends t because PostgreSQL cannot be used: Fatal on CI, Skip
// elsewhere.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	const msg = "\n" +
		"*****************************************************************\n" +
		"*** PostgreSQL is unreachable: %v\n" +
		"*** (server %s; set RINGGATE_TEST_POSTGRES_URL or run\n" +
		"*** scripts/install-deps.sh). PostgreSQL tests did NOT run.\n" +
		"*****************************************************************"
	if os.Getenv("CI") == "true" {
		t.Fatalf(msg, err, redact(BaseURL()))
	}
	t.Skipf(msg, err, redact(BaseURL()))
}

// Schema creates a fresh schema, drops it (with everything in it) when t
// ends, and returns a URL that connects to it.
func Schema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, drop, err := NewSchema(ctx, BaseURL())
	if errors.Is(err, errUnreachable) {
		Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return url
}

var errUnreachable = errors.New("unreachable")

// NewSchema creates a schema with a random name on the server base names
// and returns a URL whose search_path is that schema, and a function that
// drops it. Benchmarks use it too.
func NewSchema(ctx context.Context, base string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("postgres URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", errUnreachable, err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "rgtest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() error { return drop(base, schema) }, nil
}

func drop(base, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
