package server

import (
	"errors"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/smpp"
)

// SMPPBound reports, by carrier name, whether each SMPP carrier is bound.
func (s *Server) SMPPBound() map[string]bool {
	out := map[string]bool{}
	s.carriers.Each(func(c carrier.Sender) {
		if sc, ok := c.(*smpp.Carrier); ok {
			out[c.Name()] = sc.Bound()
		}
	})
	return out
}

// cleanup is New's stack of what to close if a later step fails: pushed
// as each thing is opened, run last first.
type cleanup []func() error

func (c *cleanup) push(f func() error) { *c = append(*c, f) }

func (c cleanup) run() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}
