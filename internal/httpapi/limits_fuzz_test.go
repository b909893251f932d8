package httpapi

import (
	"net/netip"
	"testing"
)

// FuzzClientIP: X-Forwarded-For is whatever a client sends. ClientIP must
// never panic, and never return an address the peer and the header do not
// name.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:443", "203.0.113.9, 10.0.0.2")
	f.Add("127.0.0.1:1", "")
	f.Add("[::1]:80", "::ffff:1.2.3.4,,garbage")
	f.Add("bad", "1.1.1.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		got := ClientIP(remote, []string{xff}, trusted)
		if !got.IsValid() {
			return
		}
		if !contains(remote, got) && !contains(xff, got) {
			t.Fatalf("ClientIP(%q, %q) = %v, named by neither", remote, xff, got)
		}
	})
}

func contains(s string, a netip.Addr) bool {
	for i := range s {
		for j := i + 1; j <= len(s); j++ {
			if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap() == a {
				return true
			}
			if ap, err := netip.ParseAddrPort(s[i:j]); err == nil && ap.Addr().Unmap() == a {
				return true
			}
		}
	}
	return false
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"198.51.100.7:5000", []string{"1.2.3.4"}, "198.51.100.7"},                     // untrusted peer: header ignored
		{"10.0.0.5:5000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},             // right-most untrusted hop
		{"10.0.0.5:5000", []string{"6.6.6.6", "203.0.113.9, 10.0.0.7"}, "203.0.113.9"}, // several headers, trusted hops skipped
		{"10.0.0.5:5000", nil, "10.0.0.5"},                                             // no header: the proxy itself
		{"10.0.0.5:5000", []string{"6.6.6.6, junk"}, "10.0.0.5"},                       // garbled: stop at the proxy
		{"[::ffff:198.51.100.7]:1", nil, "198.51.100.7"},
	} {
		if got := ClientIP(tc.remote, tc.xff, trusted); got.String() != tc.want {
			t.Errorf("ClientIP(%q, %q) = %v, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
