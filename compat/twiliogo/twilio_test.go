package twiliogo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	verify "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "Tok0123456789abcdefghijklmnopqrs"
)

// startDev runs ringgate dev in-process with the demo app's Twilio
// credentials pinned, as RINGGATE_DEV_TWILIO_* would.
func startDev(t *testing.T) string {
	return startDevServer(t).URL()
}

func startDevServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Log.Level = "warn"
	env := func(k string) (string, bool) {
		switch k {
		case server.EnvDevTwilioAccountSID:
			return accountSID, true
		case server.EnvDevTwilioAuthToken:
			return authToken, true
		}
		return "", false
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

// toRinggate is the one change an app makes: the client's HTTP transport
// sends what it would send to *.twilio.com to ringgate instead.
type toRinggate struct{ base *url.URL }

func (t toRinggate) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
	r.Host = t.base.Host
	return http.DefaultTransport.RoundTrip(r)
}

func newClient(t *testing.T, base, user, pass string) *twilio.RestClient {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return twilio.NewRestClientWithParams(twilio.ClientParams{
		Client: &client.Client{
			Credentials: client.NewCredentials(user, pass),
			HTTPClient:  &http.Client{Transport: toRinggate{u}, Timeout: 10 * time.Second},
		},
	})
}

// phoneCode reads the last code texted to a simulated phone.
func phoneCode(t *testing.T, base, number string) string {
	t.Helper()
	re := regexp.MustCompile(`\b(\d{6})\b`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/sim/phones/" + url.PathEscape(number))
		if err != nil {
			t.Fatal(err)
		}
		var ph struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ph)
		resp.Body.Close()
		if err == nil && len(ph.Messages) > 0 {
			if m := re.FindStringSubmatch(ph.Messages[len(ph.Messages)-1].Text); m != nil {
				return m[1]
			}
		}
		time.Sleep(50 * time.Millisecond) // polling the phone until the text arrives
	}
	t.Fatalf("no code reached %s", number)
	return ""
}

func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		t.Fatalf("want a *client.TwilioRestError, got %T %v", err, err)
	}
	return te
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestTwilioGoScenario is the scenario with the official Go client.
func TestTwilioGoScenario(t *testing.T) {
	base := startDev(t)
	c := newClient(t, base, accountSID, authToken)

	svc, err := c.VerifyV2.CreateService(&verify.CreateServiceParams{FriendlyName: ptr("Acme"), CodeLength: ptr(6)})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	if !strings.HasPrefix(*svc.Sid, "VA") || len(*svc.Sid) != 34 || *svc.FriendlyName != "Acme" || svc.CodeLength != 6 {
		t.Fatalf("service: %+v", svc)
	}
	got, err := c.VerifyV2.FetchService(*svc.Sid)
	if err != nil || *got.Sid != *svc.Sid {
		t.Fatalf("fetch service: %v %+v", err, got)
	}

	const to = "+447911123456"
	v, err := c.VerifyV2.CreateVerification(*svc.Sid, (&verify.CreateVerificationParams{}).SetTo(to).SetChannel("sms"))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if *v.Status != "pending" || !strings.HasPrefix(*v.Sid, "VE") || *v.To != to || *v.Channel != "sms" {
		t.Fatalf("verification: %+v", v)
	}
	code := phoneCode(t, base, to)

	chk, err := c.VerifyV2.CreateVerificationCheck(*svc.Sid, (&verify.CreateVerificationCheckParams{}).SetTo(to).SetCode(wrongCode(code)))
	if err != nil {
		t.Fatalf("wrong check: %v", err)
	}
	if *chk.Status != "pending" || *chk.Valid {
		t.Fatalf("wrong check: status %s valid %v", *chk.Status, *chk.Valid)
	}
	chk, err = c.VerifyV2.CreateVerificationCheck(*svc.Sid, (&verify.CreateVerificationCheckParams{}).SetVerificationSid(*v.Sid).SetCode(code))
	if err != nil {
		t.Fatalf("right check: %v", err)
	}
	if *chk.Status != "approved" || !*chk.Valid || *chk.Sid != *v.Sid {
		t.Fatalf("right check: status %s valid %v", *chk.Status, *chk.Valid)
	}
	f, err := c.VerifyV2.FetchVerification(*svc.Sid, *v.Sid)
	if err != nil || *f.Status != "approved" {
		t.Fatalf("fetch: %v %+v", err, f)
	}

	// Cancel another.
	const other = "+447911123457"
	v2, err := c.VerifyV2.CreateVerification(*svc.Sid, (&verify.CreateVerificationParams{}).SetTo(other).SetChannel("call"))
	if err != nil {
		t.Fatalf("start a call: %v", err)
	}
	up, err := c.VerifyV2.UpdateVerification(*svc.Sid, *v2.Sid, (&verify.UpdateVerificationParams{}).SetStatus("canceled"))
	if err != nil || *up.Status != "canceled" {
		t.Fatalf("cancel: %v %+v", err, up)
	}

	// A 404 is the SDK's error with code 20404.
	_, err = c.VerifyV2.FetchVerification(*svc.Sid, "VE00000000000000000000000000000000")
	if te := restError(t, err); te.Code != 20404 || te.Status != 404 {
		t.Fatalf("unknown verification: %+v", te)
	}

	// Five wrong checks end it; the sixth is 60202.
	const third = "+447911123458"
	v3, err := c.VerifyV2.CreateVerification(*svc.Sid, (&verify.CreateVerificationParams{}).SetTo(third).SetChannel("sms"))
	if err != nil {
		t.Fatalf("start a third: %v", err)
	}
	code3 := phoneCode(t, base, third)
	for i := 1; i <= 5; i++ {
		chk, err := c.VerifyV2.CreateVerificationCheck(*svc.Sid, (&verify.CreateVerificationCheckParams{}).SetVerificationSid(*v3.Sid).SetCode(wrongCode(code3)))
		if err != nil {
			t.Fatalf("wrong check %d: %v", i, err)
		}
		want := "pending"
		if i == 5 {
			want = "max_attempts_reached"
		}
		if *chk.Status != want || *chk.Valid {
			t.Fatalf("wrong check %d: status %s valid %v, want %s", i, *chk.Status, *chk.Valid, want)
		}
	}
	_, err = c.VerifyV2.CreateVerificationCheck(*svc.Sid, (&verify.CreateVerificationCheckParams{}).SetVerificationSid(*v3.Sid).SetCode(code3))
	if te := restError(t, err); te.Code != 60202 || te.Status != 429 {
		t.Fatalf("sixth check: %+v", te)
	}
}

