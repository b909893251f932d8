package httpcarrier

import (
	"fmt"
	"testing"
	"time"
)

func TestMemos(t *testing.T) {
	var ms Memos[struct{ dropped bool }]
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	if ms.Get("a", false, t0) != nil {
		t.Fatal("a memo that was never made")
	}
	ms.Get("a", true, t0).dropped = true
	if m := ms.Get("a", false, t0); m == nil || !m.dropped {
		t.Fatalf("memo a = %+v, want dropped", m)
	}
	ms.Forget("a")
	if ms.Get("a", false, t0) != nil {
		t.Fatal("a forgotten memo is still there")
	}
	// A full map drops the day-old memos when the next one is made, and
	// keeps the recent ones.
	for i := range memoSweepAt {
		at := t0
		if i%2 == 0 {
			at = t0.Add(-25 * time.Hour)
		}
		ms.Get(fmt.Sprint(i), true, at)
	}
	ms.Get("new", true, t0)
	if ms.Get("0", false, t0) != nil || ms.Get("1", false, t0) == nil || len(ms.m) != memoSweepAt/2+1 {
		t.Fatalf("after the sweep: %d memos; old kept %v, recent kept %v", len(ms.m), ms.Get("0", false, t0) != nil, ms.Get("1", false, t0) != nil)
	}
}
