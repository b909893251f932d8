package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/config"
)

// Attacks on outbound calls: who may answer an answer_call, and what a
// call of a step that is over can still do. Each plays the attacker
// through a real dev server: the HTTP API, and the simulator's phones as
// the far end.

// callCause is why the phone's i-th call ended, as the simulator says.
func (h *harness) callCause(number string, i int) string {
	h.t.Helper()
	var p struct {
		Calls []struct {
			Cause string `json:"cause"`
		} `json:"calls"`
	}
	r := h.do("GET", "/sim/phones/"+number, "", nil)
	if err := json.Unmarshal(r.body, &p); err != nil || len(p.Calls) <= i {
		h.t.Fatalf("phone %s: %v %s", number, err, r.body)
	}
	return p.Calls[i].Cause
}

// waitEnded waits until the verification is no longer pending.
func (h *harness) waitEnded(id string) map[string]any {
	h.t.Helper()
	var v map[string]any
	waitFor(h.t, 20*time.Second, "the verification to end", func() bool { v = h.get(id); return v["status"] != "pending" })
	return v
}

// A switched-off phone's voicemail answers the call. answer_call must not
// take that for the holder of the number: it verifies only an answer
// judged human, and fails with reason machine.
func TestAttackVoicemailAnswersAnsweredCall(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	t.Run("magic machine number", func(t *testing.T) {
		// The simulator's answering machine picks up at once.
		v := h.startChannel(map[string]any{"phone": "+441134960004", "channel": "answer_call", "callback_url": rx.URL()})
		got := h.waitEnded(v["id"].(string))
		if got["status"] != "failed" || got["reason"] != "machine" {
			t.Fatalf("voicemail answered an answer_call: status %v reason %v, want failed/machine", got["status"], got["reason"])
		}
	})
	t.Run("ordinary phone answered by its voicemail", func(t *testing.T) {
		const to = "+447911123471"
		v := h.startChannel(map[string]any{"phone": to, "channel": "answer_call", "callback_url": rx.URL()})
		id := v["id"].(string)
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "machine"}), http.StatusOK)
		got := h.waitEnded(id)
		if got["status"] != "failed" || got["reason"] != "machine" {
			t.Fatalf("voicemail answered an answer_call: status %v reason %v, want failed/machine", got["status"], got["reason"])
		}
		if slices.Contains(hookTypes(rx, id), "verification.verified") {
			t.Fatalf("webhooks %v include verification.verified", hookTypes(rx, id))
		}
	})
}

