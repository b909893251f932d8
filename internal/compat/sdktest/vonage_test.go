package sdktest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

// vonageKeys makes an application key pair and installs its public half
// for the demo app through the admin API; it returns the application id
// and the private key (PKCS#8 PEM, as Vonage's dashboard hands it out).
func vonageKeys(t *testing.T, srv *server.Server) (string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	priv, _ := x509.MarshalPKCS8PrivateKey(k)
	body, _ := json.Marshal(map[string]string{"public_key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))})
	req, _ := http.NewRequest(http.MethodPut, srv.URL()+"/v1/app/compat-credentials/vonage-public-key", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("install the public key: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL()+"/v1/app/compat-credentials", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cr struct {
		AppID        string `json:"vonage_application_id"`
		HasPublicKey bool   `json:"vonage_public_key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil || !cr.HasPublicKey || cr.AppID == "" {
		t.Fatalf("compat credentials: %v %+v", err, cr)
	}
	return cr.AppID, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
}

// fastResend lets next_workflow follow a start at once (ringgate's
// abuse.resend_interval, 10 s by default, is not Vonage's).
func fastResend(c *config.Config) { c.Abuse.ResendInterval = time.Millisecond }

// TestSDKVonageNode: the npm @vonage/verify2 client (pinned in
// compat/node/package-lock.json): new request, wrong code, right code
// (completed), cancel, next workflow, and a JWT of another key refused.
func TestSDKVonageNode(t *testing.T) {
	t.Parallel()
	srv := startDev(t, fastResend)
	nodeDir(t)
	appID, priv := vonageKeys(t, srv)
	runNode(t, srv, "vonage.test.mjs", "VONAGE_APPLICATION_ID="+appID, "VONAGE_PRIVATE_KEY="+priv)
}
