package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// LookupFunc resolves a host name to addresses; net.DefaultResolver's
// LookupNetIP by default. Tests pass their own.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// ResolveTimeout bounds the name lookup CheckURLResolving makes.
const ResolveTimeout = 2 * time.Second

// CheckURLResolving returns a callback-URL check for API input: CheckURL,
// then, for a DNS name, a lookup, refusing the URL when the name resolves
// to any address the policy refuses (a name pointing at 127.0.0.1, 10.x or
// the metadata service is refused at once with a clear error, instead of
// every webhook failing later). A name that does not resolve now is
// accepted: DNS may not be set up yet, and whatever it resolves to at send
// time is checked again by the client's dialer (Client), which is the
// guard that holds against a name re-pointed after input (DNS rebinding).
// lookup may be nil.
func (p Policy) CheckURLResolving(lookup LookupFunc) func(raw string) error {
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
		ctx, cancel := context.WithTimeout(context.Background(), ResolveTimeout)
		defer cancel()
		addrs, err := lookup(ctx, host)
		if err != nil {
			return nil
		}
		for _, a := range addrs {
			if err := p.checkAddr(a.Unmap(), a.Unmap().String()); err != nil {
				return fmt.Errorf("must not point into %s (%s resolves to %s)", rangeOf(a), u.Hostname(), a.Unmap())
			}
		}
		return nil
	}
}
