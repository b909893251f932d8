package phone

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, country string
		want         string
		wantCountry  string
		reason       string
	}{
		{raw: "+44 20 7946 0018", want: "+442079460018", wantCountry: "GB"},
		{raw: "020 7946 0018", country: "gb", want: "+442079460018", wantCountry: "GB"},
		{raw: "0491 570 156", country: "AU", want: "+61491570156", wantCountry: "AU"},
		{raw: "(415) 555-2671", country: "US", want: "+14155552671", wantCountry: "US"},
		{raw: "+1 415-555-2671", country: "DE", want: "+14155552671", wantCountry: "US"},
		{raw: "+49 30 901820", want: "+4930901820", wantCountry: "DE"},
		{raw: "", reason: "empty"},
		{raw: "   ", reason: "empty"},
		{raw: "4155552671", reason: "missing_country"},
		{raw: "hello", country: "US", reason: "not_a_number"},
		{raw: "+1 415", reason: "too_short"},
		{raw: "+999 1234567", reason: "invalid_country"},
		{raw: "+1 415 555 2671", country: "XX", reason: "invalid_country"},
		{raw: "+44 12", reason: "too_short"},
		{raw: "+1 099 555 2671", reason: "invalid_number"},
		{raw: "+123456789012345678901234567890123456789012345678901234567890123456789", reason: "too_long"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.raw, tt.country)
		if tt.reason != "" {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("Parse(%q, %q) = %v, %v; want error %s", tt.raw, tt.country, n, err, tt.reason)
				continue
			}
			if pe.Reason != tt.reason {
				t.Errorf("Parse(%q, %q) reason = %s (%v), want %s", tt.raw, tt.country, pe.Reason, err, tt.reason)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tt.raw, tt.country, err)
			continue
		}
		if n.E164 != tt.want || n.Country != tt.wantCountry {
			t.Errorf("Parse(%q, %q) = %+v, want %s %s", tt.raw, tt.country, n, tt.want, tt.wantCountry)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+442079460018": "+44 ••••••••18",
		"+14155552671":  "+1 ••••••••71",
		"garbage":       "••••",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+442079460018", "020 7946 0018", "+1 (415) 555-2671 ext. 12", "tel:+1-415", "", "+", "++1", "0044 20", "+८४१२३४५६७८९"} {
		f.Add(s, "GB")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		n, err := Parse(raw, country)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("Parse(%q,%q) error without reason: %v", raw, country, err)
			}
			return
		}
		// A normalised number must parse again to itself: the store relies on
		// E.164 being a fixed point for matching callers.
		again, err := ParseE164(n.E164)
		if err != nil || again != n {
			t.Fatalf("Parse(%q,%q) = %+v, but reparsing gives %+v, %v", raw, country, n, again, err)
		}
		_ = Mask(n.E164)
		// E164, the light parse for caller IDs, agrees on every number Parse
		// accepts.
		if e, err := E164(raw, country); err != nil || e != n.E164 {
			t.Fatalf("E164(%q,%q) = %q, %v; Parse gives %q", raw, country, e, err, n.E164)
		}
	})
}

func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"+447911123456", 3, "+44791"},
		{"+14155550123", 3, "+1415"},
		{"+8821234567", 2, "+88212"},
		{"+33612345678", 0, "+33"},
		{"447911123456", 3, ""},
		{"", 3, ""},
		{"+4", 3, ""},
	} {
		if got := Prefix(tc.in, tc.n); got != tc.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
