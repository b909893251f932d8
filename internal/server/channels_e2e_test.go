package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/verify"
)

// These tests drive every channel as a customer would: the HTTP API to
// start and check, the simulator's phones to see what reached the handset
// and to act as its owner, and a webhook receiver that checks signatures.

// startChannel begins a verification with body fields and returns its JSON.
func (h *harness) startChannel(body map[string]any) map[string]any {
	h.t.Helper()
	return h.mustStatus(h.do("POST", "/v1/verifications", h.key, body), http.StatusCreated)
}

// phoneView is a simulated phone as GET /sim/phones/{number} shows it.
type phoneView struct {
	Number string `json:"number"`
	Calls  []struct {
		ID         string   `json:"id"`
		From       string   `json:"from"`
		To         string   `json:"to"`
		State      string   `json:"state"`
		Transcript []string `json:"transcript"`
	} `json:"calls"`
	Messages []struct {
		From string `json:"from"`
		Text string `json:"text"`
	} `json:"messages"`
}

func (h *harness) phone(number string) phoneView {
	h.t.Helper()
	r := h.do("GET", "/sim/phones/"+number, "", nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("GET /sim/phones/%s: %d %s", number, r.status, r.body)
	}
	var p phoneView
	if err := json.Unmarshal(r.body, &p); err != nil {
		h.t.Fatalf("phone view: %v: %s", err, r.body)
	}
	return p
}

// waitPhone polls the phone until ok says it shows what the test waits for
// (long enough for a 10 s workflow step to time out on a loaded machine).
func (h *harness) waitPhone(number, what string, ok func(p phoneView) bool) phoneView {
	h.t.Helper()
	var p phoneView
	waitFor(h.t, 25*time.Second, what, func() bool { p = h.phone(number); return ok(p) })
	return p
}

// textCode waits for the phone's n-th text and returns the code in it.
func (h *harness) textCode(number string, n int) string {
	h.t.Helper()
	p := h.waitPhone(number, "a text", func(p phoneView) bool { return len(p.Messages) >= n })
	return codeRE.FindString(p.Messages[n-1].Text)
}

func (h *harness) get(id string) map[string]any {
	h.t.Helper()
	return h.mustStatus(h.do("GET", "/v1/verifications/"+id, h.key, nil), http.StatusOK)
}

func (h *harness) waitStatus(id, status string) map[string]any {
	h.t.Helper()
	var v map[string]any
	waitFor(h.t, 15*time.Second, "status "+status, func() bool { v = h.get(id); return v["status"] == status })
	return v
}

func (h *harness) check(id string, body map[string]any) response {
	h.t.Helper()
	return h.do("POST", "/v1/verifications/"+id+"/check", h.key, body)
}

var codeRE = regexp.MustCompile(`\d{4,10}`)

// spokenCode reads a code spoken digit by digit ("1 2 3 4 5 6").
func spokenCode(t *testing.T, line string) string {
	t.Helper()
	m := regexp.MustCompile(`(\d[ ,.]+){3,9}\d`).FindString(line)
	if m == "" {
		t.Fatalf("no spoken code in %q", line)
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m)
}

