// Package ivr is the voice dialplan: the model (amd, menu, play, keypress,
// goto, hangup), its XML form in the spirit of seed 002's CallFire dialplan,
// validation with line numbers, and an executor that is a pure state
// machine: it is fed what happened on the call (answered by whom, digits,
// a timeout) and answers with what to do next (speak, gather, hang up). It
// does no I/O, so the simulator runs it as text, the SIP adapter on RTP, and
// the HTTP carriers translate the model into their own call-control markup.
//
// # XML form
//
//	<dialplan name="verification">
//	  <amd>
//	    <live><goto>live</goto></live>          <!-- a person, or detection could not tell -->
//	    <machine><goto>hangup</goto></machine>  <!-- an answering machine -->
//	  </amd>
//	  <menu maxDigits="1" timeout="3500" name="live">
//	    <play type="tts" voice="female1" name="play_code">Your code is {{code}}. Press 1 to repeat.</play>
//	    <keypress pressed="1"><goto>live</goto></keypress>
//	    <keypress pressed="timeout"><hangup/></keypress>
//	  </menu>
//	  <hangup name="hangup"/>
//	</dialplan>
//
// Elements and attributes:
//
//   - dialplan: name (required). Children: amd, menu, play, goto, hangup.
//   - amd: name. Children: at most one live and one machine, each holding
//     a list of amd, menu, play, goto, hangup.
//   - menu: name (required), maxDigits (1–10, default 1), timeout in
//     milliseconds (500–60000, default 5000). Children: play (its prompts)
//     and keypress.
//   - keypress: pressed (required): 1 to maxDigits keys from 0–9 * #, or
//     "timeout". Children like live's. At most one keypress per value.
//   - play: name, type ("tts", the default), voice, language (a TTS
//     language tag like "fr-FR"; default the call's). Text only, with
//     {{code}} and {{app}} placeholders; not empty.
//   - goto: name; its text is the name of the node to continue at. Any
//     named node may be a target except a menu's prompts (go to the menu).
//   - hangup: name. Empty.
//
// Names are unique in a document and made of letters, digits, '_', '-' and
// '.'. Comments are allowed; DTDs, entity declarations and processing
// instructions other than the XML declaration are not.
//
// # Execution
//
// Nodes run in document order. After a keypress, live or machine branch
// runs out, execution continues after the menu or amd that holds it; after
// the last top-level node the call hangs up. A goto continues at its target
// and then in document order from there. A menu speaks its prompts and
// waits: keys matching a keypress run it, other keys replay the menu, and
// silence runs the "timeout" keypress (or, without one, continues after
// the menu). A plan that runs MaxSteps nodes without waiting (a goto loop)
// or waits more than MaxGathers times hangs up. See Session; a runner that
// keeps no state between requests uses Session.Snapshot and
// Dialplan.Resume.
package ivr

import (
	"sync"

	"github.com/ringgate/ringgate/internal/i18n"
	"strconv"
	"time"
)

// Dialplan is a parsed, valid dialplan. Treat it as read-only once built:
// one Dialplan is shared by every call that runs it.
type Dialplan struct {
	Name  string
	Nodes []Node // in document order; execution starts at Nodes[0]
}

// Node is one element of a dialplan: *AMD, *Menu, *Play, *Goto, *Hangup.
type Node interface{ node() }

// AMD branches on answering-machine detection.
type AMD struct {
	Name    string
	Live    []Node // answered by a person (or detection could not tell)
	Machine []Node // answered by a machine
}

// Menu speaks its prompts, then waits up to Timeout for up to MaxDigits
// keys and follows the matching Keypress.
type Menu struct {
	Name      string
	MaxDigits int
	Timeout   time.Duration
	Prompts   []*Play
	Keys      []*Keypress
}

// Keypress is a menu branch: Pressed is the digits, or "timeout".
type Keypress struct {
	Pressed string
	Do      []Node
}

// PressedTimeout is the Keypress.Pressed value of the branch taken when
// nothing was pressed before the menu's timeout.
const PressedTimeout = "timeout"

// Play speaks Text (type="tts"). {{name}} placeholders are filled from the
// call's variables; {{code}} is spoken digit by digit.
type Play struct {
	Name  string
	Type  string // "tts"
	Voice string
	// Language is the TTS language tag ("fr-FR"); "" speaks the call's
	// language (the VarLanguage variable), else the provider's default.
	Language string
	Text     string // whitespace-collapsed, placeholders unrendered
}

// Goto continues at the node named Target.
type Goto struct {
	Name   string // optional, like any node's
	Target string
}

// Hangup ends the call.
type Hangup struct{ Name string }

func (*AMD) node()    {}
func (*Menu) node()   {}
func (*Play) node()   {}
func (*Goto) node()   {}
func (*Hangup) node() {}

