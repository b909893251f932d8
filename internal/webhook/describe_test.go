package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDescribeError(t *testing.T) {
	post := func(err error) error { return &url.Error{Op: "Post", URL: "https://example.com/hook", Err: err} }
	dial := func(err error) error { return post(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	refused := func(a string) error {
		return dial(&refusedError{addr: netip.MustParseAddr(a), err: errors.New("prohibited IP address")})
	}
	tests := []struct {
		err     error
		outcome Outcome
		want    string
	}{
		{refused("10.0.0.1"), OutcomeRefused, "refused: address 10.0.0.1 is in a private network"},
		{refused("169.254.169.254"), OutcomeRefused, "refused: address 169.254.169.254 is in a link-local network"},
		{refused("fd00::1"), OutcomeRefused, "refused: address fd00::1 is in a private network"},
		{refused("100.64.1.1"), OutcomeRefused, "refused: address 100.64.1.1 is in the carrier-grade NAT network"},
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), OutcomeUnreachable, "connection refused"},
		{post(os.NewSyscallError("read", syscall.ECONNRESET)), OutcomeUnreachable, "connection reset by the receiver"},
		{dial(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), OutcomeUnreachable, "host unreachable"},
		{dial(&net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}), OutcomeUnreachable, "no such host nope.example"},
		{dial(&net.DNSError{Err: "server misbehaving", Name: "flaky.example"}), OutcomeUnreachable, "DNS lookup of flaky.example failed"},
		{post(context.DeadlineExceeded), OutcomeTimeout, "no answer within 15s"},
		{dial(os.NewSyscallError("connect", syscall.ETIMEDOUT)), OutcomeTimeout, "connection timed out"},
		{post(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), OutcomeUnreachable, "TLS certificate not accepted: x509: certificate signed by unknown authority"},
		{post(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), OutcomeUnreachable, "TLS handshake failed (an https URL for an http server?)"},
		{post(io.ErrUnexpectedEOF), OutcomeUnreachable, "connection closed before a complete answer"},
		{post(io.EOF), OutcomeUnreachable, "connection closed before a complete answer"},
		{&buildError{errors.New("the app has no webhook secret")}, OutcomeError, "the app has no webhook secret"},
		{post(errors.New("something odd")), OutcomeUnreachable, "something odd"},
	}
	for _, tt := range tests {
		o, got := describeError(tt.err, 15*time.Second)
		if o != tt.outcome || got != tt.want {
			t.Errorf("describeError(%v) = %s %q, want %s %q", tt.err, o, got, tt.outcome, tt.want)
		}
	}
	_, long := describeError(errors.New(strings.Repeat("é", 300)), time.Second)
	if len(long) > maxErrorLen+len("…") || !utf8.ValidString(long) {
		t.Errorf("long error kept as %d bytes, valid UTF-8 %v", len(long), utf8.ValidString(long))
	}
}

func TestDescribeStatus(t *testing.T) {
	tests := []struct {
		code    int
		outcome Outcome
		want    string
	}{
		{200, OutcomeDelivered, ""},
		{204, OutcomeDelivered, ""},
		{299, OutcomeDelivered, ""},
		{301, OutcomeRejected, "301 Moved Permanently (redirects are not followed; use the final URL)"},
		{404, OutcomeRejected, "404 Not Found"},
		{410, OutcomeRejected, "410 Gone"},
		{503, OutcomeRejected, "503 Service Unavailable"},
		{599, OutcomeRejected, "599 (unknown status)"},
		{100, OutcomeRejected, "100 Continue"},
	}
	for _, tt := range tests {
		if o, got := describeStatus(tt.code); o != tt.outcome || got != tt.want {
			t.Errorf("describeStatus(%d) = %s %q, want %s %q", tt.code, o, got, tt.outcome, tt.want)
		}
	}
}