// wrong returns a code of the same length that differs in its last digit.
func wrong(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

func hookTypes(rx *receiver, id string) []string { return types(rx.of(id)) }

func TestFlashCallVerifiedByCLI(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const to = "+447911123401"
	v := h.startChannel(map[string]any{"phone": to, "channel": "flash_call", "callback_url": rx.URL()})
	id := v["id"].(string)
	filter, _ := v["cli_filter"].(string)
	if v["code_length"] != float64(6) || filter == "" || v["interception_timeout_s"] != float64(60) || v["dial_number"] != nil {
		t.Fatalf("flash start: %v", v)
	}
	re, err := regexp.Compile(filter)
	if err != nil {
		t.Fatalf("cli_filter %q: %v", filter, err)
	}
	// The phone sees a call from a number the filter matches, dropped
	// before anyone answered.
	p := h.waitPhone(to, "a flash call that ended", func(p phoneView) bool {
		return len(p.Calls) == 1 && p.Calls[0].State == "ended"
	})
	cli := p.Calls[0].From
	if !re.MatchString(cli) {
		t.Fatalf("caller ID %q does not match cli_filter %q", cli, filter)
	}
	// A wrong code counts; the right caller ID verifies.
	bad := h.mustStatus(h.check(id, map[string]any{"code": wrong(cli[len(cli)-6:])}), http.StatusOK)
	if bad["valid"] != false || bad["attempts_remaining"] != float64(4) || bad["status"] != "pending" {
		t.Fatalf("wrong code: %v", bad)
	}
	ok := h.mustStatus(h.check(id, map[string]any{"cli": cli}), http.StatusOK)
	if ok["valid"] != true || ok["status"] != "verified" || ok["result_code"] != "000" || ok["verified_channel"] != "flash_call" {
		t.Fatalf("right cli: %v", ok)
	}
	// The code is burned: checking again is refused.
	h.mustStatus(h.check(id, map[string]any{"cli": cli}), http.StatusConflict)
	waitFor(t, 5*time.Second, "verified webhook", func() bool { return slices.Contains(hookTypes(rx, id), "verification.verified") })
	for _, hk := range rx.of(id) {
		if hk.Type == "verification.verified" && hk.Data["verified_channel"] != "flash_call" {
			t.Errorf("verified webhook lacks the channel: %v", hk.Data)
		}
	}
}

func TestAnswerCall(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	t.Run("answered", func(t *testing.T) {
		const to = "+447911123402"
		v := h.startChannel(map[string]any{"phone": to, "channel": "answer_call", "callback_url": rx.URL()})
		id := v["id"].(string)
		if v["caller_id"] == nil || v["code_length"] != nil {
			t.Fatalf("answer_call start: %v", v)
		}
		h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
		h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"}), http.StatusOK)
		got := h.waitStatus(id, "verified")
		if got["verified_channel"] != "answer_call" || got["result_code"] != "000" {
			t.Fatalf("after answer: %v", got)
		}
		// We hang up at once: the phone's call ends by itself.
		h.waitPhone(to, "the call to end", func(p phoneView) bool { return p.Calls[0].State == "ended" })
		h.mustStatus(h.check(id, map[string]any{"code": "1234"}), http.StatusConflict)
	})
	t.Run("never answered", func(t *testing.T) {
		v := h.startChannel(map[string]any{"phone": "+441134960002", "channel": "answer_call", "timeout_s": 10, "callback_url": rx.URL()})
		id := v["id"].(string)
		var got map[string]any
		waitFor(t, 20*time.Second, "the verification to end", func() bool { got = h.get(id); return got["status"] != "pending" })
		if got["result_code"] != "001" || got["reason"] != "no_answer" {
			t.Fatalf("unanswered call: %v", got)
		}
	})
}

func TestVoiceOTP(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const to = "+447911123403"
	v := h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "callback_url": rx.URL()})
	id := v["id"].(string)
	if v["code_length"] != float64(6) {
		t.Fatalf("voice start: %v", v)
	}
	h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 && p.Calls[0].State == "ringing" })
	h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"}), http.StatusOK)
	p := h.waitPhone(to, "the code spoken", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 1 })
	first := p.Calls[0].Transcript[0]
	code := spokenCode(t, first)
	if len(code) != 6 || !strings.Contains(strings.ToLower(first), "press 1") {
		t.Fatalf("prompt %q: code %q", first, code)
	}
	// "1" repeats the code.
	h.mustStatus(h.do("POST", "/sim/phones/"+to+"/dtmf", "", map[string]string{"digits": "1"}), http.StatusOK)
	p = h.waitPhone(to, "the code repeated", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 2 })
	if again := spokenCode(t, p.Calls[0].Transcript[1]); again != code {
		t.Fatalf("repeat said %q, first %q", again, code)
	}
	h.mustStatus(h.do("POST", "/sim/phones/"+to+"/hangup", "", nil), http.StatusOK)
	// The simulator reports the hang-up asynchronously: follow the stream
	// until call.ended is recorded, then the verification is still waiting
	// for the code the call spoke.
	stream, code2 := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	if code2 != http.StatusOK {
		t.Fatalf("stream %d", code2)
	}
	var kinds []string
	deadline := time.After(10 * time.Second)
	for !slices.Contains(kinds, "call.ended") {
		select {
		case ev, ok := <-stream.events:
			if !ok {
				t.Fatalf("stream ended before call.ended: %v", kinds)
			}
			kinds = append(kinds, ev.Event)
		case <-deadline:
			t.Fatalf("no call.ended within 10s: %v", kinds)
		}
	}
	if got := h.get(id); got["status"] != "pending" {
		t.Fatalf("after hang-up: %v", got)
	}
	ok := h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true || ok["verified_channel"] != "voice_otp" {
		t.Fatalf("check: %v", ok)
	}
	// The stream recorded the call's progress but never the spoken code.
	for _, e := range stream.collect(t, 5*time.Second) {
		kinds = append(kinds, e.Event)
	}
	for _, want := range []string{"verification.created", "call.placed", "call.ringing", "call.answered", "call.ended", "verification.verified"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("stream %v lacks %s", kinds, want)
		}
	}
}

