package ivr

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxPlayText bounds one play's text, in characters after whitespace is
// collapsed (TTS engines and HTTP carriers refuse longer).
const MaxPlayText = 4000

// maxNameLen bounds a node name.
const maxNameLen = 64

// Parse reads a dialplan's XML form and validates it: known elements and
// attributes only, goto targets that exist, a maxDigits and timeout in
// range, {{placeholders}} that are known variables. A fault is a
// *SyntaxError naming the line. Parse reads at most MaxSize bytes and
// MaxDepth nested elements; it accepts no DTD and no entities beyond XML's
// five predefined ones.
func Parse(src []byte) (*Dialplan, error) {
	if len(src) > MaxSize {
		return nil, &SyntaxError{Msg: fmt.Sprintf("dialplan is %d bytes, more than the limit of %d", len(src), MaxSize)}
	}
	p := &parser{src: src, line: 1, names: map[string]nameDecl{}}
	p.dec = xml.NewDecoder(bytes.NewReader(src))
	p.dec.Strict = true
	p.dec.Entity = nil // predefined entities only
	d, err := p.document()
	if err != nil {
		return nil, err
	}
	for _, g := range p.gotos {
		decl, ok := p.names[g.target]
		switch {
		case !ok:
			return nil, &SyntaxError{Line: g.line, Msg: fmt.Sprintf("goto target %q does not exist", g.target)}
		case decl.prompt != "":
			return nil, &SyntaxError{Line: g.line, Msg: fmt.Sprintf("goto target %q is a prompt of menu %q: go to the menu instead", g.target, decl.prompt)}
		}
	}
	return d, nil
}

type nameDecl struct {
	line   int
	prompt string // the menu's name when the node is one of its prompts (not a goto target)
}

type gotoRef struct {
	target string
	line   int
}

type parser struct {
	src     []byte
	dec     *xml.Decoder
	lineOff int64 // src[:lineOff] has been counted into line
	line    int   // line at lineOff
	tokLine int   // line the last token started on
	tokOff  int64 // and its offset
	depth   int
	names   map[string]nameDecl
	gotos   []gotoRef
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lineAt returns the 1-based line of byte offset off. Offsets only grow, so
// the count is incremental.
func (p *parser) lineAt(off int64) int {
	if off > int64(len(p.src)) {
		off = int64(len(p.src))
	}
	if off > p.lineOff {
		p.line += bytes.Count(p.src[p.lineOff:off], []byte{'\n'})
		p.lineOff = off
	}
	return p.line
}

// next returns the next token, recording the line it starts on. End of
// input is io.EOF; malformed XML is a *SyntaxError.
func (p *parser) next() (xml.Token, error) {
	p.tokOff = p.dec.InputOffset()
	p.tokLine = p.lineAt(p.tokOff)
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, &SyntaxError{Line: se.Line, Msg: "malformed XML: " + se.Msg}
		}
		return nil, &SyntaxError{Line: p.tokLine, Msg: "malformed XML: " + err.Error()}
	}
	switch t := tok.(type) {
	case xml.Directive:
		return nil, p.errf(p.tokLine, "DTDs and <!…> declarations are not allowed")
	case xml.ProcInst:
		if t.Target != "xml" {
			return nil, p.errf(p.tokLine, "processing instruction <?%s?> is not allowed", clip(t.Target))
		}
	}
	return tok, nil
}

func clip(s string) string {
	const n = 24
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// textLine is the line of the first non-space character of the last token
// read, character data (which the decoder has normalised: the source is
// counted, not t).
func (p *parser) textLine(xml.CharData) int {
	off := p.tokOff
	for off < int64(len(p.src)) {
		switch p.src[off] {
		case ' ', '\t', '\r', '\n':
			off++
			continue
		}
		break
	}
	return p.lineAt(off)
}

func isSpace(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

var knownElements = map[string]bool{
	"dialplan": true, "amd": true, "live": true, "machine": true, "menu": true,
	"keypress": true, "play": true, "goto": true, "hangup": true,
}

// misplaced explains why se may not appear inside parent.
func (p *parser) misplaced(se xml.StartElement, parent string) error {
	if se.Name.Space == "" && knownElements[se.Name.Local] {
		return p.errf(p.tokLine, "<%s> is not allowed inside <%s>", se.Name.Local, parent)
	}
	return p.errf(p.tokLine, "unknown element <%s>", clip(qname(se.Name)))
}

func (p *parser) document() (*Dialplan, error) {
	first := true
	for {
		tok, err := p.next()
		if err == io.EOF {
			return nil, p.errf(p.tokLine, "no <dialplan> element")
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.ProcInst: // the XML declaration, which must come first
			if !first {
				return nil, p.errf(p.tokLine, "the XML declaration must come first")
			}
		case xml.CharData:
			if !isSpace(t) {
				return nil, p.errf(p.textLine(t), "text %q before <dialplan>", clip(strings.TrimSpace(string(t))))
			}
		case xml.Comment:
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, p.errf(p.tokLine, "XML namespaces are not supported")
			}
			if t.Name.Local != "dialplan" {
				return nil, p.errf(p.tokLine, "root element is <%s>, want <dialplan>", clip(qname(t.Name)))
			}
			d, err := p.dialplan(t)
			if err != nil {
				return nil, err
			}
			return d, p.trailer()
		}
		first = false
	}
}

// trailer accepts only whitespace and comments after </dialplan>.
func (p *parser) trailer() error {
	for {
		tok, err := p.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.Comment:
		case xml.CharData:
			if !isSpace(t) {
				return p.errf(p.tokLine, "content after </dialplan>")
			}
		default:
			return p.errf(p.tokLine, "content after </dialplan>")
		}
	}
}