// After POST …/next the call of the step that is over must be hung up on
// the carrier: it must not ring on, be answered, speak a code, or verify.
func TestAttackSupersededCallRingsOn(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = 0 })
	t.Run("voice_otp then sms_otp", func(t *testing.T) {
		const to = "+447911123472"
		v := h.startChannel(map[string]any{
			"phone": to, "callback_url": h.url + "/dev/webhooks",
			"workflow": []map[string]any{{"channel": "voice_otp"}, {"channel": "sms_otp"}},
		})
		id := v["id"].(string)
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		next := time.Now()
		h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
		// The simulator saw the network hang the call up: it ends without
		// anyone touching the phone.
		p := h.waitPhone(to, "the superseded call to be hung up", func(p phoneView) bool { return p.Calls[0].State == "ended" })
		t.Logf("the superseded call was hung up within %v of /next", time.Since(next))
		sms := h.textCode(to, 1)
		if c := h.callCause(to, 0); c != "canceled" || len(p.Calls[0].Transcript) != 0 {
			t.Errorf("superseded call ended with cause %q, transcript %q; want canceled, nothing", c, p.Calls[0].Transcript)
		}
		// Answering it now finds no call, and it speaks nothing.
		r := h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"})
		if r.status == http.StatusOK {
			t.Fatalf("the superseded call could still be answered")
		}
		if tr := h.phone(to).Calls[0].Transcript; len(tr) != 0 {
			t.Fatalf("the superseded call spoke %q", tr)
		}
		ok := h.mustStatus(h.check(id, map[string]any{"code": sms}), http.StatusOK)
		if ok["valid"] != true || ok["verified_channel"] != "sms_otp" {
			t.Fatalf("the text's code: %v", ok)
		}
	})
	t.Run("a code the old call spoke does not verify", func(t *testing.T) {
		const to = "+447911123473"
		v := h.startChannel(map[string]any{
			"phone": to, "callback_url": h.url + "/dev/webhooks",
			"workflow": []map[string]any{{"channel": "voice_otp"}, {"channel": "sms_otp"}},
		})
		id := v["id"].(string)
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"}), http.StatusOK)
		p := h.waitPhone(to, "the code spoken", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 1 })
		spoken := spokenCode(t, p.Calls[0].Transcript[0])
		h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
		h.waitPhone(to, "the answered superseded call to be hung up", func(p phoneView) bool { return p.Calls[0].State == "ended" })
		// The old call can no longer repeat its code.
		if r := h.do("POST", "/sim/phones/"+to+"/dtmf", "", map[string]string{"digits": "1"}); r.status == http.StatusOK {
			t.Fatalf("the superseded call still took keys")
		}
		sms := h.textCode(to, 1)
		if sms == spoken {
			t.Skip("the text drew the same code as the call (1 in a million)")
		}
		r := h.check(id, map[string]any{"code": spoken})
		if body := r.json(t); r.status != http.StatusOK || body["valid"] != false || body["status"] != "pending" {
			t.Fatalf("the superseded call's code: %d %s", r.status, r.body)
		}
		ok := h.mustStatus(h.check(id, map[string]any{"code": sms}), http.StatusOK)
		if ok["valid"] != true {
			t.Fatalf("the text's code: %v", ok)
		}
	})
	t.Run("answer_call then sms_otp", func(t *testing.T) {
		const to = "+447911123474"
		v := h.startChannel(map[string]any{
			"phone": to, "callback_url": h.url + "/dev/webhooks",
			"workflow": []map[string]any{{"channel": "answer_call"}, {"channel": "sms_otp"}},
		})
		id := v["id"].(string)
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
		h.waitPhone(to, "the superseded call to be hung up", func(p phoneView) bool { return p.Calls[0].State == "ended" })
		h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"})
		if got := h.get(id); got["status"] != "pending" || got["channel"] != "sms_otp" {
			t.Fatalf("after the old call: %v", got)
		}
	})
	t.Run("canceled while ringing", func(t *testing.T) {
		const to = "+447911123475"
		v := h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "callback_url": h.url + "/dev/webhooks"})
		id := v["id"].(string)
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/cancel", h.key, nil), http.StatusOK)
		h.waitPhone(to, "the canceled verification's call to be hung up", func(p phoneView) bool { return p.Calls[0].State == "ended" })
	})
}

// Over a SIP trunk a bare 200 OK is all an answer says, and voicemail
// sends one too: unless the operator vouches for the trunk (trust_answer),
// answer_call over SIP must not verify. sipp plays the far end and
// answers at once, as voicemail does.
func TestAttackVoicemailAnswersAnsweredCallSIP(t *testing.T) {
	t.Parallel()
	sipptest.Require(t)
	port := sipptest.FreePort(t)
	sipptest.Start(t, sippScenarios+"uas_answer.xml", port, 15*time.Second)
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.AddDevSIP("", fmt.Sprintf("sip:127.0.0.1:%d", port)) })
	v := h.startChannel(map[string]any{"phone": "+447911123476", "channel": "answer_call"})
	got := h.waitEnded(v["id"].(string))
	if got["status"] == "verified" {
		t.Fatalf("a bare 200 OK verified answer_call: %v", got)
	}
	if got["status"] != "failed" || got["reason"] != "carrier_error" {
		t.Fatalf("answer_call over an untrusted SIP trunk: status %v reason %v, want failed/carrier_error", got["status"], got["reason"])
	}
}

