// Package sdktest runs the providers' official JavaScript clients
// (compat/node: npm twilio, @vonage/verify2), unchanged, against a ringgate
// dev server in this process. The Go client's test is compat/twiliogo.
package sdktest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

const (
	accountSID   = "AC00112233445566778899aabbccddeeff"
	authToken    = "NodeTok0123456789abcdefghijklmno"
	vonageKey    = "0a1b2c3d"
	vonageSecret = "NodeSecret0123456789abcdefABCDEF"
	apiKey       = "rg_live_sdktest0123456789abcdefghij"
)

// nodeDir is compat/node, with its node_modules installed by
// scripts/install-deps.sh.
func nodeDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "compat", "node")
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "twilio")); err != nil {
		missing = "compat/node/node_modules is not installed"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: run scripts/install-deps.sh", missing)
		}
		t.Skipf("SKIPPED LOUDLY: %s (run scripts/install-deps.sh); the official JavaScript clients were not tried", missing)
	}
	return dir
}

func startDev(t testing.TB, mut ...func(*config.Config)) *server.Server {
	t.Helper()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Log.Level = "warn"
	cfg.Expiry.Interval = 100 * time.Millisecond
	cfg.Webhooks.RetryBase, cfg.Webhooks.RetryMax = 100*time.Millisecond, 400*time.Millisecond
	for _, m := range mut {
		m(&cfg)
	}
	env := func(k string) (string, bool) {
		v, ok := map[string]string{
			server.EnvDevTwilioAccountSID: accountSID, server.EnvDevTwilioAuthToken: authToken,
			server.EnvDevVonageAPIKey: vonageKey, server.EnvDevVonageAPISecret: vonageSecret,
			server.EnvDevAPIKey: apiKey,
		}[k]
		return v, ok
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, server.Options{Env: env})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// runNode runs one node:test file against srv, with extra environment.
func runNode(t *testing.T, srv *server.Server, file string, env ...string) {
	t.Helper()
	dir := nodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"RINGGATE_URL="+srv.URL(),
		"TWILIO_ACCOUNT_SID="+accountSID, "TWILIO_AUTH_TOKEN="+authToken,
		"VONAGE_API_KEY="+vonageKey, "VONAGE_API_SECRET="+vonageSecret,
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test %s:\n%s", file, out)
	if err != nil {
		t.Fatalf("node --test %s: %v", file, err)
	}
}

// TestSDKTwilioNode: the npm twilio client (compat/node/package-lock.json
// pins it) through the scenario.
func TestSDKTwilioNode(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	runNode(t, srv, "twilio.test.mjs")
}
