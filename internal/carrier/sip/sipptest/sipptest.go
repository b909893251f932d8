// Package sipptest runs sipp (Debian package sip-tester) as the far end of
// SIP tests, on 127.0.0.1 only and bounded in calls and time, and parses
// its message log (-trace_msg) so tests can check what crossed the wire.
package sipptest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require returns the sipp binary, or skips the test loudly; with CI=true
// a missing sipp fails it.
func Require(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err == nil {
		return p
	}
	msg := "sipp is not installed: SIP TESTS AGAINST A REAL PEER DID NOT RUN. Install it: apt-get install sip-tester (or scripts/install-deps.sh)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("!!! " + msg + " !!!")
	return ""
}

// FreePort returns a port free on 127.0.0.1 for UDP and TCP at the time
// of the call (sipp needs a fixed port).
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// Run is one sipp process.
type Run struct {
	cmd     *exec.Cmd
	out     bytes.Buffer
	msgFile string
	done    chan error
	Port    int // sipp's own port
}

// Start runs sipp with scenario (a path) for one call (-m 1), bound to
// 127.0.0.1:port (port 0: a free one), with extra args (remote address,
// -key …, -t tn). It is killed after timeout, and at the end of the test.
func Start(t testing.TB, scenario string, port int, timeout time.Duration, args ...string) *Run {
	t.Helper()
	bin := Require(t)
	if port == 0 {
		port = FreePort(t)
	}
	abs, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Run{msgFile: filepath.Join(dir, "messages.log"), done: make(chan error, 1), Port: port}
	secs := strconv.Itoa(max(int(timeout/time.Second), 1))
	full := append([]string{
		"-sf", abs, "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-timeout", secs + "s", "-timeout_error", "-recv_timeout", secs + "s",
		"-trace_msg", "-message_file", r.msgFile,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-nostdin",
	}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	r.cmd = exec.CommandContext(ctx, bin, full...)
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait(); cancel() }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			t.Logf("sipp output:\n%s\nsipp errors:\n%s\nsipp messages:\n%s", r.out.String(), b, r.Log())
		}
	})
	return r
}

// Wait waits for sipp to end and returns its error (nil: exit 0, every
// call passed).
func (r *Run) Wait() error {
	err := <-r.done
	r.done <- err // for Cleanup
	return err
}

// Log is sipp's message log so far.
func (r *Run) Log() string {
	b, _ := os.ReadFile(r.msgFile)
	return string(b)
}

// Msg is one message in sipp's log, seen from sipp.
type Msg struct {
	Sent  bool   // sipp sent it (else received)
	Start string // request or status line
	Text  string // the whole message
}

var sep = regexp.MustCompile(`(?m)^-{20,}.*\n`)

// Messages parses the log.
func (r *Run) Messages() []Msg {
	var out []Msg
	for _, part := range sep.Split(r.Log(), -1) {
		part = strings.TrimLeft(part, "\r\n")
		head, body, ok := strings.Cut(part, "\n")
		if !ok {
			continue
		}
		var sent bool
		switch {
		case strings.Contains(head, "message sent"):
			sent = true
		case strings.Contains(head, "message received"):
		default:
			continue
		}
		body = strings.TrimLeft(body, "\r\n")
		start, _, _ := strings.Cut(body, "\n")
		out = append(out, Msg{Sent: sent, Start: strings.TrimSpace(start), Text: body})
	}
	return out
}

// Header returns the first value of header name in a message, "" if none.
func (m Msg) Header(name string) string {
	for _, line := range strings.Split(m.Text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
