package verify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWindowOf(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	s, e := windowOf(now, time.Hour)
	if !s.Equal(time.Date(2031, 5, 6, 7, 0, 0, 0, time.UTC)) || !e.Equal(s.Add(time.Hour)) {
		t.Fatalf("hour window of %v: %v – %v", now, s, e)
	}
	s, e = windowOf(now, 24*time.Hour)
	if !s.Equal(time.Date(2031, 5, 6, 0, 0, 0, 0, time.UTC)) || e.Sub(s) != 24*time.Hour {
		t.Fatalf("day window: %v – %v", s, e)
	}
	// The last millisecond of a window is still in it; the next is not.
	end := s.Add(24*time.Hour - time.Millisecond)
	if s2, _ := windowOf(end, 24*time.Hour); !s2.Equal(s) {
		t.Fatalf("last millisecond moved to %v", s2)
	}
	if s3, _ := windowOf(end.Add(time.Millisecond), 24*time.Hour); !s3.Equal(e) {
		t.Fatalf("next window starts %v, want %v", s3, e)
	}
}

func TestLimitHits(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	sub := subject{App: "app_a", Key: "key_1", Phone: "+447911123456", Country: "GB", IP: ""}
	hits := limitHits(DefaultAbusePolicy().Limits, sub, 3, now)
	var keys []string
	for _, h := range hits {
		keys = append(keys, h.Hit.Key)
		if !strings.HasPrefix(h.Hit.Key, "rl|app_a|") {
			t.Errorf("key %q is not scoped to the app", h.Hit.Key)
		}
		if !h.Hit.Expires.Equal(h.End) || !h.End.After(now) || h.Hit.Window.After(now) {
			t.Errorf("hit %+v: window does not hold now", h)
		}
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys not in lock order: %v", keys)
	}
	// No IP known: nothing counted by IP; each other scope once per window.
	want := []string{
		"rl|app_a|api_key|3600|key_1", "rl|app_a|app|3600|app_a", "rl|app_a|country|3600|GB",
		"rl|app_a|phone|3600|+447911123456", "rl|app_a|phone|86400|+447911123456", "rl|app_a|prefix|3600|+44791",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n got  %v\n want %v", keys, want)
	}
	only := limitHits(DefaultAbusePolicy().Limits, sub, 3, now, ScopePhone)
	if len(only) != 2 {
		t.Errorf("phone-only hits: %+v", only)
	}
	off := limitHits([]RateLimit{{ScopePhone, 0, 3600}}, sub, 3, now)
	if len(off) != 0 {
		t.Errorf("max 0 still counts: %+v", off)
	}
}

