package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ringgate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func TestLoadFileThenEnv(t *testing.T) {
	t.Parallel()
	p := write(t, `
http: 0.0.0.0:9000
secret: `+secret+`
database:
  url: sqlite:/var/lib/ringgate/db
webhooks:
  retry_base: 2s
  allow_networks: [10.1.2.0/24]
missed_call:
  reject_status: 486
`)
	c, err := Load(ModeServe, p, envMap(map[string]string{"RINGGATE_HTTP": "127.0.0.1:9100", "RINGGATE_SIMULATOR_ENABLED": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.HTTP != "127.0.0.1:9100" || !c.Simulator.Enabled {
		t.Errorf("env did not override: http=%s simulator=%v", c.HTTP, c.Simulator.Enabled)
	}
	if c.Webhooks.RetryBase != 2*time.Second || c.Webhooks.MaxAge != 24*time.Hour || c.MissedCall.RejectStatus != 486 {
		t.Errorf("file or defaults lost: %+v %+v", c.Webhooks, c.MissedCall)
	}
	nets, _ := c.AllowedNetworks()
	if len(nets) != 1 || nets[0].String() != "10.1.2.0/24" {
		t.Errorf("allow_networks = %v", nets)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	t.Parallel()
	_, err := Load(ModeServe, write(t, "htpp: 1.2.3.4:80\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "htpp") {
		t.Fatalf("want error naming the unknown key, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := Defaults(ModeServe)
	err := c.Validate()
	for _, want := range []string{"database.url is required", "secret is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	c = Defaults(ModeServe)
	c.Database.URL, c.Secret, c.MissedCall.RejectStatus = "sqlite:x.db", "tooshort", 200
	err = c.Validate()
	for _, want := range []string{"secret: is 6 bytes; at least 32", "reject_status: 200"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	d := Defaults(ModeDev)
	if err := d.Validate(); err != nil {
		t.Fatalf("dev defaults invalid: %v", err)
	}
	if d.Database.URL != "sqlite:"+filepath.Join("ringgate-data", "ringgate.db") {
		t.Errorf("dev database URL = %q", d.Database.URL)
	}
}

func TestSecretFileSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateSecret(dir)
	if err != nil || string(a) != string(b) || len(a) != MinSecret {
		t.Fatalf("secret changed or short: %x vs %x, %v", a, b, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "secret.key"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestDeliveryLease(t *testing.T) {
	t.Parallel()
	c := Defaults(ModeDev)
	if got, want := c.DeliveryLease(), c.Webhooks.Timeout+20*time.Second; got != want {
		t.Errorf("default lease = %v, want %v", got, want)
	}
	c.Webhooks.Lease = 3 * time.Second
	c.Webhooks.Timeout = time.Second
	if err := c.Validate(); err != nil {
		t.Errorf("lease 3s, timeout 1s: %v", err)
	}
	if got := c.DeliveryLease(); got != 3*time.Second {
		t.Errorf("lease = %v, want 3s", got)
	}
	c.Webhooks.Lease = time.Second
	if err := c.Validate(); err == nil {
		t.Error("lease equal to the timeout: no error")
	}
}

func TestValidateCarriersAndRoutes(t *testing.T) {
	t.Parallel()
	c := Defaults(ModeDev)
	c.Carriers = []Carrier{{Name: "a", Type: "sim"}, {Name: "a", Type: "sim"}, {Name: "", Type: "sim"}, {Name: "t", Type: "pigeon"}}
	c.Routes = []Route{{Channel: "pigeon", Carriers: []string{"a"}}, {Carriers: nil}, {Carriers: []string{"nope"}}}
	err := c.Validate()
	for _, want := range []string{
		`carriers[1]: name "a" is used twice`, "carriers[2]: name is required", `type "pigeon" is not supported`,
		`routes[0]: channel "pigeon"`, "routes[1]: carriers is empty", `routes[2]: carrier "nope" is not in carriers`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	ok := Defaults(ModeServe)
	ok.Database.URL, ok.Secret = "sqlite:x.db", strings.Repeat("ab", 32)
	ok.Carriers = []Carrier{{Name: "primary", Type: "sim"}, {Name: "backup", Type: "sim", SimulateOutage: true}}
	ok.Simulator.Enabled = true // live routes to sim carriers need it in serve
	ok.Routes = []Route{{Country: "GB", Channel: "sms_otp", Carriers: []string{"backup", "primary"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid carriers refused: %v", err)
	}
}

// serveBase is a serve configuration that validates: the defaults with a
// database and a secret.
func serveBase() Config {
	c := Defaults(ModeServe)
	c.Database.URL, c.Secret = "sqlite:x.db", strings.Repeat("ab", 32)
	return c
}

func TestValidateSIPCarriers(t *testing.T) {
	t.Parallel()
	ok := serveBase()
	ok.Carriers = []Carrier{
		{Name: "in", Type: "sip", SIP: SIP{Listen: []string{"0.0.0.0:5060"}, Country: "GB", TrustedNetworks: []string{"192.0.2.0/24"}, RejectStatus: 486}},
		{Name: "out", Type: "sip", SIP: SIP{Trunk: "sip:trunk.example:5060;transport=tcp", Username: "u", Password: "p", Register: true, Hostname: "198.51.100.7", PAI: true}},
		{Name: "reg", Type: "sip", SIP: SIP{Listen: []string{"198.51.100.7:5060"}, TrustedNetworks: []string{"192.0.2.0/24"}, Trunk: "sip:t", Register: true}},
	}
	ok.Routes = []Route{{Channel: "flash_call", Carriers: []string{"out"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid sip carriers refused: %v", err)
	}
	bad := serveBase()
	bad.Carriers = []Carrier{
		{Name: "empty", Type: "sip"},
		{Name: "open", Type: "sip", SIP: SIP{Listen: []string{"nohost"}, Country: "gb", TrustedNetworks: []string{"x"}, RejectStatus: 200, Username: "u"}},
		{Name: "simx", Type: "sim", SIP: SIP{Trunk: "sip:x"}},
		{Name: "noauth", Type: "sip", SIP: SIP{Listen: []string{"127.0.0.1:5060"}, Trunk: "tel:+1", Register: false}},
		{Name: "inonly", Type: "sip", SIP: SIP{Listen: []string{"127.0.0.1:5070"}, TrustedNetworks: []string{"127.0.0.0/8"}}},
		{Name: "noreghost", Type: "sip", SIP: SIP{Listen: []string{"0.0.0.0:5060"}, TrustedNetworks: []string{"127.0.0.0/8"}, Trunk: "sip:t", Register: true}},
	}
	bad.Routes = []Route{{Carriers: []string{"inonly"}}}
	err := bad.Validate()
	for _, want := range []string{
		"carriers[0] (empty): sip: give listen", `sip.listen: "nohost"`, `sip.country: "gb"`, `trusted_networks: "x"`,
		"reject_status: 200", "username and password go together", "carriers[2] (simx): sip options are for sip carriers",
		`sip.trunk: "tel:+1"`, "carriers[3] (noauth): sip: inbound calls need trusted_networks",
		`routes[0]: carrier "inonly" has no sip.trunk`, "carriers[5] (noreghost): sip.register needs sip.hostname",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
}

func TestAddDevSIP(t *testing.T) {
	t.Parallel()
	c := Defaults(ModeDev)
	c.AddDevSIP("", "")
	if len(c.Carriers) != 1 {
		t.Fatalf("no flags added carriers: %+v", c.Carriers)
	}
	c.AddDevSIP("127.0.0.1:5060", "sip:127.0.0.1:5080")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 3 || c.Routes[0].Channel != "flash_call" || c.Routes[0].Carriers[0] != "sip" || c.Routes[2].Carriers[0] != "sim" {
		t.Errorf("routes = %+v", c.Routes)
	}
	d := Defaults(ModeDev)
	d.AddDevSIP("127.0.0.1:5060", "")
	if err := d.Validate(); err != nil || len(d.Routes) != 1 {
		t.Errorf("inbound-only dev sip: %v, routes %+v", err, d.Routes)
	}
}

// The README's ringgate.yaml loads (every key known) and, with a real
// secret, validates.
func TestREADMEConfigExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# ringgate.yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ringgate.yaml block")
	}
	block = strings.Replace(block, "<openssl rand -hex 32>", strings.Repeat("ab", 32), 1)
	path := filepath.Join(t.TempDir(), "ringgate.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(ModeServe, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("README config: %v", err)
	}
	if len(c.Carriers) != 2 || c.Carriers[1].Type != "sip" || c.Carriers[1].SIP.Trunk == "" {
		t.Errorf("carriers = %+v", c.Carriers)
	}
}

// A carrier's password comes from RINGGATE_CARRIER_<NAME>_SIP_PASSWORD, so
// the file can be committed without it; a set but empty variable is a
// deployment mistake, not "no password".
func TestCarrierSecretFromEnv(t *testing.T) {
	t.Parallel()
	p := write(t, `
secret: `+secret+`
carriers:
  - name: uk-trunk
    type: sip
    sip: {trunk: "sip:trunk.example.net", username: ringgate, password: from-file}
routes: [{carriers: [uk-trunk]}]
`)
	c, err := Load(ModeServe, p, envMap(map[string]string{"RINGGATE_CARRIER_UK_TRUNK_SIP_PASSWORD": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Carriers[0].SIP.Password; got != "from-env" {
		t.Errorf("password = %q, want the environment's", got)
	}
	if c, err = Load(ModeServe, p, envMap(nil)); err != nil || c.Carriers[0].SIP.Password != "from-file" {
		t.Errorf("without the variable: %q, %v; want the file's", c.Carriers[0].SIP.Password, err)
	}
	if _, err := Load(ModeServe, p, envMap(map[string]string{"RINGGATE_CARRIER_UK_TRUNK_SIP_PASSWORD": ""})); err == nil {
		t.Error("an empty variable was accepted")
	}
	if got := CarrierEnvName("uk-trunk.1", "SIP_PASSWORD"); got != "RINGGATE_CARRIER_UK_TRUNK_1_SIP_PASSWORD" {
		t.Errorf("CarrierEnvName = %s", got)
	}
}

// In serve, a route to a sim carrier needs simulator.enabled; dev mode's
// defaults route everything to the simulator.
func TestValidateSimRouteNeedsSimulatorEnabled(t *testing.T) {
	t.Parallel()
	c := serveBase()
	c.Carriers = []Carrier{{Name: "primary", Type: "sim"}}
	c.Routes = []Route{{Carriers: []string{"primary"}}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "simulator.enabled") {
		t.Fatalf("Validate() = %v, want it to name simulator.enabled", err)
	}
	c.Simulator.Enabled = true
	if err := c.Validate(); err != nil {
		t.Fatalf("with simulator.enabled: %v", err)
	}
	dev := Defaults(ModeDev)
	dev.Simulator.Enabled = false
	if err := dev.Validate(); err != nil {
		t.Fatalf("dev defaults: %v", err)
	}
}

func TestValidateSIPMedia(t *testing.T) {
	t.Parallel()
	base := func() Config {
		c := Defaults(ModeServe)
		c.Database.URL, c.Secret = "sqlite:x.db", strings.Repeat("ab", 32)
		return c
	}
	ok := base()
	ok.Carriers = []Carrier{
		{Name: "voice", Type: "sip", SIP: SIP{Trunk: "sip:trunk.example", Hostname: "198.51.100.7", RTPPorts: "30000-30999",
			InBandDTMF: true, MaxCallDuration: time.Minute, AMD: AMD{MaxGreeting: 2 * time.Second}, TTSCommand: []string{"sh"}}},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid media refused: %v", err)
	}
	if ip, _ := ok.Carriers[0].SIP.MediaAddr(); ip.String() != "198.51.100.7" {
		t.Fatalf("media address %v, want the hostname", ip)
	}
	bad := base()
	bad.Carriers = []Carrier{
		{Name: "range", Type: "sip", SIP: SIP{Trunk: "sip:t", Hostname: "198.51.100.7", RTPPorts: "80-90"}},
		{Name: "noaddr", Type: "sip", SIP: SIP{Trunk: "sip:t", Hostname: "sip.example", RTPPorts: "30000-30100"}},
		{Name: "nortp", Type: "sip", SIP: SIP{Trunk: "sip:t", TTSCommand: []string{"espeak-ng"}}},
		{Name: "tts", Type: "sip", SIP: SIP{Trunk: "sip:t", MediaAddress: "203.0.113.1", RTPPorts: "30000-30100", TTSCommand: []string{"/no/such/tts"}, Prompts: "/no/such/dir", AMD: AMD{Total: time.Minute}}},
	}
	err := bad.Validate()
	for _, want := range []string{
		`carriers[0] (range): sip.rtp_ports: "80-90" is not a range`,
		"carriers[1] (noaddr): sip.rtp_ports needs media_address",
		"carriers[2] (nortp): sip: media_address, prompts, tts_command",
		`sip.tts_command: "/no/such/tts" is not an executable`, `sip.prompts: "/no/such/dir" is not a directory`, "sip.amd.total: 1m0s is over 10s",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
}

func TestAddDevMedia(t *testing.T) {
	t.Parallel()
	c := Defaults(ModeDev)
	c.AddDevSIP("", "sip:127.0.0.1:5080")
	c.AddDevMedia("30000-30099")
	s := c.Carriers[len(c.Carriers)-1].SIP
	if s.RTPPorts != "30000-30099" || s.MediaAddress != "127.0.0.1" || c.Routes[0].Channel != "voice_otp" {
		t.Fatalf("%+v %+v", s, c.Routes)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
