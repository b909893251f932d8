package httpcarrier

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/ivr"
)

// IVRCall is a voice_otp call's dialplan session, rebuilt from the sealed
// token in a gather callback URL.
type IVRCall struct {
	Plan    *ivr.Dialplan
	Vars    map[string]string
	Session *ivr.Session
}

// ivrState is what a token carries: the plan (nil for ivr.Default()),
// the variables (the code), and the session snapshot.
type ivrState struct {
	Plan     []wireNode        `json:"p,omitempty"`
	PlanName string            `json:"n,omitempty"`
	Builtin  string            `json:"b,omitempty"` // the built-in plan's language (ivr.DefaultFor)
	Vars     map[string]string `json:"v,omitempty"`
	Snap     string            `json:"s"`
}

// SealIVR seals a session (its plan, its vars and where it stands) for
// the call id. Put the token into the URL the provider calls next; the
// code in vars is encrypted, never in the clear. The built-in plan is
// carried as a reference; an app's own plan travels whole (deflated), so
// any ringgate node can continue the call without shared state (the
// built-in plan seals to about 130 characters, a small custom one to about
// 350; one that seals to more than MaxToken is refused).
func (s *Sealer) SealIVR(id string, plan *ivr.Dialplan, vars map[string]string, sess *ivr.Session) (string, error) {
	st := ivrState{Vars: vars, Snap: sess.Snapshot()}
	if tag, ok := ivr.BuiltinLocale(plan); ok {
		st.Builtin = tag
	} else {
		nodes, err := encodeNodes(plan.Nodes, 0)
		if err != nil {
			return "", err
		}
		st.Plan, st.PlanName = nodes, plan.Name
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	tok := s.SealCompressed("ivr\x00"+id, b)
	if len(tok) > MaxToken {
		// OpenIVR would refuse it: fail the call now, not at the answer.
		return "", fmt.Errorf("%w: the dialplan is too large to carry in a callback URL (%d characters sealed, at most %d)", errPlan, len(tok), MaxToken)
	}
	return tok, nil
}

// OpenIVR opens a SealIVR token for the call id and resumes the session.
func (s *Sealer) OpenIVR(id, token string) (*IVRCall, error) {
	b, err := s.OpenCompressed("ivr\x00"+id, token)
	if err != nil {
		return nil, err
	}
	var st ivrState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, ErrSealed
	}
	plan := ivr.DefaultFor(st.Builtin)
	if st.Plan != nil {
		nodes, err := decodeNodes(st.Plan, 0)
		if err != nil {
			return nil, err
		}
		plan = &ivr.Dialplan{Name: st.PlanName, Nodes: nodes}
	}
	sess, err := plan.Resume(st.Snap, st.Vars)
	if err != nil {
		return nil, err
	}
	return &IVRCall{Plan: plan, Vars: st.Vars, Session: sess}, nil
}

// wireNode is a dialplan node in the sealed state's JSON.
type wireNode struct {
	K  string     `json:"k"` // a(md) m(enu) p(lay) g(oto) h(angup)
	N  string     `json:"n,omitempty"`
	L  []wireNode `json:"l,omitempty"` // amd live
	M  []wireNode `json:"m,omitempty"` // amd machine
	D  int        `json:"d,omitempty"` // menu max digits
	T  int64      `json:"t,omitempty"` // menu timeout, ms
	P  []wireNode `json:"p,omitempty"` // menu prompts (plays)
	KP []wireKey  `json:"kp,omitempty"`
	X  string     `json:"x,omitempty"` // play text, goto target
	V  string     `json:"v,omitempty"` // play voice
	Y  string     `json:"y,omitempty"` // play type
	G  string     `json:"g,omitempty"` // play language
}

type wireKey struct {
	P  string     `json:"p"`
	Do []wireNode `json:"do,omitempty"`
}

var errPlan = errors.New("httpcarrier: dialplan does not encode")