func TestEffectiveLimits(t *testing.T) {
	def := []RateLimit{{ScopePhone, 5, 3600}, {ScopeIP, 100, 3600}}
	got := effectiveLimits(def, []RateLimit{{ScopeIP, 3, 3600}, {ScopeIP, 10, 86400}})
	want := []RateLimit{{ScopePhone, 5, 3600}, {ScopeIP, 3, 3600}, {ScopeIP, 10, 86400}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if def[1].Max != 100 {
		t.Fatal("the defaults were changed in place")
	}
}

func TestPumping(t *testing.T) {
	p := PumpingPolicy{MinStarts: 50, MinConversion: 0.1}
	for _, tc := range []struct {
		started, verified int64
		want              bool
	}{
		{49, 0, false}, // below the floor: never
		{50, 0, true},
		{50, 4, true},
		{50, 5, false}, // exactly 10% converts enough
		{1000, 99, true},
		{1000, 700, false},
	} {
		if got := p.Pumping(tc.started, tc.verified); got != tc.want {
			t.Errorf("Pumping(%d, %d) = %v, want %v", tc.started, tc.verified, got, tc.want)
		}
	}
	if (PumpingPolicy{}).Pumping(1e6, 0) {
		t.Error("a zero policy blocks")
	}
}

func TestCountryAllowed(t *testing.T) {
	m := map[string][]string{"sms_otp": {"FR", "GB"}, "*": {"GB"}, "voice_otp": {"*"}}
	for _, tc := range []struct {
		ch      Channel
		country string
		want    bool
	}{
		{ChannelSMSOTP, "FR", true}, {ChannelSMSOTP, "US", false},
		{ChannelMissedCall, "GB", true}, {ChannelMissedCall, "FR", false}, // "*" applies
		{ChannelVoiceOTP, "US", true},
	} {
		if got := countryAllowed(m, tc.ch, tc.country); got != tc.want {
			t.Errorf("%s to %s: %v, want %v", tc.ch, tc.country, got, tc.want)
		}
	}
	if !countryAllowed(nil, ChannelSMSOTP, "US") {
		t.Error("no permissions set refuses")
	}
}

func TestDeniedPrefix(t *testing.T) {
	if p, ok := deniedPrefix("+88212345678", nil, []string{"+44", "+882"}); !ok || p != "+882" {
		t.Fatalf("got %q %v", p, ok)
	}
	if _, ok := deniedPrefix("+4412", []string{""}, []string{"+4413"}); ok {
		t.Fatal("an empty prefix or a non-matching one denied")
	}
	if CheckPrefixes([]string{"+1900", "882", "+", "+12a"}) == nil {
		t.Fatal("bad prefixes accepted")
	}
}

func TestPickDialNumber(t *testing.T) {
	pool := []Number{{Number: "+1"}, {Number: "+2"}, {Number: "+3"}}
	first := func(int) int { return 0 }
	if got := pickDialNumber(pool, []string{"+1"}, "+1", first); got.Number != "+2" {
		t.Errorf("with +1 recent: %s", got.Number)
	}
	if got := pickDialNumber(pool, []string{"+1", "+2", "+3"}, "+1", first); got.Number != "+2" {
		t.Errorf("all recent: falls back to the pool but the last, got %s", got.Number)
	}
	last := func(n int) int { return n - 1 }
	if got := pickDialNumber(pool, []string{"+3"}, "+3", last); got.Number != "+2" {
		t.Errorf("draw over the fresh ones only: %s", got.Number)
	}
	// The cool-down over, the previous attempt's number is still avoided.
	if got := pickDialNumber(pool[:2], nil, "+1", first); got.Number != "+2" {
		t.Errorf("a pool of 2, nothing recent, last +1: %s", got.Number)
	}
	if got := pickDialNumber(pool[:1], []string{"+1"}, "+1", first); got.Number != "+1" {
		t.Errorf("a pool of one: %s", got.Number)
	}
}

func TestPoolTooSmall(t *testing.T) {
	p := DefaultAbusePolicy()
	if need, small := p.PoolTooSmall(5); small || need != 5 {
		t.Errorf("default limits (5 an hour), pool of 5: need %d small %v", need, small)
	}
	if need, small := p.PoolTooSmall(2); !small || need != 5 {
		t.Errorf("pool of 2: need %d small %v", need, small)
	}
	p.Limits = []RateLimit{{ScopePhone, 1, 60}}
	if need, small := p.PoolTooSmall(3); !small || need != 10 {
		t.Errorf("1 a minute over a 10-minute cool-down: need %d small %v", need, small)
	}
	p.Limits = nil
	if need, small := p.PoolTooSmall(1); !small || need != 2 {
		t.Errorf("no limits, pool of 1: need %d small %v", need, small)
	}
}

func TestCheckRateLimits(t *testing.T) {
	for _, bad := range [][]RateLimit{{{"nope", 1, 60}}, {{ScopePhone, -1, 60}}, {{ScopePhone, 1, 0}}} {
		if CheckRateLimits(bad) == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if err := CheckRateLimits(DefaultAbusePolicy().Limits); err != nil {
		t.Error(err)
	}
}

// Codes are compared in constant time: Check compares hashes with
// hmac.Equal, and no code hash or caller-ID prefix is ever compared with ==
// or != to anything but a constant, anywhere in the package (that would
// leak, by timing, how much of it matched).
func TestCodeComparisonsAreConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	equals := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Equal" {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "hmac" && name == "channels.go" {
						equals++
					}
				}
			case *ast.BinaryExpr:
				_, litX := x.X.(*ast.BasicLit)
				_, litY := x.Y.(*ast.BasicLit)
				if (x.Op == token.EQL || x.Op == token.NEQ) && !litX && !litY && (namesCode(x.X) || namesCode(x.Y)) {
					t.Errorf("%s: a code is compared with %s", fset.Position(x.Pos()), x.Op)
				}
			}
			return true
		})
	}
	if equals < 2 {
		t.Errorf("channels.go calls hmac.Equal %d times; Check compares the caller-ID prefix and the code hash with it", equals)
	}
}

// namesCode reports whether an operand is a code hash or a caller-ID prefix.
func namesCode(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return x.Sel.Name == "CodeHash" || x.Sel.Name == "CLIPrefix"
	case *ast.CallExpr:
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
			return sel.Sel.Name == "codeHash"
		}
	}
	return false
}

func TestAttemptsForFlashCodes(t *testing.T) {
	for _, c := range []struct {
		ch   Channel
		n    int
		want int
	}{{ChannelFlashCall, 4, 1}, {ChannelFlashCall, 5, 1}, {ChannelFlashCall, 6, 5}, {ChannelFlashCall, 10, 5}, {ChannelSMSOTP, 4, 5}, {ChannelVoiceOTP, 6, 5}} {
		v := Verification{Channel: c.ch, CodeLength: c.n}
		got := attemptsFor(v)
		if got != c.want {
			t.Errorf("%s with %d digits: %d attempts, want %d", c.ch, c.n, got, c.want)
		}
		if c.ch == ChannelFlashCall && c.n >= DefaultFlashLength && float64(got)/math.Pow10(c.n) > MaxGuessOdds {
			t.Errorf("%s with %d digits: %d attempts pass a guesser above 1 in 100,000", c.ch, c.n, got)
		}
	}
}
