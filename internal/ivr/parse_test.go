package ivr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// seed002 is the dialplan of seed 002 as CallFire printed it (the text is
// the seed's, with the code already spelt out).
const seed002 = `<dialplan name="Root">
<!-- answering machine detection -->
<amd>
<!-- if call is answered by human go to live menu -->
<live>
<goto>live</goto>
</live>
<!-- hangup if answering machine detected -->
<machine>
<goto>hangup</goto>
</machine>
</amd>
<menu maxDigits="1" timeout="3500" name="live">
<!-- play text message with secure code -->
<play type="tts" voice="female1" name="play_code">Hello, your one-time code is 2 5 1 7, press 1 to repeat.</play>
<!-- user has pressed 1, repeat starting from menu entry -->
<keypress pressed="1">
<goto>live</goto>
</keypress>
<!-- nothing is pressed for a 3500 milliseconds, hang up the phone -->
<keypress pressed="timeout">
<hangup/>
</keypress>
</menu>
<hangup name="hangup"/>
</dialplan>`

func TestParseSeed002(t *testing.T) {
	d, err := Parse([]byte(seed002))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "Root" || len(d.Nodes) != 3 {
		t.Fatalf("got %q with %d nodes", d.Name, len(d.Nodes))
	}
	amd, ok := d.Nodes[0].(*AMD)
	if !ok || len(amd.Live) != 1 || len(amd.Machine) != 1 {
		t.Fatalf("node 0: %#v", d.Nodes[0])
	}
	if g := amd.Live[0].(*Goto); g.Target != "live" {
		t.Errorf("live goes to %q", g.Target)
	}
	m, ok := d.Nodes[1].(*Menu)
	if !ok {
		t.Fatalf("node 1: %#v", d.Nodes[1])
	}
	if m.Name != "live" || m.MaxDigits != 1 || m.Timeout != 3500*time.Millisecond || len(m.Prompts) != 1 || len(m.Keys) != 2 {
		t.Fatalf("menu: %+v", m)
	}
	p := m.Prompts[0]
	if p.Name != "play_code" || p.Type != "tts" || p.Voice != "female1" || p.Text != "Hello, your one-time code is 2 5 1 7, press 1 to repeat." {
		t.Errorf("play: %+v", p)
	}
	if m.Keys[0].Pressed != "1" || m.Keys[1].Pressed != "timeout" {
		t.Errorf("keys: %+v %+v", m.Keys[0], m.Keys[1])
	}
	if _, ok := m.Keys[1].Do[0].(*Hangup); !ok {
		t.Errorf("timeout does %#v", m.Keys[1].Do[0])
	}
	if h := d.Nodes[2].(*Hangup); h.Name != "hangup" {
		t.Errorf("hangup %+v", h)
	}
}

func TestDefaultParses(t *testing.T) {
	d, err := Parse([]byte(DefaultXML))
	if err != nil {
		t.Fatalf("DefaultXML: %v", err)
	}
	if Default() == nil || Default().Name != d.Name || len(Default().Nodes) != 3 {
		t.Fatalf("Default() = %+v", Default())
	}
	m := d.Nodes[1].(*Menu)
	if m.MaxDigits != 1 || m.Timeout != 3500*time.Millisecond {
		t.Errorf("menu %+v", m)
	}
	if !strings.Contains(m.Prompts[0].Text, "{{code}}") || !strings.Contains(m.Prompts[0].Text, "{{app}}") {
		t.Errorf("prompt %q", m.Prompts[0].Text)
	}
}

