package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func infoRequest(ct, body string) *sip.Request {
	req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	if ct != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
	}
	req.SetBody([]byte(body))
	return req
}

func TestInfoDigit(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		want     byte
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5'},
		{"application/dtmf-relay", "Signal= #\r\n", '#'},
		{"application/dtmf", "1", '1'},
		{"application/dtmf", "b", 'B'},
		{"application/dtmf-relay", "Signal=55\r\n", 0},
		{"application/dtmf", "x", 0},
		{"text/plain", "1", 0},
		{"", "Signal=1", 0},
	} {
		k, ok := infoDigit(infoRequest(tc.ct, tc.body))
		if k != tc.want || ok != (tc.want != 0) {
			t.Errorf("%s %q: %q %v", tc.ct, tc.body, k, ok)
		}
	}
}

func FuzzInfoDigit(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160")
	f.Add("application/dtmf", "#")
	f.Fuzz(func(t *testing.T, ct, body string) {
		k, ok := infoDigit(infoRequest(ct, body))
		if ok && !(k >= '0' && k <= '9' || k == '*' || k == '#' || k >= 'A' && k <= 'D') {
			t.Fatalf("key %q", k)
		}
	})
}
