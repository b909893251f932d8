package ivr

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var vars = map[string]string{VarCode: "2517", VarApp: "Acme"}

const codePrompt = "Hello, your Acme verification code is 2 5 1 7. Press 1 to repeat."

func say(text string) Action { return Action{Kind: Say, Text: text, Voice: "female1"} }

var gather3500 = Action{Kind: Gather, MaxDigits: 1, Timeout: 3500 * time.Millisecond}

func hang(reason string) Action { return Action{Kind: HangUp, Reason: reason} }

func TestDefaultExecution(t *testing.T) {
	type step struct {
		do   string // "answer:BY", "digits:D", "timeout"
		want []Action
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"human hears the code, 1 repeats, timeout hangs up", []step{
			{"answer:human", []Action{say(codePrompt), gather3500}},
			{"digits:1", []Action{say(codePrompt), gather3500}},
			{"digits:1", []Action{say(codePrompt), gather3500}},
			{"timeout", []Action{hang(ReasonHangup)}},
		}},
		{"unknown is treated as a person", []step{
			{"answer:unknown", []Action{say(codePrompt), gather3500}},
			{"timeout", []Action{hang(ReasonHangup)}},
		}},
		{"garbage answeredBy is unknown", []step{
			{"answer:fax", []Action{say(codePrompt), gather3500}},
		}},
		{"machine is hung up on at once", []step{
			{"answer:machine", []Action{hang(ReasonHangup)}},
			{"digits:1", nil},
			{"timeout", nil},
		}},
		{"another key replays the menu", []step{
			{"answer:human", []Action{say(codePrompt), gather3500}},
			{"digits:7", []Action{say(codePrompt), gather3500}},
			{"timeout", []Action{hang(ReasonHangup)}},
		}},
		{"extra keys are ignored", []step{
			{"answer:human", []Action{say(codePrompt), gather3500}},
			{"digits:19", []Action{say(codePrompt), gather3500}},
		}},
		{"empty digits is a timeout", []step{
			{"answer:human", []Action{say(codePrompt), gather3500}},
			{"digits:", []Action{hang(ReasonHangup)}},
		}},
		{"input before answer is ignored, answer once", []step{
			{"digits:1", nil},
			{"timeout", nil},
			{"answer:human", []Action{say(codePrompt), gather3500}},
			{"answer:human", nil},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Default().Start(vars)
			for i, st := range tc.steps {
				var got []Action
				switch {
				case strings.HasPrefix(st.do, "answer:"):
					got = s.Answered(strings.TrimPrefix(st.do, "answer:"))
				case strings.HasPrefix(st.do, "digits:"):
					got = s.Digits(strings.TrimPrefix(st.do, "digits:"))
				default:
					got = s.Timeout()
				}
				if !reflect.DeepEqual(plain(got), st.want) {
					t.Fatalf("step %d %s:\n got %+v\nwant %+v", i, st.do, got, st.want)
				}
			}
		})
	}
}

func TestDefaultRepeatLimit(t *testing.T) {
	s := Default().Start(vars)
	s.Answered("human")
	for i := 1; i < MaxGathers; i++ {
		acts := s.Digits("1")
		if len(acts) != 2 || acts[1].Kind != Gather {
			t.Fatalf("repeat %d: %+v", i, acts)
		}
	}
	if got := s.Digits("1"); !reflect.DeepEqual(plain(got), []Action{hang(ReasonLimit)}) || !s.Done() {
		t.Fatalf("after %d gathers: %+v done=%v", MaxGathers, got, s.Done())
	}
}

