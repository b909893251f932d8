package httpcarrier

import "sync/atomic"

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