func TestParseGood(t *testing.T) {
	for name, src := range map[string]string{
		"xml declaration and comments": `<?xml version="1.0" encoding="UTF-8"?>
<!-- c --><dialplan name="a"><play>hi</play></dialplan><!-- after -->
`,
		"custom without code": `<dialplan name="a"><play>We will call you back.</play><hangup/></dialplan>`,
		"play alone, menu defaults": `<dialplan name="a">
  <play voice="male1">Your code is {{ code }}.</play>
  <menu name="m"><keypress pressed="*"><hangup/></keypress></menu>
</dialplan>`,
		"goto to a play":                   `<dialplan name="a"><play name="p">x</play><goto>p</goto></dialplan>`,
		"goto with a name (seed 002 java)": `<dialplan name="a"><goto name="g">h</goto><hangup name="h"/></dialplan>`,
		"nested menu, long keys": `<dialplan name="a"><menu name="m" maxDigits="10" timeout="60000">
<keypress pressed="0123456789"><menu name="n" timeout="500"><keypress pressed="#"><goto>m</goto></keypress></menu></keypress>
</menu></dialplan>`,
		"entities":  `<dialplan name="a"><play>Tom &amp; Jerry &lt;3 &#65;</play></dialplan>`,
		"empty amd": `<dialplan name="a"><amd name="x"></amd></dialplan>`,
	} {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"goto unknown", `<dialplan name="a">
<amd>
<live>
<goto>live</goto>
</live>
<machine>
<goto>lvie</goto>
</machine>
</amd>
<menu name="live"><play>x</play></menu>
</dialplan>`, 7, `goto target "lvie" does not exist`},
		{"goto into a prompt", "<dialplan name=\"a\">\n<menu name=\"m\"><play name=\"p\">x</play></menu>\n<goto>p</goto></dialplan>", 3, `goto target "p" is a prompt of menu "m": go to the menu instead`},
		{"unknown element", "<dialplan name=\"a\">\n\n<say>x</say></dialplan>", 3, `unknown element <say>`},
		{"misplaced element", "<dialplan name=\"a\">\n<keypress pressed=\"1\"/></dialplan>", 2, `<keypress> is not allowed inside <dialplan>`},
		{"element in play", "<dialplan name=\"a\"><play>x\n<b>y</b></play></dialplan>", 2, `unknown element <b>`},
		{"unknown attribute", "<dialplan name=\"a\">\n<menu name=\"m\" maxdigits=\"1\"/></dialplan>", 2, `unknown attribute "maxdigits" on <menu>`},
		{"namespaced attribute", "<dialplan name=\"a\" xmlns=\"urn:x\"/>", 1, `XML namespaces are not supported`},
		{"namespaced child", "<dialplan name=\"a\">\n<x:play xmlns:x=\"urn:x\">a</x:play></dialplan>", 2, `unknown element <urn:x:play>`},
		{"prefixed attribute", "<dialplan name=\"a\" xmlns:x=\"urn:x\" x:name=\"b\"/>", 1, `unknown attribute "xmlns:x" on <dialplan>`},
		{"duplicate attribute", "<dialplan name=\"a\" name=\"b\"/>", 1, `duplicate attribute "name" on <dialplan>`},
		{"dialplan without name", "<dialplan><hangup/></dialplan>", 1, `<dialplan> needs a name`},
		{"menu without name", "<dialplan name=\"a\">\n<menu/></dialplan>", 2, `<menu> needs a name`},
		{"empty name", "<dialplan name=\"a\"><hangup name=\"\"/></dialplan>", 1, `empty name on <hangup>`},
		{"bad name", "<dialplan name=\"a\"><hangup name=\"a b\"/></dialplan>", 1, `invalid name "a b" on <hangup>: use up to 64 letters, digits, '_', '-' or '.'`},
		{"duplicate name", "<dialplan name=\"a\">\n<menu name=\"x\"/>\n\n<hangup name=\"x\"/></dialplan>", 4, `duplicate name "x" (first used on line 2)`},
		{"maxDigits 0", "<dialplan name=\"a\">\n<menu name=\"m\" maxDigits=\"0\"/></dialplan>", 2, `maxDigits "0" out of range: want 1-10`},
		{"maxDigits 11", "<dialplan name=\"a\"><menu name=\"m\" maxDigits=\"11\"/></dialplan>", 1, `maxDigits "11" out of range: want 1-10`},
		{"maxDigits sign", "<dialplan name=\"a\"><menu name=\"m\" maxDigits=\"+1\"/></dialplan>", 1, `maxDigits "+1" out of range: want 1-10`},
		{"timeout low", "<dialplan name=\"a\"><menu name=\"m\" timeout=\"499\"/></dialplan>", 1, `timeout "499" out of range: want 500-60000 milliseconds`},
		{"timeout high", "<dialplan name=\"a\"><menu name=\"m\" timeout=\"60001\"/></dialplan>", 1, `timeout "60001" out of range: want 500-60000 milliseconds`},
		{"timeout huge", "<dialplan name=\"a\"><menu name=\"m\" timeout=\"99999999999999\"/></dialplan>", 1, `timeout "99999999999999" out of range: want 500-60000 milliseconds`},
		{"play type", "<dialplan name=\"a\">\n<play type=\"mp3\">x.mp3</play></dialplan>", 2, `play type "mp3" is not supported: want "tts"`},
		{"unknown var", "<dialplan name=\"a\">\n<play>\nYour {{pin}}</play></dialplan>", 2, `unknown variable {{pin}} in play text (known: code, app)`},
		{"unclosed var", "<dialplan name=\"a\"><play>Your {{code</play></dialplan>", 1, `unclosed "{{" in play text`},
		{"empty play", "<dialplan name=\"a\">\n<play>  \n </play></dialplan>", 2, `play text is empty`},
		{"self-closed play", "<dialplan name=\"a\"><play/></dialplan>", 1, `play text is empty`},
		{"pressed letter", "<dialplan name=\"a\"><menu name=\"m\">\n<keypress pressed=\"a\"/></menu></dialplan>", 2, `pressed "a": want keys 0-9, * or #, or "timeout"`},
		{"pressed empty", "<dialplan name=\"a\"><menu name=\"m\"><keypress pressed=\"\"/></menu></dialplan>", 1, `pressed "": want keys 0-9, * or #, or "timeout"`},
		{"pressed missing", "<dialplan name=\"a\"><menu name=\"m\"><keypress/></menu></dialplan>", 1, `<keypress> needs a pressed attribute`},
		{"pressed too long", "<dialplan name=\"a\"><menu name=\"m\" maxDigits=\"2\"><keypress pressed=\"123\"/></menu></dialplan>", 1, `pressed "123" is longer than the menu's maxDigits 2`},
		{"duplicate keypress", "<dialplan name=\"a\"><menu name=\"m\">\n<keypress pressed=\"1\"/>\n<keypress pressed=\"1\"/></menu></dialplan>", 3, `duplicate keypress "1" in menu "m" (first on line 2)`},
		{"duplicate timeout", "<dialplan name=\"a\"><menu name=\"m\"><keypress pressed=\"timeout\"/><keypress pressed=\"timeout\"/></menu></dialplan>", 1, `duplicate keypress "timeout" in menu "m" (first on line 1)`},
		{"duplicate live", "<dialplan name=\"a\"><amd><live/>\n<live/></amd></dialplan>", 2, `duplicate <live> in <amd>`},
		{"empty goto", "<dialplan name=\"a\">\n<goto> </goto></dialplan>", 2, `<goto> has no target`},
		{"hangup with text", "<dialplan name=\"a\"><hangup>now</hangup></dialplan>", 1, `<hangup> must be empty`},
		{"text in menu", "<dialplan name=\"a\"><menu name=\"m\">\n\n  hello</menu></dialplan>", 3, `unexpected text "hello" inside <menu>`},
		{"text in amd", "<dialplan name=\"a\"><amd>\nx</amd></dialplan>", 2, `unexpected text "x" inside <amd>`},
		{"text in dialplan", "<dialplan name=\"a\">x</dialplan>", 1, `unexpected text "x" inside <dialplan>`},
		{"text before root", "\n\nhi<dialplan name=\"a\"/>", 3, `text "hi" before <dialplan>`},
		{"wrong root", "\n<ivr/>", 2, `root element is <ivr>, want <dialplan>`},
		{"empty", "", 1, `no <dialplan> element`},
		{"only a comment", "<!-- x -->\n", 2, `no <dialplan> element`},
		{"two roots", "<dialplan name=\"a\"/>\n<dialplan name=\"b\"/>", 2, `content after </dialplan>`},
		{"doctype", "<!DOCTYPE dialplan [<!ENTITY x \"y\">]>\n<dialplan name=\"a\"/>", 1, `DTDs and <!…> declarations are not allowed`},
		{"unknown entity", "<dialplan name=\"a\">\n<play>&x;</play></dialplan>", 2, `malformed XML: invalid character entity &x;`},
		{"processing instruction", "<dialplan name=\"a\">\n<?php echo 1 ?></dialplan>", 2, `processing instruction <?php?> is not allowed`},
		{"unclosed", "<dialplan name=\"a\">\n<menu name=\"m\">\n", 3, `malformed XML: unexpected EOF`},
		{"mismatched", "<dialplan name=\"a\">\n<amd></menu></dialplan>", 2, `malformed XML: element <amd> closed by </menu>`},
		{"too deep", "<dialplan name=\"a\">" + strings.Repeat("<amd><live>", 20) + strings.Repeat("</live></amd>", 20) + "</dialplan>", 1, `elements nested more than 32 deep`},
		{"too big", "<dialplan name=\"a\">" + strings.Repeat(" ", MaxSize) + "</dialplan>", 0, `dialplan is 65566 bytes, more than the limit of 65536`},
		{"invalid voice", "<dialplan name=\"a\"><play voice=\"a b\">x</play></dialplan>", 1, `invalid voice "a b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.src))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %v, %v; want a *SyntaxError", d, err)
			}
			if se.Line != tc.line || se.Msg != tc.msg {
				t.Errorf("got line %d %q\nwant line %d %q", se.Line, se.Msg, tc.line, tc.msg)
			}
		})
	}
}

func TestSyntaxErrorString(t *testing.T) {
	if got := (&SyntaxError{Line: 7, Msg: `goto target "lvie" does not exist`}).Error(); got != `line 7: goto target "lvie" does not exist` {
		t.Errorf("got %q", got)
	}
	if got := (&SyntaxError{Msg: "too big"}).Error(); got != "too big" {
		t.Errorf("got %q", got)
	}
}