func encodeNodes(list []ivr.Node, depth int) ([]wireNode, error) {
	if depth > ivr.MaxDepth {
		return nil, errPlan
	}
	out := make([]wireNode, 0, len(list))
	for _, n := range list {
		var w wireNode
		switch n := n.(type) {
		case *ivr.AMD:
			l, err := encodeNodes(n.Live, depth+1)
			if err != nil {
				return nil, err
			}
			m, err := encodeNodes(n.Machine, depth+1)
			if err != nil {
				return nil, err
			}
			w = wireNode{K: "a", N: n.Name, L: l, M: m}
		case *ivr.Menu:
			w = wireNode{K: "m", N: n.Name, D: n.MaxDigits, T: n.Timeout.Milliseconds()}
			for _, p := range n.Prompts {
				w.P = append(w.P, wireNode{K: "p", N: p.Name, X: p.Text, V: p.Voice, Y: p.Type, G: p.Language})
			}
			for _, k := range n.Keys {
				do, err := encodeNodes(k.Do, depth+1)
				if err != nil {
					return nil, err
				}
				w.KP = append(w.KP, wireKey{P: k.Pressed, Do: do})
			}
		case *ivr.Play:
			w = wireNode{K: "p", N: n.Name, X: n.Text, V: n.Voice, Y: n.Type, G: n.Language}
		case *ivr.Goto:
			w = wireNode{K: "g", N: n.Name, X: n.Target}
		case *ivr.Hangup:
			w = wireNode{K: "h", N: n.Name}
		default:
			return nil, fmt.Errorf("%w: node %T", errPlan, n)
		}
		out = append(out, w)
	}
	return out, nil
}

func decodeNodes(list []wireNode, depth int) ([]ivr.Node, error) {
	if depth > ivr.MaxDepth {
		return nil, ErrSealed
	}
	out := make([]ivr.Node, 0, len(list))
	for _, w := range list {
		switch w.K {
		case "a":
			l, err := decodeNodes(w.L, depth+1)
			if err != nil {
				return nil, err
			}
			m, err := decodeNodes(w.M, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, &ivr.AMD{Name: w.N, Live: l, Machine: m})
		case "m":
			menu := &ivr.Menu{Name: w.N, MaxDigits: w.D, Timeout: time.Duration(w.T) * time.Millisecond}
			for _, p := range w.P {
				menu.Prompts = append(menu.Prompts, &ivr.Play{Name: p.N, Text: p.X, Voice: p.V, Type: p.Y, Language: p.G})
			}
			for _, k := range w.KP {
				do, err := decodeNodes(k.Do, depth+1)
				if err != nil {
					return nil, err
				}
				menu.Keys = append(menu.Keys, &ivr.Keypress{Pressed: k.P, Do: do})
			}
			out = append(out, menu)
		case "p":
			out = append(out, &ivr.Play{Name: w.N, Text: w.X, Voice: w.V, Type: w.Y, Language: w.G})
		case "g":
			out = append(out, &ivr.Goto{Name: w.N, Target: w.X})
		case "h":
			out = append(out, &ivr.Hangup{Name: w.N})
		default:
			return nil, ErrSealed
		}
	}
	return out, nil
}

// AnsweredBy maps a provider's answering-machine verdict onto
// ringgate's. Providers say it differently (Twilio and TeXML: "human",
// "machine_start", "machine_end_beep", "fax", "unknown"; Telnyx also
// "machine", "fax_detected", "not_sure"); anything that starts with
// "machine" or "fax" is a machine, "human" a person, and the rest (or no
// detection) unknown.
func AnsweredBy(provider string) string {
	p := strings.ToLower(strings.TrimSpace(provider))
	switch {
	case p == "human" || p == "person":
		return carrier.AnsweredHuman
	case strings.HasPrefix(p, "machine") || strings.HasPrefix(p, "fax"):
		return carrier.AnsweredMachine
	default:
		return carrier.AnsweredUnknown
	}
}

// PromptEvents are the EventPrompt events for the Say actions in acts
// (the transcript; the domain keeps it out of stored events).
func PromptEvents(carrierName, id string, acts []ivr.Action, at time.Time) []carrier.Event {
	var out []carrier.Event
	for _, a := range acts {
		if a.Kind == ivr.Say {
			out = append(out, carrier.Event{Kind: carrier.EventPrompt, ID: id, Carrier: carrierName, Text: a.Text, At: at})
		}
	}
	return out
}
