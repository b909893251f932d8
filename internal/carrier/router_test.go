package carrier

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// scripted is a Sender that answers every command with a fixed error (nil
// for success) and counts what it was given.
type scripted struct {
	name  string
	err   error
	calls []Call
	texts []SMS
}

func (s *scripted) Name() string { return s.name }
func (s *scripted) PlaceCall(_ context.Context, c Call) (string, error) {
	s.calls = append(s.calls, c)
	return s.name + "-ref", s.err
}
func (s *scripted) SendSMS(_ context.Context, m SMS) (string, error) {
	s.texts = append(s.texts, m)
	return s.name + "-ref", s.err
}

func TestRouterPicksFirstMatchingRoute(t *testing.T) {
	a, b, sb := &scripted{name: "a"}, &scripted{name: "b"}, &scripted{name: "sandbox"}
	r, err := NewRouter([]Sender{a, b, sb}, []Route{
		{Country: "GB", Channel: "sms_otp", Carriers: []string{"b"}},
		{App: "app_x", Carriers: []string{"b", "a"}},
		{Channel: "*", Carriers: []string{"a"}},
	}, sb)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		app, country, channel string
		sandbox               bool
		want                  string
	}{
		{"app_1", "GB", "sms_otp", false, "b"},
		{"app_1", "gb", "sms_otp", false, "b"},
		{"app_1", "FR", "sms_otp", false, "a"},
		{"app_x", "FR", "flash_call", false, "b,a"},
		{"app_1", "GB", "flash_call", false, "a"},
		{"app_1", "GB", "flash_call", true, "sandbox"},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range r.Pick(tt.app, tt.country, tt.channel, tt.sandbox) {
			got = append(got, s.Name())
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("Pick(%s, %s, %s, %v) = %v, want %s", tt.app, tt.country, tt.channel, tt.sandbox, got, tt.want)
		}
	}
}

func TestRouterFailover(t *testing.T) {
	down := &Error{Carrier: "a", Retryable: true, Code: "unavailable", Err: errors.New("503")}
	bad := &Error{Carrier: "a", Retryable: false, Code: "invalid_number", Err: errors.New("no such number")}
	tests := []struct {
		name         string
		errA, errB   error
		wantCarrier  string
		wantErr      bool
		wantRetry    bool
		wantBCommand int
	}{
		{"first takes it", nil, nil, "a", false, false, 0},
		{"retryable fails over", down, nil, "b", false, false, 1},
		{"terminal stops", bad, nil, "a", true, false, 0},
		{"both down", down, &Error{Carrier: "b", Retryable: true, Code: "timeout", Err: errors.New("t")}, "b", true, true, 1},
		{"plain error counts as retryable", errors.New("connection reset"), nil, "b", false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := &scripted{name: "a", err: tt.errA}, &scripted{name: "b", err: tt.errB}
			r, err := NewRouter([]Sender{a, b}, []Route{{Carriers: []string{"a", "b"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := r.PlaceCall(t.Context(), Call{ID: "oc_1", AppID: "app", Country: "GB", Channel: "flash_call"})
			if (err != nil) != tt.wantErr || rc.Carrier != tt.wantCarrier || Retryable(err) != tt.wantRetry {
				t.Fatalf("PlaceCall = %+v, %v; want carrier %s, error %v (retryable %v)", rc, err, tt.wantCarrier, tt.wantErr, tt.wantRetry)
			}
			if len(b.calls) != tt.wantBCommand {
				t.Errorf("carrier b got %d calls, want %d", len(b.calls), tt.wantBCommand)
			}
			if !tt.wantErr && rc.Ref != tt.wantCarrier+"-ref" {
				t.Errorf("ref %q", rc.Ref)
			}
		})
	}
}

func TestRouterConfigErrors(t *testing.T) {
	a := &scripted{name: "a"}
	if _, err := NewRouter([]Sender{a, &scripted{name: "a"}}, nil, nil); err == nil {
		t.Error("two carriers named a: no error")
	}
	if _, err := NewRouter([]Sender{a}, []Route{{Carriers: []string{"nope"}}}, nil); err == nil {
		t.Error("route to an unknown carrier: no error")
	}
	if _, err := NewRouter([]Sender{a}, []Route{{}}, nil); err == nil {
		t.Error("route with no carrier: no error")
	}
	r, _ := NewRouter([]Sender{a}, nil, nil)
	if r.Routable("app", "GB", "sms_otp", false) {
		t.Error("no routes: Routable")
	}
	if _, err := r.SendSMS(t.Context(), SMS{ID: "sm_1"}); err == nil || Retryable(err) {
		t.Errorf("SendSMS with no route = %v, want a terminal error", err)
	}
}

// TestRouterObservesFailures: the observers see each failed attempt of a
// configured carrier (every one of a failover), never a success, a
// sandbox failure, or an attempt whose context had ended.
func TestRouterObservesFailures(t *testing.T) {
	down := &Error{Carrier: "a", Retryable: true, Code: "unavailable", Err: errors.New("503")}
	a, b := &scripted{name: "a", err: down}, &scripted{name: "b"}
	sb := &scripted{name: "sandbox", err: down}
	var seen []string
	r, err := NewRouter([]Sender{a, b}, []Route{{Carriers: []string{"a", "b"}}}, sb, func(name, op string, err error) {
		seen = append(seen, name+"/"+op)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.PlaceCall(t.Context(), Call{ID: "oc_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SendSMS(t.Context(), SMS{ID: "sm_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SendSMS(t.Context(), SMS{ID: "sm_2", Sandbox: true}); err == nil {
		t.Fatal("the sandbox sender's failure was not returned")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r.PlaceCall(ctx, Call{ID: "oc_2"})
	if got, want := strings.Join(seen, " "), "a/call a/sms"; got != want {
		t.Fatalf("observed %q, want %q", got, want)
	}
}