// attrs returns se's attributes, refusing unknown and repeated ones.
func (p *parser) attrs(se xml.StartElement, allowed ...string) (map[string]string, error) {
	m := make(map[string]string, len(se.Attr))
	for _, a := range se.Attr {
		name := qname(a.Name)
		ok := a.Name.Space == ""
		if ok {
			ok = false
			for _, al := range allowed {
				if al == name {
					ok = true
					break
				}
			}
		}
		if !ok {
			return nil, p.errf(p.tokLine, "unknown attribute %q on <%s>", clip(name), se.Name.Local)
		}
		if _, dup := m[name]; dup {
			return nil, p.errf(p.tokLine, "duplicate attribute %q on <%s>", name, se.Name.Local)
		}
		m[name] = a.Value
	}
	return m, nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// name validates and declares the name attribute of the element starting
// on the current line. required says whether it may be absent; prompt is
// the menu name for a menu's prompts.
func (p *parser) name(attrs map[string]string, elem string, required bool, prompt string) (string, error) {
	n, ok := attrs["name"]
	if !ok {
		if required {
			return "", p.errf(p.tokLine, "<%s> needs a name", elem)
		}
		return "", nil
	}
	if !validName(n) {
		if n == "" {
			return "", p.errf(p.tokLine, "empty name on <%s>", elem)
		}
		return "", p.errf(p.tokLine, "invalid name %q on <%s>: use up to %d letters, digits, '_', '-' or '.'", clip(n), elem, maxNameLen)
	}
	if prev, dup := p.names[n]; dup {
		return "", p.errf(p.tokLine, "duplicate name %q (first used on line %d)", n, prev.line)
	}
	p.names[n] = nameDecl{line: p.tokLine, prompt: prompt}
	return n, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(p.tokLine, "elements nested more than %d deep", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) dialplan(se xml.StartElement) (*Dialplan, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name")
	if err != nil {
		return nil, err
	}
	d := &Dialplan{}
	if d.Name, err = p.name(a, "dialplan", true, ""); err != nil {
		return nil, err
	}
	if d.Nodes, err = p.nodes("dialplan"); err != nil {
		return nil, err
	}
	return d, nil
}

// nodes reads the executable children of parent up to its end tag.
func (p *parser) nodes(parent string) ([]Node, error) {
	var out []Node
	for {
		tok, err := p.next()
		if err != nil {
			return nil, p.eof(err, parent)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return out, nil
		case xml.CharData:
			if !isSpace(t) {
				return nil, p.errf(p.textLine(t), "unexpected text %q inside <%s>", clip(strings.TrimSpace(string(t))), parent)
			}
		case xml.Comment, xml.ProcInst:
		case xml.StartElement:
			var n Node
			switch {
			case t.Name.Space != "":
				return nil, p.misplaced(t, parent)
			case t.Name.Local == "amd":
				n, err = p.amd(t)
			case t.Name.Local == "menu":
				n, err = p.menu(t)
			case t.Name.Local == "play":
				n, err = p.play(t, "")
			case t.Name.Local == "goto":
				n, err = p.gotoNode(t)
			case t.Name.Local == "hangup":
				n, err = p.hangup(t)
			default:
				return nil, p.misplaced(t, parent)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
}

// eof turns the end of input inside an element into a SyntaxError.
func (p *parser) eof(err error, elem string) error {
	if err == io.EOF {
		return p.errf(p.lineAt(int64(len(p.src))), "unexpected end of input inside <%s>", elem)
	}
	return err
}

func (p *parser) amd(se xml.StartElement) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name")
	if err != nil {
		return nil, err
	}
	n := &AMD{}
	if n.Name, err = p.name(a, "amd", false, ""); err != nil {
		return nil, err
	}
	var seenLive, seenMachine bool
	for {
		tok, err := p.next()
		if err != nil {
			return nil, p.eof(err, "amd")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return n, nil
		case xml.CharData:
			if !isSpace(t) {
				return nil, p.errf(p.textLine(t), "unexpected text %q inside <amd>", clip(strings.TrimSpace(string(t))))
			}
		case xml.Comment, xml.ProcInst:
		case xml.StartElement:
			if t.Name.Space != "" || (t.Name.Local != "live" && t.Name.Local != "machine") {
				return nil, p.misplaced(t, "amd")
			}
			seen := &seenLive
			if t.Name.Local == "machine" {
				seen = &seenMachine
			}
			if *seen {
				return nil, p.errf(p.tokLine, "duplicate <%s> in <amd>", t.Name.Local)
			}
			*seen = true
			if _, err := p.attrs(t); err != nil {
				return nil, err
			}
			if err := p.enter(); err != nil {
				return nil, err
			}
			list, err := p.nodes(t.Name.Local)
			p.leave()
			if err != nil {
				return nil, err
			}
			if t.Name.Local == "live" {
				n.Live = list
			} else {
				n.Machine = list
			}
		}
	}
}

// number parses a decimal attribute without sign or spaces.
func number(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (p *parser) menu(se xml.StartElement) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name", "maxDigits", "timeout")
	if err != nil {
		return nil, err
	}
	m := &Menu{MaxDigits: DefaultMaxDigits, Timeout: DefaultTimeout}
	line := p.tokLine
	if m.Name, err = p.name(a, "menu", true, ""); err != nil {
		return nil, err
	}
	if v, ok := a["maxDigits"]; ok {
		n, ok := number(v)
		if !ok || n < 1 || n > MaxMenuDigits {
			return nil, p.errf(line, "maxDigits %q out of range: want 1-%d", clip(v), MaxMenuDigits)
		}
		m.MaxDigits = n
	}
	if v, ok := a["timeout"]; ok {
		n, ok := number(v)
		d := time.Duration(n) * time.Millisecond
		if !ok || d < MinTimeout || d > MaxTimeout {
			return nil, p.errf(line, "timeout %q out of range: want %d-%d milliseconds", clip(v), MinTimeout.Milliseconds(), MaxTimeout.Milliseconds())
		}
		m.Timeout = d
	}
	pressed := map[string]int{}
	for {
		tok, err := p.next()
		if err != nil {
			return nil, p.eof(err, "menu")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return m, nil
		case xml.CharData:
			if !isSpace(t) {
				return nil, p.errf(p.textLine(t), "unexpected text %q inside <menu>", clip(strings.TrimSpace(string(t))))
			}
		case xml.Comment, xml.ProcInst:
		case xml.StartElement:
			switch {
			case t.Name.Space == "" && t.Name.Local == "play":
				pl, err := p.play(t, m.Name)
				if err != nil {
					return nil, err
				}
				m.Prompts = append(m.Prompts, pl)
			case t.Name.Space == "" && t.Name.Local == "keypress":
				k, err := p.keypress(t, m, pressed)
				if err != nil {
					return nil, err
				}
				m.Keys = append(m.Keys, k)
			default:
				return nil, p.misplaced(t, "menu")
			}
		}
	}
}

// validPressed reports whether s is 1..max keys from 0-9 * #.
func validPressed(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isKey(s[i]) {
			return false
		}
	}
	return true
}

func isKey(c byte) bool { return c >= '0' && c <= '9' || c == '*' || c == '#' }

func (p *parser) keypress(se xml.StartElement, m *Menu, seen map[string]int) (*Keypress, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "pressed")
	if err != nil {
		return nil, err
	}
	v, ok := a["pressed"]
	switch {
	case !ok:
		return nil, p.errf(p.tokLine, "<keypress> needs a pressed attribute")
	case v == PressedTimeout:
	case !validPressed(v, MaxMenuDigits):
		return nil, p.errf(p.tokLine, "pressed %q: want keys 0-9, * or #, or \"timeout\"", clip(v))
	case len(v) > m.MaxDigits:
		return nil, p.errf(p.tokLine, "pressed %q is longer than the menu's maxDigits %d", v, m.MaxDigits)
	}
	if prev, dup := seen[v]; dup {
		return nil, p.errf(p.tokLine, "duplicate keypress %q in menu %q (first on line %d)", v, m.Name, prev)
	}
	seen[v] = p.tokLine
	k := &Keypress{Pressed: v}
	if k.Do, err = p.nodes("keypress"); err != nil {
		return nil, err
	}
	return k, nil
}

// text reads character data up to elem's end tag; comments are skipped,
// elements refused.
func (p *parser) text(elem string) (string, error) {
	var b strings.Builder
	for {
		tok, err := p.next()
		if err != nil {
			return "", p.eof(err, elem)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return strings.Join(strings.Fields(b.String()), " "), nil
		case xml.CharData:
			b.Write(t)
		case xml.Comment, xml.ProcInst:
		case xml.StartElement:
			return "", p.misplaced(t, elem)
		}
	}
}

func (p *parser) play(se xml.StartElement, menu string) (*Play, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name", "type", "voice", "language")
	if err != nil {
		return nil, err
	}
	line := p.tokLine
	pl := &Play{Type: "tts", Voice: a["voice"], Language: a["language"]}
	if pl.Name, err = p.name(a, "play", false, menu); err != nil {
		return nil, err
	}
	if t, ok := a["type"]; ok && t != "tts" {
		return nil, p.errf(line, "play type %q is not supported: want \"tts\"", clip(t))
	}
	if _, ok := a["voice"]; ok && !validName(pl.Voice) {
		return nil, p.errf(line, "invalid voice %q", clip(pl.Voice))
	}
	if _, ok := a["language"]; ok && !languageTag(pl.Language) {
		return nil, p.errf(line, "invalid language %q: want a tag like \"fr-FR\"", clip(pl.Language))
	}
	if pl.Text, err = p.text("play"); err != nil {
		return nil, err
	}
	switch {
	case pl.Text == "":
		return nil, p.errf(line, "play text is empty")
	case utf8.RuneCountInString(pl.Text) > MaxPlayText:
		return nil, p.errf(line, "play text is longer than %d characters", MaxPlayText)
	}
	if err := scanTemplate(pl.Text, func(string) {}, func(string) {}); err != nil {
		return nil, p.errf(line, "%s", err.Error())
	}
	return pl, nil
}

func (p *parser) gotoNode(se xml.StartElement) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name")
	if err != nil {
		return nil, err
	}
	line := p.tokLine
	g := &Goto{}
	if g.Name, err = p.name(a, "goto", false, ""); err != nil {
		return nil, err
	}
	if g.Target, err = p.text("goto"); err != nil {
		return nil, err
	}
	if g.Target == "" {
		return nil, p.errf(line, "<goto> has no target")
	}
	p.gotos = append(p.gotos, gotoRef{target: g.Target, line: line})
	return g, nil
}

func (p *parser) hangup(se xml.StartElement) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.attrs(se, "name")
	if err != nil {
		return nil, err
	}
	line := p.tokLine
	h := &Hangup{}
	if h.Name, err = p.name(a, "hangup", false, ""); err != nil {
		return nil, err
	}
	t, err := p.text("hangup")
	if err != nil {
		return nil, err
	}
	if t != "" {
		return nil, p.errf(line, "<hangup> must be empty")
	}
	return h, nil
}

