package httpcarrier

import (
	"strconv"
	"testing"
	"time"
)

// A Ledger refuses an id within its window, forgets it after, releases it
// on Forget, and when full of live ids refuses new ones rather than
// evicting the ids a replay would reuse.
func TestLedger(t *testing.T) {
	l := &Ledger{Max: 3}
	t0 := time.Unix(1000, 0)
	if l.Seen("a", t0, t0.Add(time.Minute)) {
		t.Fatal("a new id was seen")
	}
	if !l.Seen("a", t0.Add(59*time.Second), t0.Add(2*time.Minute)) {
		t.Fatal("a replay within the window was not seen")
	}
	if l.Seen("a", t0.Add(time.Minute), t0.Add(2*time.Minute)) {
		t.Fatal("an id past its window is still held")
	}
	l.Forget("a")
	if l.Seen("a", t0.Add(time.Minute), t0.Add(2*time.Minute)) {
		t.Fatal("a forgotten id is still held")
	}
	if !l.Seen("", t0, t0) {
		t.Fatal("an empty id passed")
	}
	l.Seen("b", t0.Add(time.Minute), t0.Add(2*time.Minute))
	l.Seen("c", t0.Add(time.Minute), t0.Add(2*time.Minute))
	if !l.Seen("d", t0.Add(time.Minute), t0.Add(2*time.Minute)) || l.Len() != 3 {
		t.Fatalf("a full ledger took a new id (len %d)", l.Len())
	}
	if l.Seen("d", t0.Add(2*time.Minute), t0.Add(3*time.Minute)) {
		t.Fatal("expired ids were not dropped to make room")
	}
	// Bounded under a long stream of ids with a sliding window.
	big := &Ledger{Max: 1000}
	for i := range 100_000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		if big.Seen(strconv.Itoa(i), now, now.Add(500*time.Millisecond)) {
			t.Fatalf("id %d refused", i)
		}
	}
	if big.Len() > 501 || len(big.ring)-big.head > 501 {
		t.Fatalf("held %d ids, ring %d", big.Len(), len(big.ring)-big.head)
	}
}
