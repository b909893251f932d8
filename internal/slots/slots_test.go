package slots

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// Fill claims as many items as there are free slots, runs each, frees the
// slots it did not use, drops what the claim returned beyond the ask, and
// gives a claim error back with every slot free.
func TestFill(t *testing.T) {
	ctx := context.Background()
	s := New(3)
	s.Acquire(ctx, 1) // one slot busy: two are free
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ran []int
	run := func(i int) { mu.Lock(); ran = append(ran, i); mu.Unlock() }
	var asked, got int
	extra := func(a, g int) { asked, got = a, g }

	full, err := Fill(ctx, s, 3, &wg, func(n int) ([]int, error) { return []int{1, 2, 3}[:min(n+1, 3)], nil }, run, extra)
	wg.Wait()
	slices.Sort(ran)
	if !full || err != nil || !slices.Equal(ran, []int{1, 2}) || asked != 2 || got != 3 || len(s) != 1 {
		t.Fatalf("over-claim: full %v err %v ran %v extra(%d, %d) busy %d, want true nil [1 2] extra(2, 3) busy 1", full, err, ran, asked, got, len(s))
	}

	ran = nil
	full, err = Fill(ctx, s, 2, &wg, func(n int) ([]int, error) { return []int{7}, nil }, run, extra)
	wg.Wait()
	if full || err != nil || !slices.Equal(ran, []int{7}) || len(s) != 1 {
		t.Fatalf("short claim: full %v err %v ran %v busy %d, want false nil [7] busy 1", full, err, ran, len(s))
	}

	boom := errors.New("store down")
	if full, err = Fill(ctx, s, 2, &wg, func(int) ([]int, error) { return nil, boom }, run, extra); full || !errors.Is(err, boom) || len(s) != 1 {
		t.Fatalf("claim error: full %v err %v busy %d, want false %v busy 1", full, err, len(s), boom)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	s.Acquire(ctx, 2) // every slot busy: Fill waits, and ctx is done
	if full, err = Fill(done, s, 1, &wg, func(int) ([]int, error) { t.Fatal("claimed with no free slot"); return nil, nil }, run, extra); full || err != nil {
		t.Fatalf("done ctx: full %v err %v, want false nil", full, err)
	}
}
