package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// LookupFunc resolves a host name to addresses; net.DefaultResolver's
// LookupNetIP by default. Tests pass their own.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// ResolveTimeout bounds the name lookup CheckURLResolving makes.
const ResolveTimeout = 2 * time.Second

// resolveTTL is how long a host's verdict is reused: a start names its
// callback on every request, and one lookup a minute per host is enough to
// catch a name pointing inward (the dialer checks every connection anyway).
const resolveTTL = time.Minute

// verdicts caches, per host, the error (or nil) a lookup led to.
type verdicts struct {
	mu sync.Mutex
	m  map[string]verdict
}

type verdict struct {
	err error
	at  time.Time
}

func (v *verdicts) get(host string, now time.Time) (error, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[host]
	if !ok || now.Sub(e.at) >= resolveTTL {
		return nil, false
	}
	return e.err, true
}

func (v *verdicts) put(host string, err error, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= 4096 { // bounded: start over
		v.m = make(map[string]verdict)
	}
	v.m[host] = verdict{err: err, at: now}
}

// CheckURLResolving returns a callback-URL check for API input: CheckURL,
// then, for a DNS name, a lookup, refusing the URL when the name resolves
// to any address the policy refuses (a name pointing at 127.0.0.1, 10.x or
// the metadata service is refused at once with a clear error, instead of
// every webhook failing later). A name that does not resolve now is
// accepted: DNS may not be set up yet, and whatever it resolves to at send
// time is checked again by the client's dialer (Client), which is the
// guard that holds against a name re-pointed after input (DNS rebinding).
// lookup may be nil. A host's verdict is reused for a minute, so a burst of
// starts naming one callback host costs one lookup; a failed lookup is not
// cached.
func (p Policy) CheckURLResolving(lookup LookupFunc) func(raw string) error {
	cache := &verdicts{}
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return func(raw string) error {
		if err := p.CheckURL(raw); err != nil {
			return err
		}
		u, _ := url.Parse(raw) // CheckURL parsed it
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if _, err := netip.ParseAddr(host); err == nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return nil // judged by CheckURL without DNS
		}
		now := time.Now()
		if err, ok := cache.get(host, now); ok {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), ResolveTimeout)
		defer cancel()
		addrs, err := lookup(ctx, host)
		if err != nil {
			return nil
		}
		var refused error
		for _, a := range addrs {
			if err := p.checkAddr(a.Unmap(), a.Unmap().String()); err != nil {
				refused = fmt.Errorf("must not point into %s (%s resolves to %s)", rangeOf(a), host, a.Unmap())
				break
			}
		}
		cache.put(host, refused, now)
		return refused
	}
}
