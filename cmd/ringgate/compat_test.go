package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// apps create prints the app's Twilio- and Vonage-style credentials, and
// apps compat-credentials replaces them and installs a Vonage public key.
func TestAppsCompatCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rg := runOK(t)
	sid := regexp.MustCompile(`twilio account sid\s+(AC[0-9a-f]{32})`)
	tok := regexp.MustCompile(`twilio auth token\s+([A-Za-z0-9]{32})\n`)
	out := rg("apps", "create", "--data", dir, "--name", "Shop")
	app := regexp.MustCompile(`app\s+(app_\w+)`).FindStringSubmatch(out)
	first, firstTok := sid.FindStringSubmatch(out), tok.FindStringSubmatch(out)
	if app == nil || first == nil || firstTok == nil || !regexp.MustCompile(`twilio api key\s+SK[0-9a-f]{32}`).MatchString(out) ||
		!regexp.MustCompile(`vonage api key\s+[0-9a-f]{8}\n`).MatchString(out) {
		t.Fatalf("apps create printed: %s", out)
	}
	out = rg("apps", "compat-credentials", "--data", dir, "--app", app[1])
	second, secondTok := sid.FindStringSubmatch(out), tok.FindStringSubmatch(out)
	if second == nil || secondTok == nil || second[1] == first[1] || secondTok[1] == firstTok[1] {
		t.Fatalf("compat-credentials printed: %s", out)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	file := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := rg("apps", "compat-credentials", "--data", dir, "--app", app[1], "--vonage-public-key", file); !strings.Contains(out, "installed") {
		t.Fatalf("install key printed: %s", out)
	}
}