// scanTemplate splits text into literals and {{variable}} names, calling
// lit and v in order. It fails on an unclosed "{{" or an unknown variable.
// ScanTemplate splits a play text into literal stretches (lit) and
// {{variables}} (v, the name), in order; an unclosed or unknown
// placeholder is an error (Parse refuses such texts).
func ScanTemplate(text string, lit, v func(string)) error { return scanTemplate(text, lit, v) }

// Walk calls f for every play of d, menus' prompts included, in document
// order.
func Walk(d *Dialplan, f func(*Play)) { walkNodes(d.Nodes, f) }

func walkNodes(list []Node, f func(*Play)) {
	for _, n := range list {
		switch n := n.(type) {
		case *Play:
			f(n)
		case *AMD:
			walkNodes(n.Live, f)
			walkNodes(n.Machine, f)
		case *Menu:
			for _, p := range n.Prompts {
				f(p)
			}
			for _, k := range n.Keys {
				walkNodes(k.Do, f)
			}
		}
	}
}

func scanTemplate(text string, lit, v func(string)) error {
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			if text != "" {
				lit(text)
			}
			return nil
		}
		if i > 0 {
			lit(text[:i])
		}
		rest := text[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return errors.New(`unclosed "{{" in play text`)
		}
		name := strings.TrimSpace(rest[:j])
		if !knownVar(name) {
			return fmt.Errorf("unknown variable {{%s}} in play text (known: %s)", clip(name), strings.Join(KnownVars, ", "))
		}
		v(name)
		text = rest[j+2:]
	}
}

func knownVar(name string) bool {
	for _, k := range KnownVars {
		if k == name {
			return true
		}
	}
	return false
}

// languageTag accepts a BCP 47 style tag: letters, then "-" and letters
// or digits ("fr", "fr-FR", "cmn-Hans-CN"), at most 35 characters.
func languageTag(s string) bool {
	if s == "" || len(s) > 35 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && (len(part) < 2 || len(part) > 3)) {
			return false
		}
		for _, c := range part {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}
