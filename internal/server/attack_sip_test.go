package server_test

// Forgery over SIP (issue 13): an attacker who does not hold a phone
// number tries to get it verified with INVITEs sent to a real dev server's
// SIP listener from raw sockets on loopback.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/config"
)

// sipInvite sends one INVITE over network ("udp", "tcp" or "tls") to addr
// and returns the start line of the first final response ("" if none came
// within 5 s). from is the From URI; extra are header lines.
func sipInvite(t *testing.T, network, addr, from, to string, extra ...string) string {
	t.Helper()
	var conn net.Conn
	var err error
	switch network {
	case "tls":
		conn, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	default:
		conn, err = net.Dial(network, addr)
	}
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer conn.Close()
	callID := fmt.Sprintf("attack-%d@%s", time.Now().UnixNano(), conn.LocalAddr())
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@127.0.0.1 SIP/2.0\r\n", to)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK-%d\r\n", strings.ToUpper(network), conn.LocalAddr(), time.Now().UnixNano())
	fmt.Fprintf(&b, "From: <%s>;tag=atk\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n", from, to, callID)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	conn.SetReadDeadline(deadline)
	if network == "udp" {
		buf := make([]byte, 65535)
		for time.Now().Before(deadline) {
			n, err := conn.Read(buf)
			if err != nil {
				return ""
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			if !strings.HasPrefix(line, "SIP/2.0 1") {
				return line
			}
		}
		return ""
	}
	rd := bufio.NewReader(conn)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return ""
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "SIP/2.0 ") && !strings.HasPrefix(line, "SIP/2.0 1") {
			return line
		}
	}
}

// A trunk whose trusted network is loopback, with no UDP opt-in: what an
// operator writes for "calls come from my carrier's SBC".
func trustedTrunk(mut ...func(*config.SIP)) func(*config.Config) {
	return func(c *config.Config) {
		s := config.SIP{Listen: []string{"127.0.0.1:0"}, Country: "GB", TrustedNetworks: []string{"127.0.0.0/8"}}
		for _, m := range mut {
			m(&s)
		}
		c.Carriers = append(c.Carriers, config.Carrier{Name: "trunk", Type: "sip", SIP: s})
	}
}

// 13.2: one UDP datagram whose source is forged into the trusted network
// (here: really sent from it) asserts the victim's number, in
// P-Asserted-Identity or in From. UDP sources are not trusted unless the
// trunk opts in, so neither verifies; over TCP from the same network the
// trunk's assertion is believed.
func TestAttackSpoofedUDPSourceInTrustedNetwork(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), trustedTrunk())
	addr := h.srv.SIPAddrs()["trunk"][0]
	for _, tc := range []struct {
		name, phone, from string
		extra             []string
	}{
		{"pai", "+447911123470", "sip:+447700900999@attacker.example", []string{"P-Asserted-Identity: <sip:+447911123470@carrier.example>"}},
		{"from", "+447911123471", "sip:+447911123471@carrier.example", nil},
	} {
		v := h.start(tc.phone, "", nil)
		id, dial := v["id"].(string), v["dial_number"].(string)
		got := sipInvite(t, "udp", addr, tc.from, dial, tc.extra...)
		if st := h.get(id)["status"]; st != "pending" {
			t.Fatalf("%s: a UDP INVITE from the trusted network (answered %q) left the victim's verification %v", tc.name, got, st)
		}
		if !strings.HasPrefix(got, "SIP/2.0 4") && !strings.HasPrefix(got, "SIP/2.0 6") && got != "" {
			t.Errorf("%s: answered %q, want a refusal", tc.name, got)
		}
	}
	// The real trunk over TCP from the trusted network: PAI believed.
	v := h.start("+447911123472", "", nil)
	if got := sipInvite(t, "tcp", addr, "sip:anonymous@carrier.example", v["dial_number"].(string),
		"P-Asserted-Identity: <tel:+447911123472>"); got != "SIP/2.0 603 Decline" {
		t.Fatalf("TCP trunk INVITE: %q", got)
	}
	h.waitStatus(v["id"].(string), "verified")
}

