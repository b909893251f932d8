package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxErrorLen bounds LastError: it is shown in lists and the dashboard,
// where one line is enough.
const maxErrorLen = 200

// describeStatus classifies a receiver's answer and says why it failed.
func describeStatus(code int) (Outcome, string) {
	if code >= 200 && code <= 299 {
		return OutcomeDelivered, ""
	}
	text := http.StatusText(code)
	if text == "" {
		text = "(unknown status)"
	}
	s := fmt.Sprintf("%d %s", code, text)
	if code >= 300 && code <= 399 {
		// The Standard Webhooks spec treats 3xx as failure: following
		// redirects would also take us past the URL that was checked.
		s += " (redirects are not followed; use the final URL)"
	}
	return OutcomeRejected, s
}

// describeError classifies a failed request and says why, in a few words a
// customer can act on. limit is the attempt's time limit.
func describeError(err error, limit time.Duration) (Outcome, string) {
	o, s := classify(err, limit)
	return o, truncate(s, maxErrorLen)
}

func classify(err error, limit time.Duration) (Outcome, string) {
	var (
		refused *refusedError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		opErr   *net.OpError
	)
	var build *buildError
	switch {
	case errors.As(err, &build):
		return OutcomeError, build.Error()
	case errors.As(err, &refused):
		return OutcomeRefused, refused.Error()
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return OutcomeTimeout, "connection timed out"
	case isTimeout(err):
		return OutcomeTimeout, fmt.Sprintf("no answer within %s", limit)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return OutcomeUnreachable, "no such host " + dnsErr.Name
	case errors.As(err, &dnsErr):
		return OutcomeUnreachable, "DNS lookup of " + dnsErr.Name + " failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return OutcomeUnreachable, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return OutcomeUnreachable, "connection reset by the receiver"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return OutcomeUnreachable, "host unreachable"
	case errors.As(err, &certErr):
		return OutcomeUnreachable, "TLS certificate not accepted: " + certErr.Err.Error()
	case errors.As(err, &recErr):
		return OutcomeUnreachable, "TLS handshake failed (an https URL for an http server?)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return OutcomeUnreachable, "connection closed before a complete answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop "Post \"<url>\": ", the URL is shown beside the error
	}
	return OutcomeUnreachable, err.Error()
}

// buildError is a request that could not be made at all.
type buildError struct{ err error }

func (e *buildError) Error() string { return e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // do not cut a UTF-8 sequence in two
	}
	return s[:n] + "…"
}
