package ivr

import (
	"strings"
	"time"
)

// ActionKind is what a Session asks the call to do.
type ActionKind string

// Action kinds. (HangUp is the action; Hangup is the dialplan node.)
const (
	Say    ActionKind = "say"    // speak Text in Voice
	Gather ActionKind = "gather" // wait up to Timeout for up to MaxDigits keys
	HangUp ActionKind = "hangup" // end the call
)

// Reasons a Session hangs up, in Action.Reason.
const (
	ReasonHangup = "hangup" // a <hangup> node
	ReasonEnd    = "end"    // the dialplan ran out of nodes
	ReasonLoop   = "loop"   // MaxSteps nodes ran without waiting for the caller
	ReasonLimit  = "limit"  // the caller was asked for input MaxGathers times
	ReasonBroken = "broken" // a goto to a name the plan does not have (built by hand, not parsed)
)

// Action is one thing for the call to do. Actions come in order: a runner
// performs each Say, then either waits on the Gather that ends the list or
// hangs up on the HangUp that ends it. Every non-empty list a Session
// returns ends in exactly one Gather or HangUp.
type Action struct {
	Kind ActionKind
	// Say: the text with {{variables}} filled in ({{code}} digit by digit),
	// whitespace collapsed; and the play's voice ("" for the default).
	Text  string
	Voice string
	// Language is the TTS language tag ("fr-FR"): the play's, else the
	// call's (VarLanguage); "" for the provider's default.
	Language string
	// Template is the play's text before rendering, for runners that
	// speak it piece by piece (the SIP carrier's recorded prompts).
	Template string
	// Gather: how many keys at most, and how long to wait for them.
	MaxDigits int
	Timeout   time.Duration
	// HangUp: why (Reason* constants).
	Reason string
}

// Executor limits.
const (
	// MaxSteps bounds the nodes run between two waits for the caller; a
	// plan that loops (goto after goto, or play and goto) hangs up then.
	MaxSteps = 100
	// MaxGathers bounds how often a call asks for input, so a caller (or a
	// line full of noise) cannot keep it up for ever.
	MaxGathers = 20
)

// Session runs one call through a Dialplan. It is a pure state machine:
// feed it what happened on the call (Answered, then Digits or Timeout for
// each Gather) and perform the Actions it returns. Calls that do not fit
// the session's state (Digits while not gathering, anything after the
// hang-up) return nil. A Session is not safe for concurrent use.
type Session struct {
	plan     *Dialplan
	vars     map[string]string
	paths    map[string][]frame // name → the stack that resumes at that node
	stack    []frame
	answered bool
	by       string
	menu     *Menu // the menu whose Gather is outstanding, nil when not waiting
	gathers  int
	done     bool
}

// frame is a position in a node list: next is the index to run next.
type frame struct {
	list []Node
	next int
}

// Start begins a session for one call. vars fills the play texts'
// {{placeholders}} (VarCode, VarApp); it is copied. Nothing runs until
// Answered.
func (d *Dialplan) Start(vars map[string]string) *Session {
	s := &Session{plan: d, vars: make(map[string]string, len(vars)), paths: map[string][]frame{}}
	for k, v := range vars {
		s.vars[k] = v
	}
	s.index(d.Nodes, nil)
	return s
}

// index records, for every named node, the stack that resumes at it.
func (s *Session) index(list []Node, outer []frame) {
	at := func(name string, i int) {
		if name == "" {
			return
		}
		if _, dup := s.paths[name]; dup { // first wins, as in document order
			return
		}
		p := make([]frame, len(outer)+1)
		copy(p, outer)
		p[len(outer)] = frame{list: list, next: i}
		s.paths[name] = p
	}
	inner := func(i int) []frame {
		p := make([]frame, len(outer)+1)
		copy(p, outer)
		p[len(outer)] = frame{list: list, next: i + 1}
		return p
	}
	for i, n := range list {
		switch n := n.(type) {
		case *AMD:
			at(n.Name, i)
			s.index(n.Live, inner(i))
			s.index(n.Machine, inner(i))
		case *Menu:
			at(n.Name, i)
			for _, k := range n.Keys {
				s.index(k.Do, inner(i))
			}
		case *Play:
			at(n.Name, i)
		case *Goto:
			at(n.Name, i)
		case *Hangup:
			at(n.Name, i)
		}
	}
}

// Answered starts the plan: by is who answered (AnsweredHuman "human",
// "machine", or "unknown" when no detection ran; anything else counts as
// unknown). An <amd> takes its machine branch only for "machine".
func (s *Session) Answered(by string) []Action {
	if s.answered || s.done {
		return nil
	}
	switch by {
	case "human", "machine":
	default:
		by = "unknown"
	}
	s.answered, s.by = true, by
	s.stack = []frame{{list: s.plan.Nodes}}
	return s.run(nil)
}

