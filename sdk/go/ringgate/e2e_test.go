package ringgate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
	"github.com/ringgate/ringgate/sdk/go/webhook"
)

// These tests drive the SDK against a real `ringgate dev`, one per test
// process (TestMain), built from this repository (or RINGGATE_BIN).

const (
	devKey    = "rg_live_sdkgo000000000000000000000"
	devSecret = "whsec_c2RrLWdvIHRlc3Qgd2ViaG9vayBzZWNyZXQgMzI="
)

var (
	baseURL string
	hooks   = &hookLog{byID: map[string][]ringgate.Event{}}
)

// hookLog is what the test's webhook endpoint (webhook.Handler) received.
type hookLog struct {
	mu   sync.Mutex
	byID map[string][]ringgate.Event
	cond *sync.Cond
}

func (h *hookLog) add(ev ringgate.Event) {
	h.mu.Lock()
	h.byID[ev.Data.ID] = append(h.byID[ev.Data.ID], ev)
	h.mu.Unlock()
	h.cond.Broadcast()
}

// wait returns once a webhook of type typ for id has arrived (or fails).
func (h *hookLog) wait(t *testing.T, id string, typ ringgate.EventType) ringgate.Event {
	t.Helper()
	timer := time.AfterFunc(20*time.Second, h.cond.Broadcast)
	defer timer.Stop()
	deadline := time.Now().Add(20 * time.Second)
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		for _, ev := range h.byID[id] {
			if ev.Type == typ {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s webhook for %s in 20s (got %v)", typ, id, h.byID[id])
		}
		h.cond.Wait()
	}
}

