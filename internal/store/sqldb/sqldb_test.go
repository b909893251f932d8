package sqldb

import (
	"testing"
	"testing/fstest"
	"time"
)

func TestRebindDollar(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
		{`"we?ird" = ? AND c = 'it''s ?' AND d = ?`, `"we?ird" = $1 AND c = 'it''s ?' AND d = $2`},
		{"LIMIT ?", "LIMIT $1"},
	}
	for _, tc := range tests {
		if got := RebindDollar(tc.in); got != tc.want {
			t.Errorf("RebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	if got := millis(time.Time{}); got != 0 {
		t.Errorf("millis(zero) = %d", got)
	}
	if got := fromMillis(0); !got.IsZero() {
		t.Errorf("fromMillis(0) = %v", got)
	}
	in := time.Date(2030, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))
	got := fromMillis(millis(in))
	if want := in.Truncate(time.Millisecond).UTC(); got != want {
		t.Errorf("round trip = %v, want %v", got, want)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := loadMigrations(fstest.MapFS{
		"10_later.sql": {Data: []byte("B")},
		"2_first.sql":  {Data: []byte("A")},
		"README.md":    {Data: []byte("ignored")},
		"sub/3_x.sql":  {Data: []byte("ignored")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].version != 2 || ms[1].version != 10 || ms[0].sql != "A" {
		t.Errorf("loadMigrations = %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":  {"init.sql": {Data: []byte("A")}},
		"duplicate": {"1_a.sql": {Data: []byte("A")}, "01_b.sql": {Data: []byte("B")}},
		"empty":     {},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
