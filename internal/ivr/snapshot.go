package ivr

import (
	"errors"
	"strconv"
	"strings"
)

// Snapshot encodes where the session stands (who answered, how many
// gathers so far, the position in the plan) as a short ASCII string
// without spaces, such as "1.h.2.w.0:2/K0:1". A stateless runner (an HTTP
// carrier's webhook handler, any node of several) keeps it between requests,
// for instance in the action URL of a TwiML <Gather>, and rebuilds the
// session with Dialplan.Resume. Vars are not included: they hold the
// code, so pass them to Resume again.
func (s *Session) Snapshot() string {
	var b strings.Builder
	b.WriteString("1.")
	switch s.by {
	case "human":
		b.WriteByte('h')
	case "machine":
		b.WriteByte('m')
	default:
		b.WriteByte('u')
	}
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(s.gathers))
	b.WriteByte('.')
	switch {
	case s.done:
		b.WriteString("d.")
		return b.String()
	case !s.answered:
		b.WriteString("n.")
		return b.String()
	}
	b.WriteString("w.") // after Answered a live session always waits on a menu
	for i, f := range s.stack {
		if i > 0 {
			b.WriteByte('/')
			parent := s.stack[i-1]
			b.WriteString(selector(parent.list[parent.next-1], f.list))
			b.WriteByte(':')
		} else {
			b.WriteString("0:")
		}
		b.WriteString(strconv.Itoa(f.next))
	}
	return b.String()
}

// selector names list as a child of n: "L" and "M" for an amd's live and
// machine branches, "K<i>" for a menu's i-th keypress.
func selector(n Node, list []Node) string {
	switch n := n.(type) {
	case *AMD:
		if sameList(n.Machine, list) && !sameList(n.Live, list) {
			return "M"
		}
		return "L"
	case *Menu:
		for i, k := range n.Keys {
			if sameList(k.Do, list) {
				return "K" + strconv.Itoa(i)
			}
		}
	}
	return "?"
}

// sameList reports whether a and b are the same slice (not merely equal).
func sameList(a, b []Node) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ErrSnapshot is returned by Resume for a snapshot that does not fit the
// dialplan (it was taken on another plan, or mangled).
var ErrSnapshot = errors.New("ivr: snapshot does not fit the dialplan")

// Resume rebuilds a session from a Snapshot taken on the same dialplan
// (the same document; a re-parsed copy is fine), with the call's vars.
func (d *Dialplan) Resume(snapshot string, vars map[string]string) (*Session, error) {
	if len(snapshot) > 4096 {
		return nil, ErrSnapshot
	}
	parts := strings.SplitN(snapshot, ".", 5)
	if len(parts) != 5 || parts[0] != "1" {
		return nil, ErrSnapshot
	}
	s := d.Start(vars)
	switch parts[1] {
	case "h":
		s.by = "human"
	case "m":
		s.by = "machine"
	case "u":
		s.by = "unknown"
	default:
		return nil, ErrSnapshot
	}
	g, ok := number(parts[2])
	if !ok || g > MaxGathers {
		return nil, ErrSnapshot
	}
	s.gathers = g
	switch parts[3] {
	case "n":
		if parts[4] != "" || g != 0 {
			return nil, ErrSnapshot
		}
		s.by = ""
		return s, nil
	case "d":
		if parts[4] != "" {
			return nil, ErrSnapshot
		}
		s.answered, s.done = true, true
		return s, nil
	case "w":
	default:
		return nil, ErrSnapshot
	}
	s.answered = true
	list := d.Nodes
	for i, f := range strings.Split(parts[4], "/") {
		sel, idx, ok := strings.Cut(f, ":")
		if !ok {
			return nil, ErrSnapshot
		}
		next, ok := number(idx)
		if !ok {
			return nil, ErrSnapshot
		}
		if i == 0 {
			if sel != "0" {
				return nil, ErrSnapshot
			}
		} else {
			parent := s.stack[i-1]
			var okSel bool
			if list, okSel = child(parent.list[parent.next-1], sel); !okSel {
				return nil, ErrSnapshot
			}
		}
		if next < 1 || next > len(list) {
			return nil, ErrSnapshot
		}
		s.stack = append(s.stack, frame{list: list, next: next})
	}
	top := s.stack[len(s.stack)-1]
	m, ok := top.list[top.next-1].(*Menu)
	if !ok {
		return nil, ErrSnapshot
	}
	s.menu = m
	return s, nil
}

func child(n Node, sel string) ([]Node, bool) {
	switch n := n.(type) {
	case *AMD:
		switch sel {
		case "L":
			return n.Live, true
		case "M":
			return n.Machine, true
		}
	case *Menu:
		if k, ok := strings.CutPrefix(sel, "K"); ok {
			if i, ok := number(k); ok && i < len(n.Keys) {
				return n.Keys[i].Do, true
			}
		}
	}
	return nil, false
}