func mustParse(t *testing.T, src string) *Dialplan {
	t.Helper()
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExecution(t *testing.T) {
	t.Run("goto loop hangs up", func(t *testing.T) {
		d := mustParse(t, `<dialplan name="a"><goto name="g">g</goto></dialplan>`)
		if got := d.Start(nil).Answered("human"); !reflect.DeepEqual(plain(got), []Action{hang(ReasonLoop)}) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("play loop is bounded", func(t *testing.T) {
		d := mustParse(t, `<dialplan name="a"><play name="p">x</play><goto>p</goto></dialplan>`)
		got := d.Start(nil).Answered("human")
		if n := len(got); n > MaxSteps || got[n-1] != hang(ReasonLoop) {
			t.Fatalf("%d actions, last %+v", n, got[n-1])
		}
	})
	t.Run("falls off the end", func(t *testing.T) {
		d := mustParse(t, `<dialplan name="a"><play>Bye {{app}}</play></dialplan>`)
		got := d.Start(map[string]string{"app": "X"}).Answered("human")
		want := []Action{{Kind: Say, Text: "Bye X"}, hang(ReasonEnd)}
		if !reflect.DeepEqual(plain(got), want) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("branches continue after their menu and amd", func(t *testing.T) {
		d := mustParse(t, `<dialplan name="a">
<amd><live><play>live</play></live><machine><play>machine</play></machine></amd>
<menu name="m" maxDigits="2" timeout="500"><play>menu</play>
  <keypress pressed="12"><play>twelve</play></keypress>
</menu>
<play>after</play>
</dialplan>`)
		s := d.Start(nil)
		g := Action{Kind: Gather, MaxDigits: 2, Timeout: 500 * time.Millisecond}
		if got, want := s.Answered("machine"), []Action{{Kind: Say, Text: "machine"}, {Kind: Say, Text: "menu"}, g}; !reflect.DeepEqual(plain(got), want) {
			t.Fatalf("answer: %+v", got)
		}
		if w, ok := s.Waiting(); !ok || w != g {
			t.Fatalf("waiting %v %+v", ok, w)
		}
		if got, want := s.Digits("12"), []Action{{Kind: Say, Text: "twelve"}, {Kind: Say, Text: "after"}, hang(ReasonEnd)}; !reflect.DeepEqual(plain(got), want) {
			t.Fatalf("digits: %+v", got)
		}
		if _, ok := s.Waiting(); ok || !s.Done() {
			t.Fatal("still waiting after the end")
		}
	})
	t.Run("timeout without a branch continues after the menu", func(t *testing.T) {
		d := mustParse(t, `<dialplan name="a"><menu name="m"><play>menu</play></menu><hangup name="h"/></dialplan>`)
		s := d.Start(nil)
		s.Answered("human")
		if got := s.Timeout(); !reflect.DeepEqual(plain(got), []Action{hang(ReasonHangup)}) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("hand-built plan with a broken goto", func(t *testing.T) {
		d := &Dialplan{Name: "x", Nodes: []Node{&Goto{Target: "nowhere"}}}
		if got := d.Start(nil).Answered("human"); !reflect.DeepEqual(plain(got), []Action{hang(ReasonBroken)}) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("vars are copied", func(t *testing.T) {
		v := map[string]string{"code": "12"}
		s := Default().Start(v)
		v["code"] = "99"
		if got := s.Answered("human"); got[0].Text != "Hello, your verification code is 1 2. Press 1 to repeat." {
			t.Fatalf("%q", got[0].Text)
		}
	})
}

func TestRender(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Code {{code}}.", "Code 2 5 1 7."},
		{"{{ code }}{{app}}", "2 5 1 7Acme"},
		{"no vars", "no vars"},
		{"{{code}", "{{code}"},
		{"x {{nope}} y", "x {{nope}} y"},
	} {
		if got := Render(tc.text, vars); got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := SpeakDigits(" 12 3a"); got != "1 2 3 a" {
		t.Errorf("SpeakDigits = %q", got)
	}
}

func TestSnapshotResume(t *testing.T) {
	d := mustParse(t, `<dialplan name="a">
<amd><machine><hangup/></machine><live><menu name="outer"><play>outer</play>
  <keypress pressed="1"><play>one</play><menu name="inner" timeout="500"><play>inner</play>
    <keypress pressed="2"><goto>outer</goto></keypress></menu></keypress>
</menu></live></amd>
</dialplan>`)
	s := d.Start(vars)
	if got := s.Snapshot(); got != "1.u.0.n." {
		t.Fatalf("before answer: %q", got)
	}
	s.Answered("human")
	if got := s.Snapshot(); got != "1.h.1.w.0:1/L:1" {
		t.Fatalf("outer: %q", got)
	}
	s.Digits("1")
	snap := s.Snapshot()
	if snap != "1.h.2.w.0:1/L:1/K0:2" {
		t.Fatalf("inner: %q", snap)
	}
	// A resumed session on a re-parsed plan behaves as the original.
	r, err := mustParse(t, `<dialplan name="a">
<amd><machine><hangup/></machine><live><menu name="outer"><play>outer</play>
  <keypress pressed="1"><play>one</play><menu name="inner" timeout="500"><play>inner</play>
    <keypress pressed="2"><goto>outer</goto></keypress></menu></keypress>
</menu></live></amd>
</dialplan>`).Resume(snap, vars)
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := r.Waiting(); !ok || w.Timeout != 500*time.Millisecond {
		t.Fatalf("resumed waits %v %+v", ok, w)
	}
	want := s.Digits("2")
	if got := r.Digits("2"); !reflect.DeepEqual(got, want) || len(got) != 2 || got[0].Text != "outer" {
		t.Fatalf("resumed %+v, original %+v", got, want)
	}
	if got, want := r.Timeout(), s.Timeout(); !reflect.DeepEqual(got, want) || !r.Done() {
		t.Fatalf("resumed %+v, original %+v", got, want)
	}
	if got := r.Snapshot(); got != "1.h.3.d." {
		t.Fatalf("done: %q", got)
	}
	for _, bad := range []string{"", "2.h.0.n.", "1.x.0.w.0:1", "1.h.99.w.0:1/L:1", "1.h.1.w.0:1", "1.h.1.w.0:1/M:1", "1.h.1.w.0:1/L:2", "1.h.1.w.0:1/K0:1", "1.h.1.w.0:0", "1.h.1.n.0:1"} {
		if _, err := d.Resume(bad, vars); err != ErrSnapshot {
			t.Errorf("Resume(%q) = %v", bad, err)
		}
	}
}

// plain drops the templates the Say actions carry (checked on their own
// in TestActionTemplate), so the tables above compare what is said.
func plain(acts []Action) []Action {
	if acts == nil {
		return nil
	}
	out := make([]Action, len(acts))
	for i, a := range acts {
		a.Template = ""
		out[i] = a
	}
	return out
}

func TestActionTemplate(t *testing.T) {
	acts := Default().Start(map[string]string{"code": "2517", "app": "Acme"}).Answered("human")
	if len(acts) == 0 || acts[0].Template != "Hello, your {{app}} verification code is {{code}}. Press 1 to repeat." {
		t.Fatalf("%+v", acts)
	}
}
