package testutil_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/testutil"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	if !testutil.Eventually(5*time.Second, func() bool { return n.Load() == 3 }) {
		t.Fatal("a condition that became true was not seen")
	}
	if testutil.Eventually(3*testutil.Poll, func() bool { return false }) {
		t.Fatal("a condition that never held was reported true")
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b testutil.SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 8 || b.Len() != len(b.String()) {
		t.Fatalf("%d lines, %d bytes: %q", got, b.Len(), b.String())
	}
}