// TestTwilioGoAuth: a wrong Auth Token is the SDK's 20003, and an API key
// of another app does not reach this app's Service.
func TestTwilioGoAuth(t *testing.T) {
	base := startDev(t)
	bad := newClient(t, base, accountSID, strings.Repeat("x", 32))
	_, err := bad.VerifyV2.CreateService(&verify.CreateServiceParams{FriendlyName: ptr("Acme")})
	if te := restError(t, err); te.Code != 20003 || te.Status != 401 {
		t.Fatalf("wrong token: %+v", te)
	}
}

// TestTwilioGoAPIKey: the Go client with the app's API key SID and secret
// (what `ringgate dev` prints), and ringgate's own signed webhooks still
// report a verification started through the Twilio API.
func TestTwilioGoAPIKey(t *testing.T) {
	srv := startDevServer(t)
	cc := srv.Dev().Compat
	c := newClient(t, srv.URL(), cc.TwilioKeySID, cc.TwilioKeySecret)
	svc, err := c.VerifyV2.CreateService(&verify.CreateServiceParams{FriendlyName: ptr("Keyed")})
	if err != nil {
		t.Fatalf("create service with an API key: %v", err)
	}
	const to = "+447911123459"
	v, err := c.VerifyV2.CreateVerification(*svc.Sid, (&verify.CreateVerificationParams{}).SetTo(to).SetChannel("sms"))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	chk, err := c.VerifyV2.CreateVerificationCheck(*svc.Sid, (&verify.CreateVerificationCheckParams{}).SetVerificationSid(*v.Sid).SetCode(phoneCode(t, srv.URL(), to)))
	if err != nil || *chk.Status != "approved" {
		t.Fatalf("check: %v %+v", err, chk)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(srv.URL() + "/dev/webhooks")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "verification.verified") && strings.Contains(string(b), to) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signed verification.verified webhook for %s in the dev inbox: %s", to, b)
		}
		time.Sleep(50 * time.Millisecond) // polling the inbox until the dispatcher delivers
	}
}

func ptr[T any](v T) *T { return &v }