// 13.3: the forwarding attack. The victim is tricked into calling a number
// that forwards to the pool number; the INVITE arrives from the trusted
// trunk with the victim as caller and a Diversion (or History-Info)
// header. It must not verify; the caller still gets a rejection.
func TestAttackDivertedCallVerifies(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), trustedTrunk())
	rx := newReceiver(t, testSecret)
	addr := h.srv.SIPAddrs()["trunk"][0]
	for _, tc := range []struct{ phone, hdr string }{
		{"+447911123473", "Diversion: <sip:+447700900555@carrier.example>;reason=unconditional;counter=1"},
		{"+447911123474", "History-Info: <sip:+447700900555@carrier.example>;index=1, <sip:+447700900556@carrier.example;cause=302>;index=1.1"},
	} {
		v := h.start(tc.phone, rx.URL(), nil)
		id, dial := v["id"].(string), v["dial_number"].(string)
		got := sipInvite(t, "tcp", addr, "sip:"+tc.phone+"@carrier.example", dial, tc.hdr)
		if st := h.get(id)["status"]; st != "pending" {
			t.Fatalf("a diverted call (%s) left the victim's verification %v", strings.SplitN(tc.hdr, ":", 2)[0], st)
		}
		if got != "SIP/2.0 603 Decline" {
			t.Errorf("diverted call answered %q, want 603 Decline", got)
		}
		waitFor(t, 5*time.Second, "call.received webhook", func() bool { return slices.Contains(hookTypes(rx, id), "call.received") })
		for _, hk := range rx.of(id) {
			if hk.Type == "call.received" {
				if c, _ := hk.Data["call"].(map[string]any); c["reason"] != "diverted" || c["matched"] != true {
					t.Errorf("call.received for a diverted call: %v, want reason diverted (on the dial number)", c)
				}
			}
		}
	}
}

// A trunk that allows diverted calls verifies them (the operator's choice).
func TestSIPAllowDivertedVerifies(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), trustedTrunk(func(s *config.SIP) { s.AllowDiverted = true }))
	v := h.start("+447911123475", "", nil)
	if got := sipInvite(t, "tcp", h.srv.SIPAddrs()["trunk"][0], "sip:+447911123475@carrier.example", v["dial_number"].(string),
		"Diversion: <sip:+447700900555@carrier.example>;reason=unconditional"); got != "SIP/2.0 603 Decline" {
		t.Fatalf("INVITE: %q", got)
	}
	h.waitStatus(v["id"].(string), "verified")
}

// A trunk that sends the caller as a tel: URI in From (and no
// P-Asserted-Identity) verifies: the number is read from the tel: URI.
func TestSIPTelFromVerifies(t *testing.T) {
	t.Parallel()
	h := startServer(t, t.TempDir(), trustedTrunk())
	v := h.start("+447911123476", "", nil)
	if got := sipInvite(t, "tcp", h.srv.SIPAddrs()["trunk"][0], "tel:+447911123476", v["dial_number"].(string)); got != "SIP/2.0 603 Decline" {
		t.Fatalf("INVITE: %q", got)
	}
	h.waitStatus(v["id"].(string), "verified")
}

// A trunk over TLS (sips) from the trusted network: its P-Asserted-Identity
// is believed and the call verifies; the far end is a TLS client.
func TestSIPTLSTrunkVerifies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	h := startServer(t, dir, trustedTrunk(func(s *config.SIP) {
		s.TLSListen, s.TLSCert, s.TLSKey = []string{"127.0.0.1:0"}, cert, key
	}))
	addrs := h.srv.SIPTLSAddrs()["trunk"]
	if len(addrs) != 1 {
		t.Fatalf("TLS addresses: %v", addrs)
	}
	v := h.start("+447911123477", "", nil)
	if got := sipInvite(t, "tls", addrs[0], "sip:anonymous@carrier.example", v["dial_number"].(string),
		"P-Asserted-Identity: <sip:+447911123477@carrier.example>"); got != "SIP/2.0 603 Decline" {
		t.Fatalf("INVITE over TLS: %q", got)
	}
	h.waitStatus(v["id"].(string), "verified")
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "sip.crt"), filepath.Join(dir, "sip.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