func TestSMSOTPLocaleMetadataAndReceipts(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const to = "+447911123404"
	v := h.startChannel(map[string]any{
		"phone": to, "channel": "sms_otp", "locale": "fr", "code_length": 8, "callback_url": rx.URL(),
		"metadata": map[string]string{"external_user_id": "45450007002"},
	})
	id := v["id"].(string)
	p := h.waitPhone(to, "a text", func(p phoneView) bool { return len(p.Messages) == 1 })
	text := p.Messages[0].Text
	code := codeRE.FindString(text)
	if len(code) != 8 || !strings.Contains(text, "Votre code") {
		t.Fatalf("text %q (code %q)", text, code)
	}
	h.mustStatus(h.check(id, map[string]any{"code": "123"}), http.StatusBadRequest) // wrong length: refused, not counted
	h.mustStatus(h.check(id, map[string]any{"code": wrong(code)}), http.StatusOK)
	ok := h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true || ok["attempts"] != float64(2) {
		t.Fatalf("check: %v", ok)
	}
	waitFor(t, 5*time.Second, "sms.delivered and verified webhooks", func() bool {
		ts := hookTypes(rx, id)
		return slices.Contains(ts, "sms.delivered") && slices.Contains(ts, "verification.verified")
	})
	for _, hk := range rx.of(id) {
		md, _ := hk.Data["metadata"].(map[string]any)
		if md["external_user_id"] != "45450007002" {
			t.Errorf("%s webhook lacks the metadata: %v", hk.Type, hk.Data)
		}
		if strings.Contains(string(hk.Raw), code) {
			t.Errorf("%s webhook carries the code", hk.Type)
		}
	}
}

// Fifty parallel wrong checks: exactly five are counted, then the
// verification fails with max_attempts and the rest are refused.
func TestParallelWrongChecksCountFive(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+447911123405"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	id := v["id"].(string)
	bad := wrong(h.textCode(to, 1))
	statuses := h.parallelChecks(id, bad, 50)
	got := h.get(id)
	if statuses[http.StatusOK] != 5 || statuses[http.StatusConflict] != 45 {
		t.Errorf("answers by status: %v, want 5×200 and 45×409", statuses)
	}
	if got["attempts"] != float64(5) || got["status"] != "failed" || got["reason"] != "max_attempts" {
		t.Fatalf("after 50 wrong checks: %v", got)
	}
}

// A two-step workflow: the missed call times out, the text takes over by
// itself, and the text's code verifies; the webhooks say so.
func TestWorkflowFallsBackOnTimeout(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	rx := newReceiver(t, testSecret)
	const to = "+447911123406"
	v := h.startChannel(map[string]any{
		"phone": to, "callback_url": rx.URL(),
		"workflow": []map[string]any{{"channel": "missed_call", "timeout_s": 10}, {"channel": "sms_otp", "timeout_s": 120}},
	})
	id := v["id"].(string)
	if v["channel"] != "missed_call" || v["dial_number"] == nil || v["step"] != float64(0) {
		t.Fatalf("workflow start: %v", v)
	}
	p := h.waitPhone(to, "the fallback text", func(p phoneView) bool { return len(p.Messages) == 1 })
	got := h.get(id)
	if got["channel"] != "sms_otp" || got["step"] != float64(1) || got["dial_number"] != nil || got["status"] != "pending" {
		t.Fatalf("after the timeout: %v", got)
	}
	// The missed call is over: calling the old number now verifies nothing.
	if res := h.call(to, v["dial_number"].(string)); res["verification_id"] != nil {
		t.Fatalf("late call matched: %v", res)
	}
	ok := h.mustStatus(h.check(id, map[string]any{"code": codeRE.FindString(p.Messages[0].Text)}), http.StatusOK)
	if ok["status"] != "verified" || ok["verified_channel"] != "sms_otp" {
		t.Fatalf("check: %v", ok)
	}
	waitFor(t, 5*time.Second, "webhooks", func() bool { return slices.Contains(hookTypes(rx, id), "verification.verified") })
	ts := hookTypes(rx, id)
	if !slices.Contains(ts, "verification.step") {
		t.Fatalf("webhooks %v lack verification.step", ts)
	}
}

