package sdktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

var benchPhone atomic.Int64

func nextPhone() string { return fmt.Sprintf("+4479%08d", 10000000+benchPhone.Add(1)) }

// BenchmarkStart compares one SMS start through the Twilio compat layer
// (Basic auth, form, SID mapping) with the same start on the native API,
// both over loopback HTTP to one in-process ringgate dev: the ratio is
// the compat layer's cost.
func BenchmarkStart(b *testing.B) {
	srv := startDev(b, func(c *config.Config) {
		c.Log.Level = "error"
		// The benchmark starts thousands in one prefix; the limits are not
		// what it measures.
		c.Abuse.RateLimits = []config.RateLimit{{Scope: "app", Max: 1 << 30, Window: time.Hour}}
		c.Abuse.Pumping.MinStarts = 0
	})
	client := &http.Client{}
	post := func(b *testing.B, req *http.Request, want int) {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s: %d", req.URL.Path, resp.StatusCode)
		}
	}
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("POST", srv.URL()+"/v1/verifications",
				strings.NewReader(`{"phone":"`+nextPhone()+`","channel":"sms_otp"}`))
			req.Header.Set("Authorization", "Bearer "+apiKey)
			req.Header.Set("Content-Type", "application/json")
			post(b, req, 201)
		}
	})
	req, _ := http.NewRequest("POST", srv.URL()+"/v2/Services", strings.NewReader(form("FriendlyName", "Bench")))
	req.SetBasicAuth(accountSID, authToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var sid string
	{
		var m map[string]any
		_ = jsonDecode(resp, &m)
		sid, _ = m["sid"].(string)
	}
	b.Run("twilio", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("POST", srv.URL()+"/v2/Services/"+sid+"/Verifications",
				strings.NewReader(form("To", nextPhone(), "Channel", "sms")))
			req.SetBasicAuth(accountSID, authToken)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			post(b, req, 201)
		}
	})
}
