package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

// Every metric the Grafana dashboard and the alert rules query is one a
// running server exports (with a SIP and an HTTP carrier, whose metrics
// exist only then), so that neither silently shows nothing after a rename.
func TestDashboardMetricsExist(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, _ := twilioServer(t, fake, "sms_otp")
	h2 := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AddDevSIP("127.0.0.1:0", "")
		c.Abuse.RateLimits = []config.RateLimit{{Scope: "phone", Max: 1, Window: time.Hour}}
	})
	// Labelled series appear once observed: one verification and its
	// webhooks, and one refused start, observe them.
	rx := newReceiver(t, testSecret)
	h2.verifyNow("+442079460071", rx.URL())
	waitFor(t, 10*time.Second, "the webhook", func() bool { ok, _ := rx.counts(); return ok >= 1 })
	h2.mustStatus(h2.do("POST", "/v1/verifications", h2.key, map[string]any{"phone": "+442079460071", "channel": "missed_call", "callback_url": rx.URL()}), http.StatusTooManyRequests)
	// A carrier error: the fake Twilio refuses a text.
	fake.mu.Lock()
	fake.failWith, fake.failBody = 400, `{"code": 21211, "message": "The 'To' number is not a valid phone number."}`
	fake.mu.Unlock()
	h.mustStatus(h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+442079460072", "channel": "sms_otp", "callback_url": rx.URL()}), http.StatusCreated)
	waitFor(t, 10*time.Second, "the carrier error counted", func() bool {
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `ringgate_carrier_errors_total{carrier="twilio",kind="sms"} 1`)
	})
	exported := map[string]bool{}
	for _, base := range []string{h.url, h2.url} {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)`).FindAllStringSubmatch(string(b), -1) {
			exported[m[1]] = true
			if m[2] == "histogram" {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					exported[m[1]+suf] = true
				}
			}
		}
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err := os.ReadFile("../../deploy/monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs["panel "+p.Title] += tg.Expr + " "
		}
	}
	rules, err := os.ReadFile("../../deploy/monitoring/ringgate-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs["alert rules"] = string(rules)
	metric := regexp.MustCompile(`\bringgate_[a-z_]+`)
	seen := 0
	for where, e := range exprs {
		for _, m := range metric.FindAllString(e, -1) {
			seen++
			if !exported[m] && !strings.HasSuffix(m, "_") {
				t.Errorf("%s queries %s, which /metrics does not export", where, m)
			}
		}
	}
	if len(dash.Panels) < 8 || seen < 20 {
		t.Errorf("dashboard has %d panels and %d metric references; expected the full set", len(dash.Panels), seen)
	}
}
