package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier/sip/sipptest"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/prompts"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/testutil"
)

var voicePorts atomic.Int64

// voiceServer runs ringgate with a dev SIP trunk carrying voice_otp and
// answer_call with media, its far end sipp answering with SDP that names
// ph's socket.
func voiceServer(t *testing.T, ph *sipptest.Phone, after string, formats ...string) (*harness, *sipptest.Run) {
	t.Helper()
	sipptest.Require(t)
	port := sipptest.FreePort(t)
	f := "0 101"
	if len(formats) > 0 {
		f = formats[0]
	}
	run := sipptest.Start(t, sipptest.MediaScenario(t, sippScenarios, ph.Port(), f, after, 0, 0), port, 40*time.Second)
	lo := 33000 + 200*int(voicePorts.Add(1)%20)
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AddDevSIP("", fmt.Sprintf("sip:127.0.0.1:%d", port))
		s := &c.Carriers[len(c.Carriers)-1].SIP
		s.Hostname, s.RTPPorts = "127.0.0.1", fmt.Sprintf("%d-%d", lo, lo+199)
		c.Routes = append([]config.Route{{Channel: "voice_otp", Carriers: []string{"sip"}}}, c.Routes...)
	})
	return h, run
}

// The core claim of voice OTP on a SIP trunk: ringgate calls, a person
// answers ("hello"), and the code they hear (recovered from the RTP audio
// by matching the French digit recordings) verifies through POST …/check.
func TestSIPVoiceOTPHeardAndChecked(t *testing.T) {
	t.Parallel()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	h, run := voiceServer(t, ph, "after_ack_wait_bye.xml")
	v := h.startChannel(map[string]any{"phone": "+447911123405", "channel": "voice_otp", "locale": "fr", "code_length": 4})
	id := v["id"].(string)
	waitFor(t, 30*time.Second, "the code spoken", func() bool { return len(ph.Heard("fr")) >= 4 })
	code := ph.Heard("fr")[:4]
	if !ph.Contains(prompts.Default().Clip("fr", "verification_code_is")) {
		t.Fatal("not spoken in French")
	}
	ok := h.mustStatus(h.check(id, map[string]any{"code": code}), http.StatusOK)
	if ok["valid"] != true || ok["status"] != "verified" || ok["verified_channel"] != "voice_otp" {
		t.Fatalf("check with the code heard (%s): %v", code, ok)
	}
	if err := run.Wait(); err != nil { // ringgate hung up (the step ended)
		t.Fatalf("sipp: %v", err)
	}
}

// A machine: its long greeting is detected, the dialplan's machine branch
// hangs up without a word, and voice_otp fails with "machine".
func TestSIPVoiceOTPMachine(t *testing.T) {
	t.Parallel()
	ph := sipptest.NewPhone(t, sipptest.LongGreeting())
	h, run := voiceServer(t, ph, "after_ack_wait_bye.xml")
	v := h.startChannel(map[string]any{"phone": "+447911123406", "channel": "voice_otp", "code_length": 4})
	got := h.waitStatus(v["id"].(string), "failed")
	if got["reason"] != "machine" {
		t.Fatalf("after a machine answered: %v", got)
	}
	if heard := ph.Heard("en"); heard != "" {
		t.Fatalf("the machine heard %q", heard)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
}

// answer_call over a trunk with media (no trust_answer): voicemail does
// not verify, a person does.
func TestSIPAnswerCallMachineDetection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		greeting []byte
		status   string
	}{{"person", sipptest.ShortHello(), "verified"}, {"voicemail", sipptest.LongGreeting(), "failed"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ph := sipptest.NewPhone(t, tc.greeting)
			h, run := voiceServer(t, ph, "after_ack_wait_bye.xml")
			v := h.startChannel(map[string]any{"phone": "+447911123407", "channel": "answer_call"})
			got := h.waitStatus(v["id"].(string), tc.status)
			if tc.status == "failed" && got["reason"] != "machine" {
				t.Fatalf("voicemail: %v", got)
			}
			if err := run.Wait(); err != nil {
				t.Fatalf("sipp: %v", err)
			}
		})
	}
}

// An answer with no codec ringgate plays (G.722 only): the call is hung
// up, and the step fails with carrier_error, the call's end recorded with
// cause no_media.
func TestSIPVoiceOTPNoCommonCodec(t *testing.T) {
	t.Parallel()
	ph := sipptest.NewPhone(t, sipptest.ShortHello())
	h, run := voiceServer(t, ph, "after_ack_wait_bye.xml", "9")
	v := h.startChannel(map[string]any{"phone": "+447911123408", "channel": "voice_otp"})
	id := v["id"].(string)
	got := h.waitStatus(id, "failed")
	if got["reason"] != "carrier_error" {
		t.Fatalf("no common codec: %v", got)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	// the stream of a finished verification replays its events and ends
	evs := h.do("GET", "/v1/verifications/"+id+"/events", h.key, nil)
	if evs.status != http.StatusOK || !strings.Contains(string(evs.body), `"cause":"no_media"`) {
		t.Fatalf("no call.ended with cause no_media in %d %s", evs.status, evs.body)
	}
}

// A dialplan whose text the trunk's recordings cannot say, on a trunk
// without tts_command, is refused when the app sets it (422, naming the
// play), not when a call fails; the catalogue's phrases are accepted.
func TestDialplanNeedingTTSRefused(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AddDevSIP("", "sip:127.0.0.1:9")
		s := &c.Carriers[len(c.Carriers)-1].SIP
		s.Hostname, s.RTPPorts = "127.0.0.1", "34000-34099"
	})
	free := `<dialplan name="bank"><play name="welcome">Welcome to the bank. Your code is {{code}}.</play></dialplan>`
	r := h.do("PATCH", "/v1/app", h.key, map[string]any{"dialplan_xml": free})
	p := r.json(t)
	if d := fmt.Sprint(p["detail"]); r.status != http.StatusUnprocessableEntity || p["code"] != "invalid_dialplan" ||
		!strings.Contains(d, "welcome") || !strings.Contains(d, "text-to-speech") || !strings.Contains(d, "sip carrier sip") {
		t.Fatalf("free text without TTS: %d %v", r.status, p)
	}
	said := `<dialplan name="ok"><play>Hello. Your code is {{code}}. Goodbye.</play></dialplan>`
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"dialplan_xml": said}), http.StatusOK)
}

// A free-text dialplan stored while no trunk had media is reported at the
// start that adds a media trunk without TTS.
func TestStoredUnspeakableDialplanWarnedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := startServer(t, dir)
	free := `<dialplan name="bank"><play name="welcome">Welcome to the bank. Your code is {{code}}.</play></dialplan>`
	h.mustStatus(h.do("PATCH", "/v1/app", h.key, map[string]any{"dialplan_xml": free}), http.StatusOK)
	h.srv.Close()

	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir = "127.0.0.1:0", dir
	cfg.AddDevSIP("", "sip:127.0.0.1:9")
	cfg.AddDevMedia("34100-34199")
	var logs testutil.SyncBuffer
	env := func(k string) (string, bool) {
		switch k {
		case server.EnvDevAPIKey:
			return testKey, true
		case server.EnvDevWebhookSecret:
			return testSecret, true
		}
		return "", false
	}
	srv, err := server.New(context.Background(), cfg, server.Options{Env: env, Logger: server.NewLogger(cfg.Log, &logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "voice dialplan cannot be spoken") || !strings.Contains(l, "welcome") {
		t.Fatalf("no warning in:\n%s", l)
	}
}
