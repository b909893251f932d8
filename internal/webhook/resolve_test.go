package webhook

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckURLResolving(t *testing.T) {
	var lookups atomic.Int32
	dns := map[string][]string{
		"public.test":   {"93.184.216.34", "2606:2800:220:1::1"},
		"internal.test": {"10.1.2.3"},
		"meta.test":     {"169.254.169.254"},
		"six.test":      {"::1"},
		"mixed.test":    {"93.184.216.34", "192.168.0.10"},
		"mapped.test":   {"::ffff:127.0.0.1"},
		"office.test":   {"10.9.8.7"},
	}
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("lookup without a deadline")
		}
		ss, ok := dns[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
	check := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}.CheckURLResolving(lookup)
	for _, tt := range []struct{ url, wantErr string }{
		{"https://public.test/hook", ""},
		{"https://PUBLIC.test./hook", ""},
		{"https://unknown.test/hook", ""}, // not resolvable now: the dialer decides at send time
		{"https://office.test/hook", ""},  // allow-listed private network
		{"https://internal.test/hook", "a private network (internal.test resolves to 10.1.2.3)"},
		{"https://meta.test/latest", "a link-local network (meta.test resolves to 169.254.169.254)"},
		{"https://six.test/", "the loopback network"},
		{"https://mixed.test/", "192.168.0.10"},
		{"https://mapped.test/", "resolves to 127.0.0.1"},
		{"http://10.0.0.1/", "a private network"},       // by CheckURL, no lookup
		{"http://localhost:9/", "the loopback network"}, // by name, no lookup
		{"ftp://public.test/", "http or https"},
	} {
		err := check(tt.url)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v, want accepted", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %v, want an error containing %q", tt.url, err, tt.wantErr)
		}
	}
	before := lookups.Load()
	_ = check("http://127.0.0.1/")
	_ = check("http://[2606:2800:220:1::1]/")
	_ = check("http://api.localhost/")
	if lookups.Load() != before {
		t.Error("an IP literal or localhost name was looked up in DNS")
	}
	// A verdict is reused: asking again about known hosts looks nothing up,
	// whatever the case or trailing dot; an unresolvable host is asked again.
	before = lookups.Load()
	_ = check("https://public.test/other")
	_ = check("https://Internal.test./x")
	if lookups.Load() != before {
		t.Errorf("known hosts were looked up again (%d lookups)", lookups.Load()-before)
	}
	if err := check("https://INTERNAL.test/x"); err == nil {
		t.Error("a cached refusal was forgotten")
	}
	_ = check("https://unknown.test/again")
	if lookups.Load() != before+1 {
		t.Error("a failed lookup was cached")
	}

	// Dev mode: names resolving to loopback are fine, private still not.
	dev := Policy{AllowLoopback: true}.CheckURLResolving(lookup)
	if err := dev("http://six.test/"); err != nil {
		t.Errorf("dev mode, name resolving to ::1: %v", err)
	}
	if err := dev("http://internal.test/"); err == nil {
		t.Error("dev mode accepted a name resolving to 10.1.2.3")
	}
}
