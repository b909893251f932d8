package server_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/config"
)

const sippScenarios = "../carrier/sip/testdata/"

// A missed-call verification is verified by a real SIP INVITE from the
// caller to the dial number, rejected with 603 on the wire.
func TestSIPMissedCallVerified(t *testing.T) {
	t.Parallel()
	sipptest.Require(t)
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.AddDevSIP("127.0.0.1:0", "") })
	rx := newReceiver(t, testSecret)
	v := h.start("+447911123456", rx.URL(), nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	addr := h.srv.SIPAddrs()["sip"][0]

	run := sipptest.Start(t, sippScenarios+"uac_reject.xml", 0, 10*time.Second,
		"-key", "from", "+447911123456", "-key", "to", dial, addr)
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	var got []string
	for _, m := range run.Messages() {
		if !m.Sent {
			got = append(got, m.Start)
		}
	}
	if !slices.Contains(got, "SIP/2.0 603 Decline") || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "SIP/2.0 2") }) {
		t.Fatalf("sipp received %q, want 603 Decline and never 2xx", got)
	}
	v = h.waitStatus(id, "verified")
	if v["result_code"] != "000" {
		t.Fatalf("after the SIP call: %v", v)
	}
	waitFor(t, 5*time.Second, "verified webhook", func() bool { return slices.Contains(hookTypes(rx, id), "verification.verified") })
}

// A flash call goes out as an INVITE whose From carries the code-bearing
// caller ID; it is cancelled on ringing, and that caller ID verifies.
func TestSIPFlashCallCLI(t *testing.T) {
	t.Parallel()
	sipptest.Require(t)
	port := sipptest.FreePort(t)
	run := sipptest.Start(t, sippScenarios+"uas_cancel.xml", port, 15*time.Second)
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.AddDevSIP("", fmt.Sprintf("sip:127.0.0.1:%d", port)) })
	const to = "+447911123403"
	v := h.startChannel(map[string]any{"phone": to, "channel": "flash_call"})
	id := v["id"].(string)
	re := regexp.MustCompile(v["cli_filter"].(string))
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	var inv, cancel string
	for _, m := range run.Messages() {
		switch {
		case !m.Sent && strings.HasPrefix(m.Start, "INVITE sip:"+to+"@"):
			inv = m.Header("From")
		case !m.Sent && strings.HasPrefix(m.Start, "CANCEL"):
			cancel = m.Start
		}
	}
	cli := regexp.MustCompile(`sip:(\+[0-9]+)@`).FindStringSubmatch(inv)
	if cli == nil || !re.MatchString(cli[1]) {
		t.Fatalf("INVITE From %q: no caller ID matching %s", inv, re)
	}
	if cancel == "" {
		t.Errorf("no CANCEL crossed the wire")
	}
	ok := h.mustStatus(h.check(id, map[string]any{"cli": cli[1]}), http.StatusOK)
	if ok["valid"] != true || ok["status"] != "verified" || ok["verified_channel"] != "flash_call" {
		t.Fatalf("check with the INVITE's caller ID: %v", ok)
	}
}

// An answered call over SIP: 200 OK, ACK, BYE; on a trunk whose operator
// set trust_answer, the answer verifies.
func TestSIPAnswerCall(t *testing.T) {
	t.Parallel()
	sipptest.Require(t)
	port := sipptest.FreePort(t)
	run := sipptest.Start(t, sippScenarios+"uas_answer.xml", port, 15*time.Second)
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AddDevSIP("", fmt.Sprintf("sip:127.0.0.1:%d", port))
		c.Carriers[len(c.Carriers)-1].SIP.TrustAnswer = true // the operator vouches for the trunk's answers
	})
	v := h.startChannel(map[string]any{"phone": "+447911123404", "channel": "answer_call"})
	got := h.waitStatus(v["id"].(string), "verified")
	if got["verified_channel"] != "answer_call" {
		t.Fatalf("after answer: %v", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	var sent []string
	for _, m := range run.Messages() {
		if !m.Sent {
			sent = append(sent, strings.Fields(m.Start)[0])
		}
	}
	if !slices.Equal(sent, []string{"INVITE", "ACK", "BYE"}) {
		t.Errorf("ringgate sent %v, want INVITE, ACK, BYE", sent)
	}
}

// A trunk that sends national numbers: its country normalises the caller,
// and its own reject_status (486) overrides the global 603.
func TestSIPTrunkCountryAndRejectStatus(t *testing.T) {
	t.Parallel()
	sipptest.Require(t)
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Carriers = append(c.Carriers, config.Carrier{Name: "gb-trunk", Type: "sip", SIP: config.SIP{
			Listen: []string{"127.0.0.1:0"}, Country: "GB", TrustedNetworks: []string{"127.0.0.0/8"}, TrustUDP: true, RejectStatus: 486,
		}})
	})
	v := h.start("+447911123457", "", nil)
	id, dial := v["id"].(string), v["dial_number"].(string)
	sc := t.TempDir() + "/uac_486.xml"
	b, err := os.ReadFile(sippScenarios + "uac_reject.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sc, []byte(strings.Replace(string(b), `response="603"`, `response="486"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := sipptest.Start(t, sc, 0, 10*time.Second, "-key", "from", "07911123457", "-key", "to", dial, h.srv.SIPAddrs()["gb-trunk"][0])
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp (expects 486): %v", err)
	}
	if got := h.waitStatus(id, "verified"); got["result_code"] != "000" {
		t.Fatalf("after a national-format call: %v", got)
	}
}
