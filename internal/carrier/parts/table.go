package parts

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/plivo"
	"github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/carrier/smpp"
	"github.com/ringgate/ringgate/internal/carrier/telnyx"
	"github.com/ringgate/ringgate/internal/carrier/twilio"
	"github.com/ringgate/ringgate/internal/carrier/vonage"
	"github.com/ringgate/ringgate/internal/config"
)

// Factories is the table of carrier types: the one place that maps a
// config entry to its adapter. A new carrier type is a package of its own
// and one line here (and its options in internal/config).
var Factories = map[string]Factory{
	"sim":    newSim,
	"sip":    newSIP,
	"smpp":   newSMPP,
	"twilio": newTwilio,
	"telnyx": newTelnyx,
	"vonage": newVonage,
	"plivo":  newPlivo,
}

// newSim is a gateway into the one simulated network, down for good when
// the config rehearses an outage.
func newSim(c config.Carrier, h Host) (carrier.Sender, error) {
	if h.Sim == nil {
		return nil, fmt.Errorf("no simulated network to attach to")
	}
	return h.Sim.Gateway(c.Name, c.SimulateOutage), nil
}

func newSIP(c config.Carrier, h Host) (carrier.Sender, error) {
	s := c.SIP
	trusted, err := s.Trusted()
	if err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if len(s.TLSListen) > 0 {
		cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("sip.tls_cert/tls_key: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	med, err := sipMedia(c)
	if err != nil {
		return nil, err
	}
	return sip.New(sip.Config{
		Name: c.Name, Listen: s.Listen, Country: s.Country, Trusted: trusted, TrustUDP: s.TrustUDP,
		AllowDiverted: s.AllowDiverted, TLSListen: s.TLSListen, TLSConfig: tlsConf,
		TCPIdleTimeout: s.TCPIdleTimeout, TCPHeaderTimeout: s.TCPHeaderTimeout,
		TCPMaxConns: s.TCPMaxConns, TCPMaxConnsPerSource: s.TCPMaxConnsPerSource,
		UDPResponseRate: s.UDPResponseRate, UDPResponseBurst: s.UDPResponseBurst,
		Username: s.Username, Password: s.Password, RejectStatus: s.RejectStatus,
		Trunk: s.Trunk, OutboundProxy: s.OutboundProxy, PAI: s.PAI, Register: s.Register, Hostname: s.Hostname,
		TrustAnswer: s.TrustAnswer, Media: med, Inbound: h.Inbound, Events: h.Events, Logger: h.Logger,
	})
}

func newSMPP(c config.Carrier, h Host) (carrier.Sender, error) {
	s := c.SMPP
	pw, err := s.Secret()
	if err != nil {
		return nil, err
	}
	return smpp.New(smpp.Config{
		Name: c.Name, Addr: s.Addr, SystemID: s.SystemID, Password: pw, SystemType: s.SystemType,
		SourceAddr: s.SourceAddr, Country: s.Country, Rate: s.Rate,
		EnquireLink: s.EnquireLink, RebindInterval: s.RebindInterval,
		Events: h.Events, Logger: h.Logger,
	})
}

func newTwilio(c config.Carrier, h Host) (carrier.Sender, error) {
	o := c.HTTP
	return twilio.New(twilio.Config{
		Name: c.Name, AccountSID: o.AccountID, AuthToken: o.AuthToken, APIBase: o.APIBase, PublicURL: o.EffectivePublicURL(h.PublicURL),
		From: o.From, Country: o.Country, Secret: h.Secret, Inbound: h.Inbound, Events: h.Events, Logger: h.Logger,
	})
}

func newTelnyx(c config.Carrier, h Host) (carrier.Sender, error) {
	o := c.HTTP
	return telnyx.New(telnyx.Config{
		Name: c.Name, APIKey: o.APIKey, PublicKey: o.PublicKey, ConnectionID: o.ConnectionID,
		MessagingProfileID: o.MessagingProfileID, APIBase: o.APIBase, PublicURL: o.EffectivePublicURL(h.PublicURL),
		From: o.From, Country: o.Country, Secret: h.Secret, Inbound: h.Inbound, Events: h.Events, Logger: h.Logger,
	})
}

func newVonage(c config.Carrier, h Host) (carrier.Sender, error) {
	o := c.HTTP
	key, err := os.ReadFile(o.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	return vonage.New(vonage.Config{
		Name: c.Name, APIKey: o.APIKey, APISecret: o.APISecret, ApplicationID: o.ApplicationID,
		PrivateKey: key, SignatureSecret: o.SignatureSecret, APIBase: o.APIBase, PublicURL: o.EffectivePublicURL(h.PublicURL),
		From: o.From, Country: o.Country, Secret: h.Secret, Inbound: h.Inbound, Events: h.Events, Logger: h.Logger,
	})
}

func newPlivo(c config.Carrier, h Host) (carrier.Sender, error) {
	o := c.HTTP
	return plivo.New(plivo.Config{
		Name: c.Name, AuthID: o.AccountID, AuthToken: o.AuthToken, APIBase: o.APIBase, PublicURL: o.EffectivePublicURL(h.PublicURL),
		From: o.From, Country: o.Country, Secret: h.Secret, Inbound: h.Inbound, Events: h.Events, Logger: h.Logger,
	})
}
