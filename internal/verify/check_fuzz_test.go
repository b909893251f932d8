package verify

import (
	"strings"
	"testing"
	"time"
)

// FuzzCheckInput feeds arbitrary codes and caller IDs to the check
// validation: it must never panic, and whatever it accepts must be exactly
// the step's number of digits, with a flash caller ID split at the code.
func FuzzCheckInput(f *testing.F) {
	for _, s := range []string{"1234", "+442079461234", "", "12a4", "+44 20 7946 1234", "１２３４", "+1", strings.Repeat("9", 40), "12 34", "1-2-3-4", " 1.234 ", "12\u00a034", "1 2 3 4 5"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, asCLI bool) {
		for _, ch := range []Channel{ChannelFlashCall, ChannelSMSOTP, ChannelMissedCall} {
			v := Verification{
				ID: "vf_x", Status: StatusPending, Channel: ch, CodeLength: 4, CLIPrefix: "+44207946",
				Workflow: []Step{{Channel: ch, Timeout: time.Minute, CodeLength: 4}},
			}
			r := CheckRequest{Code: in}
			if asCLI {
				r = CheckRequest{CLI: in}
			}
			code, prefix, err := checkInput(v, r)
			if err != nil {
				if ErrorCode(err) == CodeInternal {
					t.Fatalf("%s %+v: untyped error %v", ch, r, err)
				}
				continue
			}
			if len(code) != 4 || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("%s %+v: accepted code %q", ch, r, code)
			}
			if asCLI && !strings.HasPrefix(prefix, "+") {
				t.Fatalf("%s %+v: prefix %q", ch, r, prefix)
			}
		}
	})
}
