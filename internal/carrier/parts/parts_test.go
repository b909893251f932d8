package parts

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
	"github.com/ringgate/ringgate/internal/carrier/sim"
	"github.com/ringgate/ringgate/internal/config"
)

// The factory table and the config's list of types are one list.
func TestTableMatchesConfigTypes(t *testing.T) {
	table := slices.Sorted(maps.Keys(Factories))
	cfg := slices.Sorted(maps.Keys(config.CarrierTypes))
	if !slices.Equal(table, cfg) {
		t.Fatalf("factory table %v, config types %v", table, cfg)
	}
}

func host(t *testing.T, reg prometheus.Registerer) Host {
	rec := &carriertest.Recorder{}
	network := sim.New(sim.Config{Inbound: rec, Events: rec})
	t.Cleanup(func() { network.Close() })
	return Host{Inbound: rec, Events: rec, Secret: make([]byte, 32), PublicURL: "https://rg.example", Sim: network, Metrics: reg}
}

// TestBuildStartCloseAndMetrics builds one carrier of several types,
// serves the HTTP carrier's webhooks under /carriers/{name}/ only, and
// registers every part's metrics once, labelled by carrier.
func TestBuildStartCloseAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	set, err := Build([]config.Carrier{
		{Name: "sim-a", Type: "sim"},
		{Name: "tw", Type: "twilio", HTTP: config.HTTPCarrier{AccountID: "AC00000000000000000000000000000001", AuthToken: "t", From: []string{"+15005550006"}}},
		{Name: "trunk", Type: "sip", SIP: config.SIP{Listen: []string{"127.0.0.1:0"}}},
		{Name: "smsc", Type: "smpp", SMPP: config.SMPP{Addr: "127.0.0.1:9", SystemID: "rg", Password: "pw"}},
	}, host(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range set.Senders() {
		names = append(names, s.Name())
	}
	if got := strings.Join(names, " "); got != "sim-a tw trunk smsc" {
		t.Fatalf("senders %q, want config order", got)
	}
	if err := set.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				series[mf.GetName()] += l.GetName() + "=" + l.GetValue() + " "
			}
		}
	}
	for name, want := range map[string]string{
		"ringgate_carrier_webhooks_refused_total": "carrier=tw ", "ringgate_sip_refused_total": "carrier=trunk ",
		"ringgate_sip_tcp_refused_total": "carrier=trunk ", "ringgate_smpp_bound": "carrier=smsc ",
	} {
		if series[name] != want {
			t.Errorf("%s: series labelled %q, want %q", name, series[name], want)
		}
	}
	srv := httptest.NewServer(set.Webhooks())
	t.Cleanup(srv.Close)
	for path, want := range map[string]int{
		"/carriers/tw/no-such": 404, "/carriers/tw/voice": 403, "/carriers/trunk/voice": 404,
		"/carriers/nope/voice": 404, "/carriers/tw": 404,
	} {
		res, err := http.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || !strings.Contains(res.Header.Get("Content-Type"), "problem+json") {
			t.Errorf("POST %s: %d %s, want %d problem JSON", path, res.StatusCode, b, want)
		}
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}
}

// closeCounter is a part that counts its Close calls.
type closeCounter struct {
	carrier.Sender
	closed *int
}

func (c closeCounter) Close() error { *c.closed++; return nil }

// TestBuildFailureClosesWhatWasBuilt: a carrier that fails to build
// leaves none of those built before it open.
func TestBuildFailureClosesWhatWasBuilt(t *testing.T) {
	closed := 0
	Factories["test-closer"] = func(c config.Carrier, h Host) (carrier.Sender, error) {
		return closeCounter{Sender: h.Sim.Gateway(c.Name, false), closed: &closed}, nil
	}
	t.Cleanup(func() { delete(Factories, "test-closer") })
	_, err := Build([]config.Carrier{
		{Name: "a", Type: "test-closer"}, {Name: "b", Type: "test-closer"},
		{Name: "bad", Type: "vonage", HTTP: config.HTTPCarrier{PrivateKeyFile: "/nonexistent/key.pem"}},
	}, host(t, nil))
	if err == nil || !strings.Contains(err.Error(), "carrier bad") {
		t.Fatalf("Build = %v, want carrier bad's error", err)
	}
	if closed != 2 {
		t.Fatalf("%d of 2 parts closed", closed)
	}
}
