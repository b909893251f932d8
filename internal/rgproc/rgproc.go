// Package rgproc runs the real ringgate binary for tests that need whole
// processes (several nodes on one database, a SIGKILL mid-burst): it builds
// cmd/ringgate once per test binary, runs its commands, and starts `ringgate
// serve` processes that are stopped (SIGTERM, then SIGKILL) when the test
// ends, with their log shown if it failed.
package rgproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/testutil"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Binary builds cmd/ringgate once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ringgate-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binDir, binPath = dir, filepath.Join(dir, "ringgate")
		// Built as scripts/release.sh builds (static, -trimpath), so that the
		// binary tested is the shipped kind, and so that the packages compiled
		// here and by cmd/ringgate's TestReleaseBinary share the build cache:
		// with other flags each compiled the whole tree and standard library
		// again, minutes on a cold CI machine.
		build := exec.Command("go", "build", "-trimpath", "-o", binPath, "github.com/ringgate/ringgate/cmd/ringgate")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Main runs the package's tests and removes the built binary.
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Run runs a ringgate command to completion, within timeout, and returns
// its output; a failure fails the test.
func Run(t testing.TB, env []string, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ringgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// FreeAddr is a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Proc is one `ringgate serve` process.
type Proc struct {
	Name string
	URL  string
	Cmd  *exec.Cmd
	Done chan struct{} // closed when the process has exited
	log  testutil.SyncBuffer
}

// Log is what the process has written so far.
func (p *Proc) Log() string { return p.log.String() }

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.Done
}

// Serve starts `ringgate serve --config cfgFile` on a free port and waits
// until /readyz answers 200 (20 s at most).
func Serve(t testing.TB, name, cfgFile string, env []string) *Proc {
	t.Helper()
	addr := FreeAddr(t)
	cmd := exec.Command(Binary(t), "serve", "--config", cfgFile, "--http", addr)
	cmd.Env = env
	p := &Proc{Name: name, URL: "http://" + addr, Cmd: cmd, Done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.Done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.Done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.Done
		}
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, p.Log())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.Done:
			t.Fatalf("%s exited at start:\n%s", name, p.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready in 20s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
