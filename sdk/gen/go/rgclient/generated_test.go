package rgclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/sdk/gen/go/rgclient"
)

const devKey = "rg_live_gengo0000000000000000000000"

var baseURL string

func TestMain(m *testing.M) {
	stop, err := startDev()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringgate dev:", err)
		os.Exit(1) // a missing server is a failure here, laptop or CI: the test exists to talk to one
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startDev starts one `ringgate dev` for this test process, built from the
// repository (or RINGGATE_BIN).
func startDev() (func(), error) {
	dir, err := os.MkdirTemp("", "ringgate-gen-go-*")
	if err != nil {
		return nil, err
	}
	bin := os.Getenv("RINGGATE_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "ringgate")
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/ringgate")
		cmd.Dir, _ = filepath.Abs(filepath.Join("..", "..", "..", ".."))
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
	cmd.Env = append(os.Environ(), "RINGGATE_DEV_API_KEY="+devKey)
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
		if resp, err := http.Get(baseURL + "/readyz"); err == nil {
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

// TestGeneratedClientUpToDate regenerates the client with the pinned
// oapi-codegen and compares: the committed client is what the generator
// makes of today's openapi.json, and the generator accepts the document.
func TestGeneratedClientUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "client.gen.go")
	cmd := exec.Command("go", "tool", "oapi-codegen", "-package", "rgclient", "-generate", "types,client", "-o", out, "../../../../internal/httpapi/openapi.json")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("client.gen.go")
	if !bytes.Equal(got, want) {
		t.Fatal("client.gen.go is not what oapi-codegen makes of openapi.json: run go generate ./... in sdk/gen/go")
	}
}

func withKey(ctx context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+devKey)
	return nil
}

// withToken is the clientToken security scheme: ?token= and no API key.
func withToken(token string) rgclient.RequestEditorFn {
	return func(ctx context.Context, req *http.Request) error {
		q := req.URL.Query()
		q.Set("token", token)
		req.URL.RawQuery = q.Encode()
		return nil
	}
}

func newClient(t *testing.T) *rgclient.ClientWithResponses {
	c, err := rgclient.NewClientWithResponses(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t *testing.T, c *rgclient.ClientWithResponses, body rgclient.StartVerificationRequest) rgclient.Verification {
	t.Helper()
	key := "gen-go-" + body.Phone
	resp, err := c.StartVerificationWithResponse(context.Background(), &rgclient.StartVerificationParams{IdempotencyKey: &key}, body, withKey)
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON201 == nil {
		t.Fatalf("start: %d %s", resp.StatusCode(), resp.Body)
	}
	return *resp.JSON201
}

// TestGeneratedClientMissedCall drives a missed-call verification through
// the generated client, including the client-token routes and /events,
// whose untyped `const` headers once made every such response fail to
// parse ("can not bind to destination of type: interface").
func TestGeneratedClientMissedCall(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	const phone = "+442079460401"
	ch := rgclient.MissedCall
	v := start(t, c, rgclient.StartVerificationRequest{Phone: phone, Channel: &ch})
	if v.DialNumber == nil || v.ClientToken == "" {
		t.Fatalf("started %+v", v)
	}
	call, err := c.SimulateCallWithResponse(ctx, rgclient.SimCallRequest{From: phone, To: *v.DialNumber})
	if err != nil || call.JSON200 == nil || call.JSON200.VerificationId == nil || *call.JSON200.VerificationId != v.Id {
		t.Fatalf("sim call: %v %s", err, call.Body)
	}
	got, err := c.GetVerificationWithResponse(ctx, v.Id, withKey)
	if err != nil || got.JSON200 == nil {
		t.Fatalf("get: %v", err)
	}
	if got.JSON200.Status != rgclient.VerificationStatusVerified || got.JSON200.ResultCode == nil || *got.JSON200.ResultCode != "000" {
		t.Fatalf("after the call: %+v", got.JSON200)
	}
	st, err := c.GetVerificationStatusWithResponse(ctx, v.Id, withToken(v.ClientToken))
	if err != nil {
		t.Fatalf("status with the client token: %v", err)
	}
	if st.JSON200 == nil || st.JSON200.Status != rgclient.VerificationStatusVerified || st.Headers200 == nil || st.Headers200.AccessControlAllowOrigin == nil || *st.Headers200.AccessControlAllowOrigin != "*" {
		t.Fatalf("status: %d %s", st.StatusCode(), st.Body)
	}
	ev, err := c.StreamVerificationEventsWithResponse(ctx, v.Id, &rgclient.StreamVerificationEventsParams{}, withToken(v.ClientToken))
	if err != nil {
		t.Fatalf("events with the client token: %v", err)
	}
	if ev.StatusCode() != 200 || !strings.Contains(string(ev.Body), "event: verification.verified") {
		t.Fatalf("events: %d %s", ev.StatusCode(), ev.Body)
	}
	last := rgclient.LastEventIDHeader(1)
	ev, err = c.StreamVerificationEventsWithResponse(ctx, v.Id, &rgclient.StreamVerificationEventsParams{LastEventID: &last}, withKey)
	if err != nil || ev.StatusCode() != 200 || strings.Contains(string(ev.Body), "verification.created") {
		t.Fatalf("events after Last-Event-ID 1 with the key: %v %d %s", err, ev.StatusCode(), ev.Body)
	}
}

// TestGeneratedClientTokenRoutes checks and moves on with the client token:
// a flash call checked by caller ID, and a workflow moved to its next step.
func TestGeneratedClientTokenRoutes(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	const phone = "+442079460402"
	ch := rgclient.FlashCall
	v := start(t, c, rgclient.StartVerificationRequest{Phone: phone, Channel: &ch})
	var cli string
	for deadline := time.Now().Add(10 * time.Second); cli == "" && time.Now().Before(deadline); {
		p, err := c.SimPhoneWithResponse(ctx, phone, withKey)
		if err != nil {
			t.Fatal(err)
		}
		if p.JSON200 != nil && len(p.JSON200.Calls) > 0 {
			cli = p.JSON200.Calls[0].From
			break
		}
		time.Sleep(50 * time.Millisecond) // polling the simulator for the call; no event to wait on
	}
	if cli == "" {
		t.Fatal("the phone got no call")
	}
	var body rgclient.CheckRequest
	if err := json.Unmarshal([]byte(`{"cli":"`+cli+`"}`), &body); err != nil {
		t.Fatal(err)
	}
	chk, err := c.CheckVerificationWithResponse(ctx, v.Id, body, withToken(v.ClientToken))
	if err != nil {
		t.Fatalf("check with the client token: %v", err)
	}
	if chk.JSON200 == nil || chk.JSON200.Valid == nil || !*chk.JSON200.Valid {
		t.Fatalf("check: %d %s", chk.StatusCode(), chk.Body)
	}

	w := start(t, c, rgclient.StartVerificationRequest{Phone: "+442079460403", Workflow: &[]rgclient.WorkflowStepRequest{{Channel: rgclient.MissedCall}, {Channel: rgclient.SmsOtp}}})
	next, err := c.NextVerificationStepWithResponse(ctx, w.Id, withToken(w.ClientToken))
	if err != nil {
		t.Fatalf("next with the client token: %v", err)
	}
	if next.JSON200 == nil || next.JSON200.Channel == nil || *next.JSON200.Channel != rgclient.SmsOtp {
		t.Fatalf("next: %d %s", next.StatusCode(), next.Body)
	}
}