// POST …/next moves on at once; at the last step it is refused.
func TestWorkflowNextOnRequest(t *testing.T) {
	t.Parallel()
	// Resend limits have their own test (abuse_e2e_test.go); here, at once.
	h := startServer(t, t.TempDir(), func(c *config.Config) { c.Abuse.ResendInterval = 0 })
	const to = "+447911123407"
	v := h.startChannel(map[string]any{
		"phone": to, "callback_url": h.url + "/dev/webhooks",
		"workflow": []map[string]any{{"channel": "flash_call"}, {"channel": "voice_otp"}, {"channel": "sms_otp"}},
	})
	id := v["id"].(string)
	n := h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
	if n["channel"] != "voice_otp" || n["step"] != float64(1) || n["cli_filter"] != nil {
		t.Fatalf("after next: %v", n)
	}
	n = h.mustStatus(h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil), http.StatusOK)
	if n["channel"] != "sms_otp" {
		t.Fatalf("after second next: %v", n)
	}
	r := h.do("POST", "/v1/verifications/"+id+"/next", h.key, nil)
	if r.status != http.StatusConflict || r.json(t)["code"] != "no_next_step" {
		t.Fatalf("next at the last step: %d %s", r.status, r.body)
	}
	// The flash call of step 0 may still report; the text of step 2 verifies.
	ok := h.mustStatus(h.check(id, map[string]any{"code": h.textCode(to, 1)}), http.StatusOK)
	if ok["verified_channel"] != "sms_otp" {
		t.Fatalf("check: %v", ok)
	}
}

// An answering machine takes the voice call: the dialplan hangs up without
// speaking, and the workflow falls back to a text at once.
func TestVoiceMachineFallsBackToSMS(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	const to = "+441134960004"
	v := h.startChannel(map[string]any{
		"phone": to, "callback_url": h.url + "/dev/webhooks",
		"workflow": []map[string]any{{"channel": "voice_otp", "timeout_s": 300}, {"channel": "sms_otp"}},
	})
	id := v["id"].(string)
	p := h.waitPhone(to, "the fallback text", func(p phoneView) bool { return len(p.Messages) == 1 })
	if len(p.Calls) != 1 || len(p.Calls[0].Transcript) != 0 {
		t.Fatalf("the machine heard something: %+v", p.Calls)
	}
	got := h.get(id)
	if got["channel"] != "sms_otp" {
		t.Fatalf("after the machine: %v", got)
	}
}

