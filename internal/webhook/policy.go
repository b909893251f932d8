package webhook

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// MaxURLLength is the longest callback URL accepted.
const MaxURLLength = 2048

// DefaultTimeout bounds one webhook request; the Standard Webhooks spec
// recommends 15–30s so receivers have time to process and answer.
const DefaultTimeout = 15 * time.Second

// Fixed prefixes the policy names; never modified.
var (
	loopback4 = netip.MustParsePrefix("127.0.0.0/8")
	loopback6 = netip.MustParsePrefix("::1/128")
	thisNet4  = netip.MustParsePrefix("0.0.0.0/8")
	sharedNAT = netip.MustParsePrefix("100.64.0.0/10")
)

// Policy says which addresses webhooks may be sent to. The zero Policy
// allows only public addresses: it refuses private, loopback, link-local
// (which includes cloud metadata services at 169.254.169.254), shared
// carrier-grade NAT, multicast, unspecified and the other special-purpose
// ranges on code.dny.dev/ssrf's deny lists, and every IPv6 address outside
// global unicast (2000::/3).
type Policy struct {
	// AllowLoopback allows 127.0.0.0/8, ::1 and "localhost", for development.
	AllowLoopback bool
	// Allow lists prefixes to allow although they are in a refused range,
	// such as an internal network an operator has chosen to send to.
	Allow []netip.Prefix
}

// CheckURL reports whether raw is an acceptable callback URL: http or https,
// with a host, without user info, at most MaxURLLength long, and, when the
// host is an IP address or a localhost name, not in a refused range. A DNS
// name cannot be judged here (it may resolve elsewhere by the time a webhook
// is sent); the client from Policy.Client checks the address it connects to.
// Errors read after the field name: "callback_url must use http or https".
func (p Policy) CheckURL(raw string) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("must be at most %d characters long", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error repeats the whole URL
		}
		return fmt.Errorf("is not a valid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must use http or https")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("must have a host, as in https://example.com/hook")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password")
	}
	if err := checkPort(u.Port()); err != nil {
		return err
	}
	if strings.HasPrefix(u.Host, "[") {
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			return errors.New("must have a valid IPv6 address between the brackets")
		}
	}
	return p.checkHost(u.Hostname())
}

func checkPort(port string) error {
	if port == "" {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("must have a port between 1 and 65535")
	}
	return nil
}

// checkHost judges the host part of a URL (without brackets or port).
func (p Policy) checkHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "" {
		return errors.New("must have a host, as in https://example.com/hook")
	}
	if strings.Contains(h, "%") {
		return errors.New("must not use an IPv6 zone")
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return p.checkAddr(addr.Unmap(), host)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		// RFC 6761: localhost names resolve to loopback, whatever DNS says.
		return p.checkAddr(netip.AddrFrom4([4]byte{127, 0, 0, 1}), host)
	}
	// No top-level domain starts with a digit, but resolvers accept forms
	// like 127.1, 0x7f.1 or 2130706433 as IPv4 addresses; refuse them
	// rather than guess what they will become.
	if last := h[strings.LastIndexByte(h, '.')+1:]; last != "" && last[0] >= '0' && last[0] <= '9' {
		return fmt.Errorf("must not use a numeric host (%s) that is not a plain IP address", host)
	}
	return nil
}

func (p Policy) checkAddr(addr netip.Addr, shown string) error {
	if err := p.guardian().SafeAddr(addr); err != nil {
		return fmt.Errorf("must not point into %s (%s)", rangeOf(addr), shown)
	}
	return nil
}

// guardian is the ssrf check with this policy's exceptions. The same
// Guardian decides at input (CheckURL) and at connect time (Client), so the
// two cannot disagree.
func (p Policy) guardian() *ssrf.Guardian {
	var v4, v6 []netip.Prefix
	if p.AllowLoopback {
		v4, v6 = append(v4, loopback4), append(v6, loopback6)
	}
	for _, pre := range p.Allow {
		if !pre.IsValid() {
			continue
		}
		pre = pre.Masked()
		if pre.Addr().Is4In6() && pre.Bits() >= 96 {
			// Connections to ::ffff:a.b.c.d are made, and checked, as IPv4.
			pre = netip.PrefixFrom(pre.Addr().Unmap(), pre.Bits()-96)
		}
		if pre.Addr().Is4() {
			v4 = append(v4, pre)
		} else {
			v6 = append(v6, pre)
		}
	}
	return ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
}

// rangeOf names the refused range addr is in, for people to read.
func rangeOf(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case addr.IsLoopback():
		return "the loopback network"
	case addr.IsUnspecified() || thisNet4.Contains(addr):
		return "the unspecified network"
	case addr.IsPrivate():
		return "a private network"
	case sharedNAT.Contains(addr):
		return "the carrier-grade NAT network"
	case addr.IsLinkLocalUnicast():
		return "a link-local network"
	case addr.IsMulticast():
		return "a multicast network"
	}
	return "a reserved network"
}

// refusedError is a connection the policy refused.
type refusedError struct {
	addr netip.Addr
	err  error // from ssrf; wraps ssrf.ErrProhibitedIP
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("refused: address %s is in %s", e.addr, rangeOf(e.addr))
}

func (e *refusedError) Unwrap() error { return e.err }

// control is the dialer's Control: it runs after DNS resolution, for every
// address actually dialled, so a name that resolves (or re-resolves) to a
// refused address is caught.
func control(g *ssrf.Guardian) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		err := g.Safe(network, address, c)
		if err == nil {
			return nil
		}
		if ap, perr := netip.ParseAddrPort(address); perr == nil && errors.Is(err, ssrf.ErrProhibitedIP) {
			return &refusedError{addr: ap.Addr().Unmap(), err: err}
		}
		return err
	}
}

// Client returns an HTTP client for webhooks under this policy. timeout
// bounds each request, from dial to the end of the body (DefaultTimeout if
// not positive). The client refuses to connect to addresses the policy
// refuses, does not follow redirects (it returns the 3xx response, which
// the dispatcher counts as a failed attempt), and uses no proxy: a proxy
// would connect for us, to addresses we never see.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout:   min(timeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   control(p.guardian()),
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // the body is discarded unread
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
