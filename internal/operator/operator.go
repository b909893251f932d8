// Package operator is the operator's side of ringgate: apps, their pool
// numbers, settings and API keys, the audit log, webhook delivery listing
// and retry, fraud lists (blocked prefixes, unmatched callers, small
// pools), the console's read models and charts, retention and erasure.
// It works over the same verify.Store and Publisher as the verification
// service (internal/verify), which keeps the flow of a verification; the
// rules it validates with (settings, callback URLs, the abuse policy) come
// from there. No I/O of its own.
package operator

import (
	"errors"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// Config wires a Service.
type Config struct {
	Store     verify.Store
	Publisher verify.Publisher // may be nil
	// Verify is the verification service: its clock, its validation rules
	// and its verification list (the console lists through it).
	Verify *verify.Service
}

// Service applies operator requests. It is safe for concurrent use.
type Service struct {
	store verify.Store
	pub   verify.Publisher
	v     *verify.Service
	rules verify.Rules
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Verify == nil {
		return nil, errors.New("operator: no store or verification service")
	}
	return &Service{store: cfg.Store, pub: cfg.Publisher, v: cfg.Verify, rules: cfg.Verify.Rules()}, nil
}

// Now is the verification service's clock.
func (s *Service) Now() time.Time { return s.v.Now() }

// page cuts rows, read with one row more than want, to a page of want and
// the next page's cursor (the id of its last row; "" at the end).
func page[T any](rows []T, err error, want int, id func(T) string) ([]T, string, error) {
	if err != nil || len(rows) <= want {
		return rows, "", err
	}
	rows = rows[:want]
	return rows, id(rows[want-1]), nil
}
