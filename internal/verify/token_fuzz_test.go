package verify_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
)

// fuzzFixture is a service on a real SQLite store with one app, one
// verification (its id and client token) and the app's API key.
type fuzzFixture struct {
	svc          *verify.Service
	id, token    string
	key, otherID string
}

func newFuzzFixture(f *testing.F) fuzzFixture {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "f.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc, err := verify.NewService(verify.Config{Store: st, Secret: bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		f.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: st, Verify: svc})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	cr, err := op.CreateApp(ctx, verify.NewApp{ID: "app_f", DefaultCallbackURL: "https://example.com/h"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := op.AddNumber(ctx, "app_f", "+12025550100", verify.AnyCountry); err != nil {
		f.Fatal(err)
	}
	c, err := svc.Authenticate(ctx, cr.APIKeys[0])
	if err != nil {
		f.Fatal(err)
	}
	var vs []verify.Verification
	for _, p := range []string{"+14155552671", "+14155552672"} {
		v, _, err := svc.Start(ctx, c, verify.StartRequest{Phone: p, Channel: verify.ChannelMissedCall})
		if err != nil {
			f.Fatal(err)
		}
		vs = append(vs, v)
	}
	return fuzzFixture{svc: svc, id: vs[0].ID, token: svc.ViewOf(vs[0], true).ClientToken, key: cr.APIKeys[0], otherID: vs[1].ID}
}

// FuzzClientToken: no token but the verification's own opens it, whatever
// the id asked for; nothing panics.
func FuzzClientToken(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add(fx.id, fx.token)
	f.Add(fx.otherID, fx.token)
	f.Add(fx.id, fx.token[:len(fx.token)-1])
	f.Add(fx.id, strings.ToUpper(fx.token))
	f.Add(fx.id, fx.token+"=")
	f.Add("", "")
	f.Add("vf_'; DROP TABLE verifications;--", "ct_")
	f.Add(fx.id, "ct_\x00")
	f.Fuzz(func(t *testing.T, id, token string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := fx.svc.ClientView(ctx, id, token)
		if err == nil {
			if id != fx.id || token != fx.token || v.ID != fx.id {
				t.Fatalf("token %q opened %q (%s)", token, id, v.ID)
			}
			return
		}
		if id == fx.id && token == fx.token {
			t.Fatalf("the true token was refused: %v", err)
		}
	})
}

// FuzzAuthenticate: API key parsing and lookup. Only the app's own key
// authenticates; a malformed key is a clean 401-class error.
func FuzzAuthenticate(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add(fx.key)
	f.Add(fx.key + " ")
	f.Add(fx.key[:len(fx.key)-1])
	f.Add(strings.Replace(fx.key, "rg_live_", "rg_test_", 1))
	f.Add("rg_live_")
	f.Add("")
	f.Add("sk_live_abc")
	f.Add("rg_live_\x00\xff")
	f.Fuzz(func(t *testing.T, key string) {
		c, err := fx.svc.Authenticate(context.Background(), key)
		if err == nil {
			if key != fx.key || c.App.ID != "app_f" {
				t.Fatalf("key %q authenticated as %s", key, c.App.ID)
			}
			return
		}
		var ve *verify.Error
		if !errors.As(err, &ve) || ve.Code != verify.CodeUnauthorized {
			t.Fatalf("key %q: error %v, want unauthorized", key, err)
		}
		if key == fx.key {
			t.Fatalf("the true key was refused: %v", err)
		}
		if k, ok := verify.KeyKindOf(key); ok && !strings.HasPrefix(key, "rg_"+string(k)+"_") {
			t.Fatalf("KeyKindOf(%q) = %s", key, k)
		}
		if p := verify.KeyPrefixOf(key); !strings.HasPrefix(key, p) || len(p) > 12 {
			t.Fatalf("KeyPrefixOf(%q) = %q", key, p)
		}
	})
}
