package sdktest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/verify"
)

// call is one raw request: method, path, Basic or Bearer auth, body.
type call struct {
	method, path string
	user, pass   string
	bearer       string
	ctype        string
	body         string
}

type reply struct {
	status int
	ctype  string
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d %s): %s", r.status, r.ctype, r.body)
	}
	return m
}

func do(t *testing.T, srv *server.Server, c call) reply {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL()+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	} else if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// otherApp creates a second app with its own compat credentials.
func otherApp(t *testing.T, srv *server.Server) compat.Credentials {
	t.Helper()
	ctx := context.Background()
	cr, err := srv.Operator().CreateApp(ctx, verify.NewApp{Name: "Other", DefaultCallbackURL: "http://127.0.0.1:9/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := srv.CompatKeeper().Rotate(ctx, cr.App.ID, compat.Pins{})
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

func pemPublic(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func parsePriv(t *testing.T, p string) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}
