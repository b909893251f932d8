package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier/smpp"
	"github.com/ringgate/ringgate/internal/config"
)

// newSMPPCarriers builds the config's SMPP accounts (not yet bound) and
// registers their ringgate_smpp_bound gauge. Building connects nothing,
// so there is nothing to undo on error.
func newSMPPCarriers(cfg config.Config, side carrierSide, log *slog.Logger, reg prometheus.Registerer) ([]*smpp.Carrier, error) {
	var out []*smpp.Carrier
	for _, c := range cfg.Carriers {
		if c.Type != "smpp" {
			continue
		}
		pw, err := c.SMPP.Secret()
		if err != nil {
			return nil, fmt.Errorf("config: carrier %s: %w", c.Name, err)
		}
		sc, err := smpp.New(smpp.Config{
			Name: c.Name, Addr: c.SMPP.Addr, SystemID: c.SMPP.SystemID, Password: pw, SystemType: c.SMPP.SystemType,
			SourceAddr: c.SMPP.SourceAddr, Country: c.SMPP.Country, Rate: c.SMPP.Rate,
			EnquireLink: c.SMPP.EnquireLink, RebindInterval: c.SMPP.RebindInterval,
			Events: side, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("config: carrier %s: %w", c.Name, err)
		}
		err = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringgate_smpp_bound", Help: "1 while the SMPP carrier holds a bind to its SMSC, else 0.",
			ConstLabels: prometheus.Labels{"carrier": c.Name},
		}, func() float64 {
			if sc.Bound() {
				return 1
			}
			return 0
		}))
		if err != nil {
			return nil, fmt.Errorf("carrier %s: metrics: %w", c.Name, err)
		}
		out = append(out, sc)
	}
	return out, nil
}

// startSMPP binds every SMPP carrier in the background: an SMSC that is
// down does not keep ringgate from starting, its texts fail over.
func (s *Server) startSMPP(ctx context.Context) error {
	for _, c := range s.smpps {
		if err := c.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) closeSMPP() error {
	var errs []error
	for _, c := range s.smpps {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// SMPPBound reports, by carrier name, whether each SMPP carrier is bound.
func (s *Server) SMPPBound() map[string]bool {
	out := map[string]bool{}
	for _, c := range s.smpps {
		out[c.Name()] = c.Bound()
	}
	return out
}