// Digits is the caller's input for the outstanding Gather: the keys pressed
// (0-9 * #), at most MaxDigits of them; a runner whose gather timed out
// after some keys passes those. Keys beyond MaxDigits are ignored; "" is a
// Timeout. Input matching no keypress replays the menu.
func (s *Session) Digits(digits string) []Action {
	if s.menu == nil || s.done {
		return nil
	}
	if digits == "" {
		return s.Timeout()
	}
	m := s.menu
	if len(digits) > m.MaxDigits {
		digits = digits[:m.MaxDigits]
	}
	s.menu = nil
	for _, k := range m.Keys {
		if k.Pressed == digits && k.Pressed != PressedTimeout {
			s.stack = append(s.stack, frame{list: k.Do})
			return s.run(nil)
		}
	}
	return s.enterMenu(m, nil)
}

// Timeout says the outstanding Gather's time ran out with no key pressed.
// The menu's "timeout" keypress runs; without one, the plan continues
// after the menu.
func (s *Session) Timeout() []Action {
	if s.menu == nil || s.done {
		return nil
	}
	m := s.menu
	s.menu = nil
	for _, k := range m.Keys {
		if k.Pressed == PressedTimeout {
			s.stack = append(s.stack, frame{list: k.Do})
			break
		}
	}
	return s.run(nil)
}

// Done reports whether the session has hung up.
func (s *Session) Done() bool { return s.done }

// Waiting returns the outstanding Gather, if the session waits for input.
func (s *Session) Waiting() (Action, bool) {
	if s.menu == nil || s.done {
		return Action{}, false
	}
	return gather(s.menu), true
}

// AnsweredBy is who answered, as given to Answered ("" before).
func (s *Session) AnsweredBy() string { return s.by }

func gather(m *Menu) Action {
	return Action{Kind: Gather, MaxDigits: m.MaxDigits, Timeout: m.Timeout}
}

func (s *Session) hangup(acts []Action, reason string) []Action {
	s.done, s.menu, s.stack = true, nil, nil
	return append(acts, Action{Kind: HangUp, Reason: reason})
}

// enterMenu speaks m's prompts and waits on it.
func (s *Session) enterMenu(m *Menu, acts []Action) []Action {
	s.gathers++
	if s.gathers > MaxGathers {
		return s.hangup(acts, ReasonLimit)
	}
	for _, p := range m.Prompts {
		acts = append(acts, s.say(p))
	}
	s.menu = m
	return append(acts, gather(m))
}

func (s *Session) say(p *Play) Action {
	lang := p.Language
	if lang == "" {
		lang = s.vars[VarLanguage]
	}
	return Action{Kind: Say, Text: Render(p.Text, s.vars), Voice: p.Voice, Language: lang, Template: p.Text}
}

// run executes nodes from the top of the stack until the plan waits for
// input or hangs up.
func (s *Session) run(acts []Action) []Action {
	for steps := 0; ; {
		if len(s.stack) == 0 {
			return s.hangup(acts, ReasonEnd)
		}
		top := &s.stack[len(s.stack)-1]
		if top.next >= len(top.list) {
			s.stack = s.stack[:len(s.stack)-1]
			continue
		}
		n := top.list[top.next]
		top.next++
		if steps++; steps > MaxSteps {
			return s.hangup(acts, ReasonLoop)
		}
		switch n := n.(type) {
		case *Play:
			acts = append(acts, s.say(n))
		case *Goto:
			p, ok := s.paths[n.Target]
			if !ok {
				return s.hangup(acts, ReasonBroken)
			}
			s.stack = append(s.stack[:0], p...)
		case *Hangup:
			return s.hangup(acts, ReasonHangup)
		case *AMD:
			branch := n.Live
			if s.by == "machine" {
				branch = n.Machine
			}
			s.stack = append(s.stack, frame{list: branch})
		case *Menu:
			return s.enterMenu(n, acts)
		}
	}
}

// Render fills text's {{variables}} from vars: {{code}} is spoken digit by
// digit ("2517" → "2 5 1 7", see SpeakDigits), others as they are; a
// variable vars lacks is empty. Whitespace is collapsed. Text that Parse
// would refuse is returned with its bad placeholders left as written.
func Render(text string, vars map[string]string) string {
	var b strings.Builder
	err := scanTemplate(text, func(l string) { b.WriteString(l) }, func(v string) {
		if v == VarCode {
			b.WriteString(SpeakDigits(vars[v]))
		} else {
			b.WriteString(vars[v])
		}
	})
	if err != nil {
		return strings.Join(strings.Fields(text), " ")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// SpeakDigits spaces a code out so that text-to-speech reads it one
// character at a time: "2517" → "2 5 1 7". Spaces in code are dropped.
func SpeakDigits(code string) string {
	var b strings.Builder
	for _, r := range code {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