// Limits on what Parse accepts.
const (
	MaxSize       = 64 << 10 // bytes of XML
	MaxDepth      = 32       // nested elements
	MinTimeout    = 500 * time.Millisecond
	MaxTimeout    = 60 * time.Second
	MaxMenuDigits = 10
	// DefaultTimeout and DefaultMaxDigits apply when a menu omits them.
	DefaultTimeout   = 5 * time.Second
	DefaultMaxDigits = 1
)

// Variables a play text may use. {{code}} is spoken digit by digit, {{app}}
// (the app's display name) as it is.
const (
	VarCode = "code"
	VarApp  = "app"
)

// VarLanguage is the variable holding the call's TTS language tag
// ("fr-FR", from the verification's locale): the language of every play
// that names none. It is not a text placeholder.
const VarLanguage = "language"

// KnownVars lists the placeholders Parse accepts.
var KnownVars = []string{VarCode, VarApp}

// SyntaxError is a dialplan that cannot be used, with the line at fault.
type SyntaxError struct {
	Line int // 1-based; 0 when the fault is not on one line
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// DefaultXML is seed 002's dialplan in this package's XML form: a machine
// is hung up on; a person (or an undetermined answer) hears the code digit
// by digit and "press 1 to repeat"; 1 repeats the menu; silence for 3.5 s
// hangs up.
const DefaultXML = `<dialplan name="verification">
  <!-- answering machine detection -->
  <amd>
    <!-- a person (or detection could not tell): go to the live menu -->
    <live>
      <goto>live</goto>
    </live>
    <!-- an answering machine: hang up without speaking -->
    <machine>
      <goto>hangup</goto>
    </machine>
  </amd>
  <menu maxDigits="1" timeout="3500" name="live">
    <play type="tts" voice="female1" name="play_code">Hello, your {{app}} verification code is {{code}}. Press 1 to repeat.</play>
    <!-- 1: repeat from the menu -->
    <keypress pressed="1">
      <goto>live</goto>
    </keypress>
    <!-- nothing pressed within 3.5 seconds: hang up -->
    <keypress pressed="timeout">
      <hangup/>
    </keypress>
  </menu>
  <hangup name="hangup"/>
</dialplan>
`

var defaultPlan *Dialplan

func init() {
	d, err := Parse([]byte(DefaultXML))
	if err != nil {
		panic("ivr: DefaultXML does not parse: " + err.Error())
	}
	defaultPlan = d
}

// Default is seed 002's dialplan (DefaultXML, parsed): a machine is hung up
// on; a person hears the code digit by digit and "press 1 to repeat", the
// code again on 1, and the call ends when nothing is pressed. The returned
// plan is shared: do not modify it.
func Default() *Dialplan { return defaultPlan }

var (
	builtinMu sync.Mutex
	builtin   = map[string]*Dialplan{}
)

// DefaultFor is Default speaking the built-in prompt of locale's language
// (internal/i18n) in that language; Default itself for English or a
// locale without built-in texts. Plans are built once and shared.
func DefaultFor(locale string) *Dialplan {
	tag := i18n.Resolve(locale)
	if tag == "" || tag == i18n.Default {
		return defaultPlan
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if d, ok := builtin[tag]; ok {
		return d
	}
	t, _ := i18n.Lookup(tag)
	d := &Dialplan{Name: defaultPlan.Name, Nodes: cloneNodes(defaultPlan.Nodes, func(p *Play) {
		p.Text, p.Language = t.Voice, t.TTS
	})}
	builtin[tag] = d
	return d
}

// BuiltinLocale says which built-in language d is ("" and true for
// Default; false for any other plan), so a runner can carry a reference
// instead of the plan.
func BuiltinLocale(d *Dialplan) (string, bool) {
	if d == defaultPlan {
		return "", true
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	for tag, p := range builtin {
		if p == d {
			return tag, true
		}
	}
	return "", false
}

// cloneNodes deep-copies a node list, passing every copied play to edit.
func cloneNodes(list []Node, edit func(*Play)) []Node {
	out := make([]Node, 0, len(list))
	for _, n := range list {
		switch n := n.(type) {
		case *AMD:
			out = append(out, &AMD{Name: n.Name, Live: cloneNodes(n.Live, edit), Machine: cloneNodes(n.Machine, edit)})
		case *Menu:
			m := *n
			m.Prompts, m.Keys = nil, nil
			for _, p := range n.Prompts {
				c := *p
				edit(&c)
				m.Prompts = append(m.Prompts, &c)
			}
			for _, k := range n.Keys {
				m.Keys = append(m.Keys, &Keypress{Pressed: k.Pressed, Do: cloneNodes(k.Do, edit)})
			}
			out = append(out, &m)
		case *Play:
			c := *n
			edit(&c)
			out = append(out, &c)
		case *Goto:
			c := *n
			out = append(out, &c)
		case *Hangup:
			c := *n
			out = append(out, &c)
		}
	}
	return out
}