// Sandbox keys send everything to the simulator, and magic numbers script
// the far end.
func TestSandboxMagicNumbers(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		// No live carrier at all: only the sandbox may place calls.
		c.Carriers, c.Routes = nil, nil
		// The cases start one number again and again at once: no pacing.
		c.Abuse.ResendInterval = 0
	})
	creds, err := h.srv.Operator().CreateApp(t.Context(), verify.NewApp{
		Name: "Sandbox shop", DefaultCallbackURL: h.url + "/dev/webhooks", APIKeys: []string{"rg_test_sandbox0123456789abcdefghij"},
		Settings: verify.Settings{FlashCallerIDs: []verify.CallerIDRange{{Country: "*", Pattern: "+442079XXXXXX"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	test := creds.APIKeys[0]
	// The live demo key has no route for outbound channels.
	r := h.do("POST", "/v1/verifications", h.key, map[string]any{"phone": "+447911123408", "channel": "sms_otp"})
	if r.status != http.StatusUnprocessableEntity || r.json(t)["code"] != "no_route" {
		t.Fatalf("live key without a carrier: %d %s", r.status, r.body)
	}
	cases := []struct {
		phone, channel string
		status, reason string
	}{
		{"+441134960001", "answer_call", "verified", ""},
		{"+441134960001", "flash_call", "verified", ""},
		{"+441134960001", "voice_otp", "verified", ""},
		{"+441134960001", "sms_otp", "verified", ""},
		{"+441134960003", "sms_otp", "failed", "carrier_error"},
		{"+441134960003", "flash_call", "failed", "carrier_error"},
		{"+441134960005", "sms_otp", "failed", "undelivered"}, // accepted, never arrived: not the carrier refusing it
		{"+441134960006", "answer_call", "failed", "busy"},
		{"+441134960006", "voice_otp", "failed", "busy"},
		{"+441134960004", "voice_otp", "failed", "machine"},
	}
	for _, c := range cases {
		t.Run(c.phone[len(c.phone)-4:]+"/"+c.channel, func(t *testing.T) {
			r := h.do("POST", "/v1/verifications", test, map[string]any{"phone": c.phone, "channel": c.channel})
			v := h.mustStatus(r, http.StatusCreated)
			if v["sandbox"] != true {
				t.Fatalf("not sandbox: %v", v)
			}
			id := v["id"].(string)
			var got map[string]any
			waitFor(t, 15*time.Second, c.status, func() bool {
				got = h.mustStatus(h.do("GET", "/v1/verifications/"+id, test, nil), http.StatusOK)
				return got["status"] != "pending"
			})
			reason, _ := got["reason"].(string)
			if got["status"] != c.status || reason != c.reason {
				t.Fatalf("got %v/%v, want %s/%s: %v", got["status"], got["reason"], c.status, c.reason, got)
			}
			// Each phone number may have one pending verification per app;
			// these end before the next case of the same number starts.
		})
	}
}

// Carrier A is down (retryable failures): the same verification goes out
// through carrier B.
func TestFailoverToNextCarrier(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Carriers = []config.Carrier{{Name: "sim-a", Type: "sim", SimulateOutage: true}, {Name: "sim-b", Type: "sim"}}
		c.Routes = []config.Route{{Carriers: []string{"sim-a", "sim-b"}}}
	})
	const to = "+447911123409"
	v := h.startChannel(map[string]any{"phone": to, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	id := v["id"].(string)
	code := h.textCode(to, 1) // arrives only if carrier B took it
	stream, _ := h.stream("/v1/verifications/"+id+"/events", h.key, "")
	h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	carrier := sentBy(stream.collect(t, 5*time.Second))
	if carrier != "sim-b" {
		t.Fatalf("sms.sent carrier = %v, want sim-b", carrier)
	}
}

// Bad input to the channel API gets precise problems and changes nothing.
func TestChannelBadInput(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"unknown channel in workflow", map[string]any{"phone": "+447911123410", "workflow": []map[string]any{{"channel": "sms_otp"}, {"channel": "pigeon"}}}, 400, "unsupported_channel", "workflow[1].channel"},
		{"repeated channel", map[string]any{"phone": "+447911123410", "workflow": []map[string]any{{"channel": "sms_otp"}, {"channel": "sms_otp"}}}, 400, "invalid_request", "workflow[1].channel"},
		{"code too long", map[string]any{"phone": "+447911123410", "channel": "sms_otp", "code_length": 11}, 400, "invalid_request", "code_length"},
		{"timeout with workflow", map[string]any{"phone": "+447911123410", "timeout_s": 60, "workflow": []map[string]any{{"channel": "sms_otp"}}}, 400, "invalid_request", "timeout_s"},
		{"bad locale", map[string]any{"phone": "+447911123410", "channel": "sms_otp", "locale": "French!"}, 400, "invalid_request", "locale"},
		{"no channel", map[string]any{"phone": "+447911123410"}, 400, "invalid_request", "channel"},
	}
	for _, c := range cases {
		r := h.do("POST", "/v1/verifications", h.key, c.body)
		p := r.json(t)
		if r.status != c.status || p["code"] != c.code || p["field"] != c.field {
			t.Errorf("%s: %d %v, want %d %s on %s", c.name, r.status, p, c.status, c.code, c.field)
		}
	}
	// Checks that do not fit the verification.
	mc := h.start("+447911123411", h.url+"/dev/webhooks", nil)
	r := h.check(mc["id"].(string), map[string]any{"code": "1234"})
	if r.status != http.StatusConflict || r.json(t)["code"] != "not_checkable" {
		t.Errorf("check of a missed call: %d %s", r.status, r.body)
	}
	sms := h.startChannel(map[string]any{"phone": "+447911123412", "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	sid := sms["id"].(string)
	for _, body := range []map[string]any{{}, {"code": "12345"}, {"code": "12345a"}, {"cli": "+442079461234"}, {"code": "123456", "cli": "+1"}} {
		r := h.check(sid, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("check %v: %d %s, want 400", body, r.status, r.body)
		}
	}
	if got := h.get(sid); got["attempts"] != float64(0) {
		t.Errorf("malformed checks were counted: %v", got["attempts"])
	}
	r = h.do("POST", "/v1/verifications/vf_nope/check", h.key, map[string]any{"code": "123456"})
	if r.status != http.StatusNotFound {
		t.Errorf("check of an unknown id: %d", r.status)
	}
}

// An app's own dialplan and SMS texts: a bad dialplan is refused with its
// line; a good one is what the phone hears.
func TestAppSettings(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir())
	bad := "<dialplan name=\"x\">\n  <menu maxDigits=\"1\" timeout=\"3500\" name=\"m\">\n    <play type=\"tts\">Code {{code}}</play>\n    <keypress pressed=\"1\"><goto>nowhere</goto></keypress>\n  </menu>\n</dialplan>"
	r := h.do("PATCH", "/v1/app", h.key, map[string]any{"dialplan_xml": bad})
	p := r.json(t)
	if r.status != http.StatusUnprocessableEntity || p["code"] != "invalid_dialplan" || p["line"] != float64(4) || !strings.Contains(fmt.Sprint(p["detail"]), "nowhere") {
		t.Fatalf("bad dialplan: %d %v", r.status, p)
	}
	good := "<dialplan name=\"x\">\n  <menu maxDigits=\"1\" timeout=\"3500\" name=\"m\">\n    <play type=\"tts\">Ringgate test. Your code: {{code}}. Press 1 to hear it again.</play>\n    <keypress pressed=\"1\"><goto>m</goto></keypress>\n    <keypress pressed=\"timeout\"><hangup/></keypress>\n  </menu>\n</dialplan>"
	app := h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{
		"dialplan_xml": good, "sms_templates": map[string]string{"en": "{app}: use {code}"}, "android_app_hash": "FA+9qCX9VSu",
	}), http.StatusOK)
	if st, _ := app["settings"].(map[string]any); st["dialplan_xml"] != good {
		t.Fatalf("PATCH /v1/app: %v", app)
	}
	if r := h.do("PATCH", "/v1/app", h.key, map[string]any{"sms_templates": map[string]string{"en": "no code here"}}); r.status != http.StatusBadRequest {
		t.Fatalf("template without {code}: %d %s", r.status, r.body)
	}
	const to = "+447911123413"
	h.startChannel(map[string]any{"phone": to, "channel": "voice_otp", "callback_url": h.url + "/dev/webhooks"})
	h.waitPhone(to, "a ringing call", func(p phoneView) bool { return len(p.Calls) == 1 })
	h.mustStatus(h.do("POST", "/sim/phones/"+to+"/answer", "", map[string]string{"as": "human"}), http.StatusOK)
	pv := h.waitPhone(to, "the prompt", func(p phoneView) bool { return len(p.Calls[0].Transcript) >= 1 })
	if !strings.HasPrefix(pv.Calls[0].Transcript[0], "Ringgate test. Your code:") {
		t.Fatalf("heard %q", pv.Calls[0].Transcript[0])
	}
	const to2 = "+447911123414"
	h.startChannel(map[string]any{"phone": to2, "channel": "sms_otp", "callback_url": h.url + "/dev/webhooks"})
	pv = h.waitPhone(to2, "the text", func(p phoneView) bool { return len(p.Messages) == 1 })
	if txt := pv.Messages[0].Text; !strings.HasPrefix(txt, "Demo: use ") || !strings.HasSuffix(txt, "\nFA+9qCX9VSu") {
		t.Fatalf("text %q", txt)
	}
}
