package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/testutil"
)

// startDev runs `ringgate dev` through run(), as the binary does, and
// returns its base URL once the banner shows it.
func startDev(t *testing.T, env map[string]string, args ...string) (string, *testutil.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &testutil.SyncBuffer{}, &testutil.SyncBuffer{}
	done := make(chan int, 1)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	go func() {
		done <- run(ctx, append([]string{"dev", "--data", t.TempDir(), "--http", "127.0.0.1:0"}, args...), out, errOut, lookup)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("ringgate dev exited %d: %s", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("ringgate dev did not stop within 10s of its context ending")
		}
	})
	re := regexp.MustCompile(`running at (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		select {
		case code := <-done:
			t.Fatalf("ringgate dev exited %d: %s%s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no banner after 20s: %s", out.String())
	return "", nil
}

// The README's missed-call walkthrough, run in bash as a reader would run
// it, against `ringgate dev` started through main's own run().
func TestREADMEWalkthrough(t *testing.T) {
	got := runWalkthrough(t, "Then, in another terminal (bash):")
	for _, want := range []string{
		`"status":"pending"`, `"country":"GB"`, `"disposition":"rejected","sip_status":603,"verification_id":"vf_`,
		`"status":"verified"`, `"result_code":"000"`, `event: verification.verified`, `"phone":"+44 ••••••••18"`,
		`"signature_valid":true`, `"type":"verification.verified"`, `"external_user_id":"45450007002"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("walkthrough output lacks %s", want)
		}
	}
	if strings.Contains(got, `"signature_valid":false`) {
		t.Error("the dev inbox saw a bad signature")
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}

// The README's SMS OTP walkthrough: the simulated phone's text, then the
// check of its code.
func TestREADMESMSWalkthrough(t *testing.T) {
	got := runWalkthrough(t, "With the same `ringgate dev`, in the same terminal (bash):")
	for _, want := range []string{`Votre code de vérification`, `"valid":true`, `"status":"verified"`, `"verified_channel":"sms_otp"`} {
		if !strings.Contains(got, want) {
			t.Errorf("walkthrough output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}

// runWalkthrough runs the README's bash block after marker against a fresh
// `ringgate dev` and returns what it printed.
func runWalkthrough(t *testing.T, marker string) string {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; scripts/install-deps.sh should have installed it", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed; run scripts/install-deps.sh", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script := walkthrough(t, string(readme), marker)
	key := regexp.MustCompile(`KEY=(rg_live_\w+)`).FindStringSubmatch(script)
	if key == nil {
		t.Fatal("the walkthrough sets no KEY")
	}
	url, _ := startDev(t, map[string]string{"RINGGATE_DEV_API_KEY": key[1]})
	const defaultRG = "RG=http://127.0.0.1:8080"
	if !strings.Contains(script, defaultRG) {
		t.Fatalf("the walkthrough does not set %s", defaultRG)
	}
	script = strings.Replace(script, defaultRG, "RG="+url, 1)

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out.String())
	}
	return out.String()
}

// walkthrough extracts the ```bash block the README presents as the
// walkthrough.
func walkthrough(t *testing.T, readme, marker string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, marker)
	if !ok {
		t.Fatal("README has no walkthrough")
	}
	_, block, ok := strings.Cut(after, "```bash\n")
	if !ok {
		t.Fatal("walkthrough has no bash block")
	}
	script, _, ok := strings.Cut(block, "```")
	if !ok {
		t.Fatal("walkthrough block does not end")
	}
	return script
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	none := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{{}, {"fly"}, {"dev", "--nope"}, {"numbers"}, {"numbers", "add"}, {"apps"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut, none); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (usage); stderr: %s", args, code, errOut.String())
		}
	}
}

// Admin commands work against a dev data directory.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rg := runOK(t)
	rg("migrate", "--data", dir)
	out := rg("apps", "create", "--data", dir, "--name", "Shop", "--callback-url", "https://shop.example/hooks")
	app := regexp.MustCompile(`app\s+(app_\w+)`).FindStringSubmatch(out)
	if app == nil || !strings.Contains(out, "rg_live_") || !strings.Contains(out, "whsec_") {
		t.Fatalf("apps create printed: %s", out)
	}
	rg("numbers", "add", "--data", dir, "--app", app[1], "--country", "GB", "+442079460000", "+442079460001")
	if out := rg("numbers", "list", "--data", dir, "--app", app[1]); !strings.Contains(out, "+442079460001  GB") {
		t.Fatalf("numbers list: %s", out)
	}
	rg("numbers", "remove", "--data", dir, "--app", app[1], "+442079460000")
	if out := rg("numbers", "list", "--data", dir, "--app", app[1]); strings.Contains(out, "+442079460000") {
		t.Fatalf("removed number still listed: %s", out)
	}
}

// `ringgate dev --sip ADDR --sip-trunk URI` listens for SIP (an OPTIONS
// keep-alive from loopback is answered) and names both in the banner.
func TestDevSIPFlags(t *testing.T) {
	t.Parallel()
	_, out := startDev(t, nil, "--sip", "127.0.0.1:0", "--sip-trunk", "sip:127.0.0.1:5999")
	re := regexp.MustCompile(`missed calls in on (127\.0\.0\.1:\d+)`)
	var m []string
	testutil.Eventually(5*time.Second, func() bool {
		m = re.FindStringSubmatch(out.String())
		return m != nil && strings.Contains(out.String(), "go out to")
	})
	if m == nil || !strings.Contains(out.String(), "go out to sip:127.0.0.1:5999") {
		t.Fatalf("banner: %s", out.String())
	}
	conn, err := net.Dial("udp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:ping@" + m[1] + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ping\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: ping\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 OK") {
		t.Fatalf("OPTIONS answer %q, %v", buf[:n], err)
	}
}

// runOK returns a function that runs ringgate's command line in-process
// with an empty environment and returns its output, failing the test on
// a non-zero exit.
func runOK(t *testing.T) func(args ...string) string {
	none := func(string) (string, bool) { return "", false }
	return func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut, none); code != 0 {
			t.Fatalf("ringgate %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
}
