package httpcarrier

import (
	"strings"
	"sync/atomic"
)

// Senders is a carrier's from: list, the caller IDs and text senders used
// for commands that name none. Every carrier gives the list one meaning:
// round robin, each command taking the next number in turn. A list is a
// pool the operator rents for throughput (a long code sends about one
// text a second, and networks flag a number that places many short calls),
// so every number of it should carry traffic; "always the first" would
// leave the rest as dead configuration. docs/carriers.md says the same.
// Safe for concurrent use.
type Senders struct {
	list []string
	next atomic.Uint64
}

// NewSenders keeps a copy of list.
func NewSenders(list []string) *Senders {
	return &Senders{list: append([]string(nil), list...)}
}

// Pick returns want when the command names a number, else the list's
// next number in turn, else "".
func (s *Senders) Pick(want string) string {
	if want != "" || len(s.list) == 0 {
		return want
	}
	return s.list[(s.next.Add(1)-1)%uint64(len(s.list))]
}

// Digits strips a number to its digits, the form Vonage and Plivo want
// ("+44 7700 900123" → "447700900123").
func Digits(n string) string {
	var b strings.Builder
	for _, r := range n {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PlusLessSender writes a text sender as Vonage and Plivo want it: a
// number (digits, perhaps after a '+') as its digits, an alphanumeric
// sender ID as it is.
func PlusLessSender(from string) string {
	if d := Digits(from); d != "" && len(d)+1 >= len(from) {
		return d
	}
	return from
}
