package config

import (
	"strings"
	"testing"
	"time"
)

// The SIP security keys: trust_udp needs networks to trust, tls_listen
// needs a certificate and key, limits are not negative.
func TestValidateSIPSecurityKeys(t *testing.T) {
	t.Parallel()
	ok := serveBase()
	ok.Carriers = []Carrier{{Name: "in", Type: "sip", SIP: SIP{
		Listen: []string{"0.0.0.0:5060"}, TLSListen: []string{"0.0.0.0:5061"}, TLSCert: "c.pem", TLSKey: "k.pem",
		TrustedNetworks: []string{"192.0.2.0/24"}, TrustUDP: true, AllowDiverted: true,
		TCPIdleTimeout: time.Minute, TCPHeaderTimeout: 5 * time.Second, TCPMaxConns: 10, TCPMaxConnsPerSource: 2,
		UDPResponseRate: 1, UDPResponseBurst: 2,
	}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid sip security keys refused: %v", err)
	}
	bad := serveBase()
	bad.Carriers = []Carrier{
		{Name: "udp", Type: "sip", SIP: SIP{Listen: []string{"0.0.0.0:5060"}, Username: "u", Password: "p", TrustUDP: true}},
		{Name: "tls", Type: "sip", SIP: SIP{TLSListen: []string{"0.0.0.0:5061"}, TrustedNetworks: []string{"192.0.2.0/24"}, Trunk: "sip:t"}},
		{Name: "neg", Type: "sip", SIP: SIP{Listen: []string{"0.0.0.0:5060"}, TrustedNetworks: []string{"192.0.2.0/24"}, TCPIdleTimeout: -time.Second}},
	}
	err := bad.Validate()
	for _, want := range []string{"carriers[0] (udp): sip.trust_udp needs trusted_networks", "carriers[1] (tls): sip.tls_listen needs tls_cert and tls_key", "carriers[2] (neg): sip: tcp_* and udp_response_* limits must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	// Dev mode's loopback listener trusts UDP (loopback cannot be forged
	// from outside the host).
	d := Defaults(ModeDev)
	d.AddDevSIP("127.0.0.1:5060", "")
	if s := d.Carriers[len(d.Carriers)-1].SIP; !s.TrustUDP {
		t.Errorf("AddDevSIP: trust_udp off: %+v", s)
	}
}
