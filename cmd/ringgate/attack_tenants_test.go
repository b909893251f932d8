package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/rgproc"
)

func TestMain(m *testing.M) { rgproc.Main(m) }

// An operator who routes live traffic to a `type: sim` carrier without
// simulator.enabled would send every live code to a network that reaches no
// phone, where any key holder could read it: the real `ringgate serve`
// binary must refuse to start, saying why.
func TestAttackServeRoutesLiveTrafficToSimulator(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ringgate.yaml")
	yml := "secret: " + strings.Repeat("ab", 32) + "\n" +
		"database: {url: \"sqlite:" + filepath.Join(dir, "rg.db") + "\"}\n" +
		"carriers:\n  - {name: primary, type: sim}\n" +
		"routes:\n  - {carriers: [primary]}\n"
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	bin := rgproc.Binary(t) // built before the clock starts: a slow build is not a hang
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg, "--http", rgproc.FreeAddr(t))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("ringgate serve with a live route to the simulator kept running (%v):\n%s", ctx.Err(), out)
	}
	if err == nil {
		t.Fatalf("ringgate serve with a live route to the simulator exited 0:\n%s", out)
	}
	if !strings.Contains(string(out), `carrier "primary" is the simulator`) || !strings.Contains(string(out), "simulator.enabled") {
		t.Fatalf("ringgate serve refused without naming the simulator route and simulator.enabled:\n%s", out)
	}

	// Enabled on purpose (a staging server), it starts.
	rgproc.Serve(t, "staging", cfg, append(env, "RINGGATE_SIMULATOR_ENABLED=true"))
}
