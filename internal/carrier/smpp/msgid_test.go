package smpp

import (
	"slices"
	"testing"
)

func TestRefForms(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"1A2B3C4D", []string{"1a2b3c4d", "439041101"}},
		{"439041101", []string{"439041101", "1a2b3c4d", "18136436993"}},
		{"000123", []string{"123", "7b", "291"}},
		{"0", []string{"0"}},
		{"000", []string{"0"}},
		{"", nil},
		{"  abc-42 ", []string{"abc-42"}},
		{"c0ffee", []string{"c0ffee", "12648430"}},
		{"fffffffffffffffffffffffffffffffff", []string{"fffffffffffffffffffffffffffffffff", "5444517870735015415413993718908291383295"}},
	}
	for _, tt := range tests {
		if got := RefForms(tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("RefForms(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestSameID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1A2B3C4D", "439041101", true}, // hex answer, decimal receipt
		{"439041101", "1a2b3c4d", true}, // and the other way round
		{"0000ABCD", "abcd", true},      // padding and case
		{"abcd", "43981", true},
		{"12", "12", true},
		{"12", "18", true}, // 0x12 = 18: an id that reads both ways matches both
		{"12", "13", false},
		{"msg-1", "MSG-1", true},
		{"msg-1", "msg-2", false},
		{"", "", false},
		{"1A2B3C4D", "439041102", false},
	}
	for _, tt := range tests {
		if got := SameID(tt.a, tt.b); got != tt.want {
			t.Errorf("SameID(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzSameID(f *testing.F) {
	for _, s := range [][2]string{{"1A2B3C4D", "439041101"}, {"000", "0"}, {"abc", "ABC"}, {"99999999999999999999", "56bc75e2d630fffff"}, {"", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if SameID(a, b) != SameID(b, a) {
			t.Fatalf("SameID(%q, %q) is not symmetric", a, b)
		}
		if CanonicalID(a) != "" && !SameID(a, a) {
			t.Fatalf("SameID(%q, itself) = false", a)
		}
		for _, f := range RefForms(a) {
			if f != CanonicalID(f) {
				t.Fatalf("RefForms(%q) has %q, which is not canonical", a, f)
			}
		}
	})
}

func TestVetCatchesParserPanics(t *testing.T) {
	// query_sm (0x00000003) carrying a TLV: gosmpp v0.3.1's parser writes
	// to a nil map. Vet must turn that into an error, not a crash.
	frame := []byte{0, 0, 0, 0x1b, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, '1', 0, 0, 0, 0, 0, 0x1e, 0, 2, 'x', 0}
	if err := Vet(frame); err == nil {
		t.Fatal("Vet passed a PDU the parser panics on")
	}
	if err := Vet([]byte{0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 9}); err != nil {
		t.Fatalf("Vet refused an enquire_link: %v", err)
	}
}
