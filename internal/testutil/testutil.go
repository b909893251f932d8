// Package testutil holds the helpers tests of several packages share:
// waiting on a condition instead of sleeping, and a log buffer safe to read
// while goroutines write to it. Only tests and test kits (rgproc) import it.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// Poll is how often WaitFor looks at its condition.
const Poll = 10 * time.Millisecond

// WaitFor polls ok every Poll until it returns true, failing t after d with
// what it was waiting for. It orders a test's steps on what happened, not
// on how long things usually take: a loaded machine only makes it slower.
func WaitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	if !Eventually(d, ok) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// Eventually polls ok every Poll for at most d and reports whether it
// became true, for a caller that has its own way to fail.
func Eventually(d time.Duration, ok func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	for !ok() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return ok()
		}
	}
	return true
}

// SyncBuffer is a bytes.Buffer that goroutines may write (a logger, a
// command's output) while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len is how many bytes were written so far.
func (s *SyncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
