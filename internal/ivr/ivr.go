// Package ivr is the voice dialplan: the model (amd, menu, play, keypress,
// goto, hangup), its XML form in the spirit of seed 002's CallFire dialplan,
// validation with line numbers, and an executor that is a pure state
// machine: it is fed what happened on the call (answered by whom, digits,
// a timeout) and answers with what to do next (speak, gather, hang up). It
// does no I/O, so the simulator runs it as text, the SIP adapter on RTP, and
// the HTTP carriers translate the model into their own call-control markup.
package ivr

import (
	"errors"
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

// Play speaks Text (type="tts"). {{name}} placeholders are filled from the
// call's variables; {{code}} is spoken digit by digit.
type Play struct {
	Name  string
	Type  string // "tts"
	Voice string
	Text  string
}

// Goto continues at the node named Target.
type Goto struct{ Target string }

// Hangup ends the call.
type Hangup struct{ Name string }

func (*AMD) node()    {}
func (*Menu) node()   {}
func (*Play) node()   {}
func (*Goto) node()   {}
func (*Hangup) node() {}

// SyntaxError is a dialplan that cannot be used, with the line at fault.
type SyntaxError struct {
	Line int // 1-based; 0 when the fault is not on one line
	Msg  string
}

func (e *SyntaxError) Error() string { return "" }

// ErrNotImplemented is returned until the package is written.
var ErrNotImplemented = errors.New("ivr: not implemented")

// Parse reads a dialplan's XML form and validates it: known elements and
// attributes only, goto targets that exist, a maxDigits and timeout in
// range, {{placeholders}} that are known variables. A fault is a
// *SyntaxError naming the line.
func Parse(src []byte) (*Dialplan, error) { return nil, ErrNotImplemented }

// Default is seed 002's dialplan: a machine is hung up on; a person hears
// the code digit by digit and "press 1 to repeat", the code again on 1, and
// the call ends when nothing is pressed.
func Default() *Dialplan { return nil }