func TestMain(m *testing.M) {
	hooks.cond = sync.NewCond(&hooks.mu)
	stop, err := startDev()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringgate dev:", err)
		if os.Getenv("CI") == "true" {
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIPPING the end-to-end tests: no ringgate binary (needs Go and the repository)")
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

func startDev() (func(), error) {
	dir, err := os.MkdirTemp("", "ringgate-sdk-go-*")
	if err != nil {
		return nil, err
	}
	bin := os.Getenv("RINGGATE_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "ringgate")
		root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/ringgate")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, "dev", "--data", filepath.Join(dir, "data"), "--http", addr)
	cmd.Env = append(os.Environ(), "RINGGATE_DEV_API_KEY="+devKey, "RINGGATE_DEV_WEBHOOK_SECRET="+devSecret)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	}
	baseURL = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(baseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
		select {
		case <-done:
			return nil, fmt.Errorf("exited at start:\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("not ready in 30s:\n%s", log.String())
		}
	}
}

func client(t *testing.T) *ringgate.Client {
	t.Helper()
	if baseURL == "" {
		t.Skip("no ringgate dev server")
	}
	return ringgate.New(devKey, ringgate.WithBaseURL(baseURL))
}

var hookOnce sync.Once

// useHooks points the demo app's callback at a webhook.Handler in this
// process (dev mode allows loopback callbacks).
func useHooks(t *testing.T, c *ringgate.Client) {
	t.Helper()
	var err error
	hookOnce.Do(func() {
		srv := httptest.NewServer(webhook.Handler(devSecret, func(ctx context.Context, ev ringgate.Event) error {
			hooks.add(ev)
			return nil
		}))
		_, err = c.UpdateApp(context.Background(), ringgate.SettingsPatch{DefaultCallbackURL: ringgate.String(srv.URL + "/hooks")})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// simCall makes the simulator's phone `from` dial `to`.
func simCall(t *testing.T, from, to string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"from": from, "to": to})
	resp, err := http.Post(baseURL+"/sim/calls", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sim call: %d", resp.StatusCode)
	}
}

func TestMissedCallEndToEnd(t *testing.T) {
	c := client(t)
	useHooks(t, c)
	ctx := context.Background()
	const phone = "+442079460101"
	v, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.MissedCall, ClientIP: "203.0.113.7", Metadata: map[string]string{"user": "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != ringgate.StatusPending || v.DialNumber == "" || v.ClientToken == "" || v.Country != "GB" {
		t.Fatalf("started %+v", v)
	}
	// The page follows the stream with the client token.
	s := c.Page(v.ID, v.ClientToken).Events(ctx)
	defer s.Close()
	if !s.Next() || s.Event().Type != ringgate.EventCreated {
		t.Fatalf("first event %+v, err %v", s.Event(), s.Err())
	}
	simCall(t, phone, v.DialNumber)
	var types []ringgate.EventType
	for s.Next() {
		types = append(types, s.Event().Type)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(types) != 1 || types[0] != ringgate.EventVerified { // one event per verifying call
		t.Fatalf("stream after the call: %v", types)
	}
	got, err := c.Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ringgate.StatusVerified || got.ResultCode != ringgate.ResultVerified || got.CompletedAt == nil || got.VerifiedChannel != ringgate.MissedCall || got.Metadata["user"] != "u1" {
		t.Fatalf("after the call: %+v", got)
	}
	ev := hooks.wait(t, v.ID, ringgate.EventVerified)
	if ev.Data.Call == nil || !ev.Data.Call.Matched || ev.Data.Call.From != phone {
		t.Fatalf("webhook %+v", ev.Data)
	}
	st, err := c.Page(v.ID, v.ClientToken).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != ringgate.StatusVerified || strings.Contains(st.Phone, "7946") {
		t.Fatalf("public status %+v (phone must be masked)", st)
	}
	// The webhook log has the delivery (one per verifying call); it can be
	// sent again. List below pages with the same paginate.
	var ds []ringgate.Delivery
	for d, err := range c.Deliveries(ctx, ringgate.ListDeliveriesParams{VerificationID: v.ID, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	if len(ds) != 1 || ds[0].Type != ringgate.EventVerified {
		t.Fatalf("deliveries %+v, want verification.verified alone", ds)
	}
	if d, err := c.RetryDelivery(ctx, ds[0].ID); err != nil || d.ID != ds[0].ID {
		t.Fatalf("retry: %+v %v", d, err)
	}
	// A verified verification cannot be canceled: a typed 409.
	_, err = c.Cancel(ctx, v.ID)
	var pe *ringgate.Error
	if !errors.As(err, &pe) || pe.Code != ringgate.CodeNotPending || pe.Status != 409 {
		t.Fatalf("cancel after verified: %v", err)
	}
}

func TestEventsResumeAfterLastEventID(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	const phone = "+442079460102"
	v, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.MissedCall, CallbackURL: baseURL + "/dev/webhooks"})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Events(ctx, v.ID)
	if !s.Next() || s.Event().Type != ringgate.EventCreated {
		t.Fatalf("first event %+v %v", s.Event(), s.Err())
	}
	last := s.LastEventID()
	s.Close()
	if last == "" {
		t.Fatal("no event id")
	}
	simCall(t, phone, v.DialNumber)
	s = c.Events(ctx, v.ID, ringgate.LastEventID(last))
	defer s.Close()
	var types []ringgate.EventType
	for s.Next() {
		types = append(types, s.Event().Type)
	}
	if s.Err() != nil || len(types) == 0 || types[0] == ringgate.EventCreated || types[len(types)-1] != ringgate.EventVerified {
		t.Fatalf("resumed stream %v, err %v", types, s.Err())
	}
	// After the end the server answers 204: the stream ends at once, no error.
	s = c.Events(ctx, v.ID, ringgate.LastEventID(s.LastEventID()))
	if s.Next() || s.Err() != nil {
		t.Fatalf("stream after the end: %+v %v", s.Event(), s.Err())
	}
}

func TestFlashCallCheckedWithClientToken(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	const phone = "+442079460103"
	v, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.FlashCall, CallbackURL: baseURL + "/dev/webhooks"})
	if err != nil {
		t.Fatal(err)
	}
	if v.CLIFilter == "" || v.CodeLength == 0 {
		t.Fatalf("flash call without cli_filter/code_length: %+v", v)
	}
	// The app on the phone catches the caller ID (the simulator's phone here).
	var cli string
	for deadline := time.Now().Add(10 * time.Second); cli == "" && time.Now().Before(deadline); {
		req, _ := http.NewRequest(http.MethodGet, baseURL+"/sim/phones/"+url.PathEscape(phone), nil)
		req.Header.Set("Authorization", "Bearer "+devKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Calls []struct{ From string } }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if len(p.Calls) > 0 {
			cli = p.Calls[0].From
			break
		}
		time.Sleep(50 * time.Millisecond) // polling the simulator for the call; no event to wait on
	}
	if cli == "" {
		t.Fatal("the phone got no call")
	}
	page := c.Page(v.ID, v.ClientToken)
	bad, err := page.Check(ctx, ringgate.CheckRequest{CLI: "+15005550006"})
	if err != nil {
		t.Fatal(err)
	}
	if bad.Valid || bad.AttemptsRemaining != 4 {
		t.Fatalf("wrong caller ID: %+v", bad)
	}
	good, err := page.Check(ctx, ringgate.CheckRequest{CLI: cli})
	if err != nil {
		t.Fatal(err)
	}
	if !good.Valid || good.Status != ringgate.StatusVerified {
		t.Fatalf("right caller ID: %+v", good)
	}
}

func TestErrorsAreTypedProblems(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	var pe *ringgate.Error
	_, err := c.Start(ctx, ringgate.StartRequest{Phone: "12", Channel: ringgate.MissedCall})
	if !errors.As(err, &pe) || pe.Code != ringgate.CodeInvalidPhone || pe.Status != 400 || pe.Field != "phone" {
		t.Fatalf("invalid phone: %v", err)
	}
	_, err = c.Start(ctx, ringgate.StartRequest{Phone: "+442079460104", Channel: "carrier_pigeon"})
	if !errors.As(err, &pe) || pe.Status/100 != 4 {
		t.Fatalf("unknown channel: %v", err)
	}
	_, err = c.Get(ctx, "vf_00000000000000000000000000000000")
	if !errors.As(err, &pe) || pe.Code != ringgate.CodeNotFound {
		t.Fatalf("unknown id: %v", err)
	}
	_, err = ringgate.New("rg_live_wrong0000000000000000000000", ringgate.WithBaseURL(baseURL)).Get(ctx, "vf_1")
	if !errors.As(err, &pe) || pe.Code != ringgate.CodeUnauthorized || pe.Status != 401 {
		t.Fatalf("wrong key: %v", err)
	}
	_, err = c.Page("vf_00000000000000000000000000000000", "ct_forged").Status(ctx)
	if !errors.As(err, &pe) || pe.Status/100 != 4 {
		t.Fatalf("forged token: %v", err)
	}
	if err := c.UnblockPrefix(ctx, "+999"); !errors.As(err, &pe) || pe.Code != ringgate.CodeNotFound {
		t.Fatalf("unblock unknown prefix: %v", err)
	}
}

func TestIdempotentStartAndListing(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	const phone = "+442079460105"
	a, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.MissedCall, CallbackURL: baseURL + "/dev/webhooks"}, ringgate.IdempotencyKey("signup-42"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.MissedCall, CallbackURL: baseURL + "/dev/webhooks"}, ringgate.IdempotencyKey("signup-42"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("the same Idempotency-Key started two verifications: %s, %s", a.ID, b.ID)
	}
	// A new start supersedes the pending one.
	d, err := c.Start(ctx, ringgate.StartRequest{Phone: phone, Channel: ringgate.MissedCall, CallbackURL: baseURL + "/dev/webhooks"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for v, err := range c.List(ctx, ringgate.ListVerificationsParams{Phone: phone, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	if len(ids) != 2 || ids[0] != d.ID || ids[1] != a.ID {
		t.Fatalf("listed %v, want newest first [%s %s] over two pages", ids, d.ID, a.ID)
	}
	if v, err := c.Cancel(ctx, d.ID); err != nil || v.Status != ringgate.StatusCanceled {
		t.Fatalf("cancel: %+v %v", v, err)
	}
	e, err := c.ErasePhone(ctx, phone)
	if err != nil || e.Deleted.Verifications != 2 {
		t.Fatalf("erase: %+v %v", e, err)
	}
}

func TestAdminRoutes(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	app, err := c.App(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if app.ID != "app_demo" || len(app.Settings.FlashCallerIDs) == 0 {
		t.Fatalf("app %+v", app)
	}
	k, err := c.CreateKey(ctx, ringgate.NewAPIKeyRequest{Scope: ringgate.ScopeVerify})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Key, "rg_live_") || k.Scope != ringgate.ScopeVerify {
		t.Fatalf("new key %+v", k)
	}
	keys, err := c.Keys(ctx)
	if err != nil || len(keys) < 2 {
		t.Fatalf("keys %+v %v", keys, err)
	}
	// The verify-scoped key may not read the app.
	var pe *ringgate.Error
	if _, err := ringgate.New(k.Key, ringgate.WithBaseURL(baseURL)).App(ctx); !errors.As(err, &pe) || pe.Status != 403 {
		t.Fatalf("verify key on /v1/app: %v", err)
	}
	if r, err := c.RevokeKey(ctx, k.ID); err != nil || r.RevokedAt == nil {
		t.Fatalf("revoke %+v %v", r, err)
	}
	found := false
	for e, err := range c.Audit(ctx, ringgate.ListAuditParams{Action: "key.revoked"}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Target == k.ID || strings.Contains(string(e.Detail), k.Prefix) {
			found = true
		}
	}
	if !found {
		t.Fatal("the audit log has no key.revoked for the key")
	}
	if _, err := c.BlockedPrefixes(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCompatCredentials drives the compat APIs' credentials routes through
// the SDK's typed methods against a real server.
func TestCompatCredentials(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	nc, err := c.RotateCompatCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nc.TwilioAccountSID, "AC") || len(nc.TwilioAuthToken) != 32 || nc.VonageAPISecret == "" || nc.AppID != "app_demo" {
		t.Fatalf("rotated %+v", nc)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetVonagePublicKey(ctx, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))); err != nil {
		t.Fatal(err)
	}
	var pe *ringgate.Error
	if err := c.SetVonagePublicKey(ctx, "not a key"); !errors.As(err, &pe) || pe.Status != 400 || pe.Code != "invalid_request" {
		t.Fatalf("a bad key: %v", err)
	}
	if err := c.SetVonageStatusURL(ctx, ""); err != nil {
		t.Fatal(err)
	}
	cc, err := c.CompatCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cc.TwilioAccountSID != nc.TwilioAccountSID || cc.TwilioAPIKeySID != nc.TwilioAPIKeySID || !cc.VonagePublicKey || cc.UpdatedAt.IsZero() {
		t.Fatalf("credentials %+v after rotating to %+v", cc, nc)
	}
}