// waitTwilio waits for the fake Twilio's first request whose path ends
// with suffix.
func waitTwilio(t *testing.T, fake *fakeProvider, suffix string) map[string]string {
	t.Helper()
	var got map[string]string
	waitFor(t, 10*time.Second, "a request to Twilio "+suffix, func() bool {
		for _, r := range fake.requests() {
			if strings.HasSuffix(r["_path"], suffix) {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// Voicemail answers an answer_call placed through Twilio: Twilio's
// correctly signed webhooks say AnsweredBy=machine_start, and the
// verification must fail with reason machine, not verify.
func TestAttackVoicemailAnswersAnsweredCallTwilio(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	h, _ := twilioServer(t, fake, "answer_call")
	v := h.startChannel(map[string]any{"phone": "+447911123477", "channel": "answer_call"})
	call := waitTwilio(t, fake, "/Calls.json")
	const sid = "CA0123456789abcdef0123456789abcdef"
	st := func(status string) url.Values {
		return url.Values{"CallSid": {sid}, "AccountSid": {twSID}, "CallStatus": {status}, "AnsweredBy": {"machine_start"}, "Direction": {"outbound-api"}}
	}
	postTwilio(t, call["StatusCallback"], st("ringing"), true)
	postTwilio(t, call["StatusCallback"], st("in-progress"), true)
	if call["Url"] != "" { // the answer webhook, after machine detection
		if code, body := postTwilio(t, call["Url"], url.Values{"CallSid": {sid}, "AccountSid": {twSID}, "AnsweredBy": {"machine_start"}}, true); code != http.StatusOK {
			t.Fatalf("answer webhook: %d %s", code, body)
		}
	}
	postTwilio(t, call["StatusCallback"], st("completed"), true)
	got := h.waitEnded(v["id"].(string))
	if got["status"] != "failed" || got["reason"] != "machine" {
		t.Fatalf("voicemail answered an answer_call through Twilio: status %v reason %v, want failed/machine", got["status"], got["reason"])
	}
}

// After /next the Twilio call of the voice step is completed on Twilio
// (the fake sees Status=completed on the CallSid), and a code spoken by
// that call if it were answered late cannot verify.
func TestAttackSupersededCallRingsOnTwilio(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	addr := freeAddr(t)
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.HTTP, c.PublicURL = addr, "http://"+addr
		c.Abuse.ResendInterval = 0 // "send me a text instead" at once
		c.Carriers = append(c.Carriers, twilioCarrier("twilio", fake.srv.URL, ""))
		c.Routes = append([]config.Route{{Channel: "voice_otp", Carriers: []string{"twilio"}}, {Channel: "sms_otp", Carriers: []string{"twilio"}}}, c.Routes...)
	})
	const to = "+447911123478"
	v := h.startChannel(map[string]any{
		"phone": to, "workflow": []map[string]any{{"channel": "voice_otp"}, {"channel": "sms_otp"}},
	})
	id := v["id"].(string)
	call := waitTwilio(t, fake, "/Calls.json")
	const sid = "CA0123456789abcdef0123456789abcdef"
	postTwilio(t, call["StatusCallback"], url.Values{"CallSid": {sid}, "AccountSid": {twSID}, "CallStatus": {"ringing"}}, true)
	// Twilio has the call (call.placed is recorded) before the user moves on.
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	deadline := time.After(10 * time.Second)
	for placed := false; !placed; {
		select {
		case ev, ok := <-stream.events:
			if !ok {
				t.Fatal("stream ended before call.placed")
			}
			placed = ev.Event == "call.placed"
		case <-deadline:
			t.Fatal("no call.placed within 10s")
		}
	}
	h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
	hang := waitTwilio(t, fake, "/Calls/"+sid+".json")
	if hang["Status"] != "completed" {
		t.Fatalf("hang-up request %v, want Status=completed", hang)
	}
	text := waitTwilio(t, fake, "/Messages.json")
	// A late (or replayed) answer webhook of the old call: whatever code it
	// speaks belongs to the step that is over.
	code, doc := postTwilio(t, call["Url"], url.Values{"CallSid": {sid}, "AccountSid": {twSID}, "AnsweredBy": {"human"}}, true)
	said := regexp.MustCompile(`<Say[^>]*>([^<]*)</Say>`).FindStringSubmatch(doc)
	if said == nil {
		said = []string{"", ""}
	}
	if spoken := regexp.MustCompile(`(\d[ ,.]+){3,9}\d`).FindString(said[1]); code == http.StatusOK && spoken != "" {
		old := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, spoken)
		if old != sixDigits.FindString(text["Body"]) {
			r := h.check(id, map[string]any{"code": old})
			if body := r.json(t); body["valid"] != false || body["status"] != "pending" {
				t.Fatalf("the old call's code %q (from %s): %d %s", old, doc, r.status, r.body)
			}
		}
	}
	postTwilio(t, call["StatusCallback"], url.Values{"CallSid": {sid}, "AccountSid": {twSID}, "CallStatus": {"completed"}}, true)
	if got := h.get(id); got["status"] != "pending" || got["channel"] != "sms_otp" {
		t.Fatalf("after the old call's events: %v", got)
	}
	ok := h.mustStatus(h.check(id, map[string]any{"code": sixDigits.FindString(text["Body"])}), http.StatusOK)
	if ok["valid"] != true {
		t.Fatalf("the text's code: %v", ok)
	}
}
