package smpp

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestGSMTableIsTheDefaultAlphabet(t *testing.T) {
	seen := map[rune]bool{}
	for i, r := range gsmBasic {
		if i == gsmEscape {
			continue
		}
		if seen[r] {
			t.Fatalf("rune %q appears twice", r)
		}
		seen[r] = true
	}
	// Spot checks against GSM 03.38.
	for r, want := range map[rune]byte{'@': 0x00, '£': 0x01, 'Δ': 0x10, ' ': 0x20, 'A': 0x41, '§': 0x5F, '¿': 0x60, 'à': 0x7F, '¤': 0x24} {
		if gsmIndex[r] != want {
			t.Errorf("%q = %#x, want %#x", r, gsmIndex[r], want)
		}
	}
}

func TestEncodeChoosesAlphabet(t *testing.T) {
	tests := []struct {
		text   string
		coding byte
		want   []byte
	}{
		{"Code 1234", codingDefault, []byte("Code 1234")},
		{"€5 [x]", codingDefault, []byte{0x1B, 0x65, '5', ' ', 0x1B, 0x3C, 'x', 0x1B, 0x3E}},
		{"à@£", codingDefault, []byte{0x7F, 0x00, 0x01}},
		{"{}\\~^|", codingDefault, []byte{0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F, 0x1B, 0x3D, 0x1B, 0x14, 0x1B, 0x40}},
		{"Код 42", codingUCS2, []byte{0x04, 0x1A, 0x04, 0x3E, 0x04, 0x34, 0x00, 0x20, 0x00, 0x34, 0x00, 0x32}},
		{"ok ç", codingUCS2, []byte{0, 'o', 0, 'k', 0, ' ', 0x00, 0xE7}}, // ç is not GSM (only Ç is)
		{"🙂", codingUCS2, []byte{0xD8, 0x3D, 0xDE, 0x42}},
		{"", codingDefault, nil},
	}
	for _, tt := range tests {
		got, err := encode(tt.text)
		if err != nil {
			t.Fatalf("encode(%q): %v", tt.text, err)
		}
		if got.coding != tt.coding || len(got.parts) != 1 || !bytes.Equal(got.parts[0], tt.want) {
			t.Errorf("encode(%q) = coding %#x %x, want %#x %x", tt.text, got.coding, got.parts, tt.coding, tt.want)
		}
	}
}

func TestEncodeSplits(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		sizes []int // octets per part
	}{
		{"160 GSM fits one", strings.Repeat("a", 160), []int{160}},
		{"161 GSM needs two", strings.Repeat("a", 161), []int{153, 8}},
		{"200 GSM", strings.Repeat("b", 200), []int{153, 47}},
		// 152 plain then an escape pair: the pair must not straddle parts.
		{"escape kept whole", strings.Repeat("c", 152) + "€" + strings.Repeat("d", 10), []int{152, 12}},
		{"80 extension chars count twice", strings.Repeat("€", 81), []int{152, 10}},
		{"70 UCS-2 fits one", strings.Repeat("ж", 70), []int{140}},
		{"100 UCS-2", strings.Repeat("ж", 100), []int{134, 66}},
		{"surrogate kept whole", strings.Repeat("ж", 66) + "🙂" + strings.Repeat("ж", 4), []int{132, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encode(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, p := range got.parts {
				sizes = append(sizes, len(p))
			}
			if len(sizes) != len(tt.sizes) {
				t.Fatalf("parts %v, want %v", sizes, tt.sizes)
			}
			for i := range sizes {
				if sizes[i] != tt.sizes[i] {
					t.Fatalf("parts %v, want %v", sizes, tt.sizes)
				}
			}
			if back := decode(got); back != tt.text {
				t.Fatalf("parts decode to %q", back)
			}
		})
	}
	if _, err := encode(strings.Repeat("x", 153*255+1)); err == nil {
		t.Error("a text of 256 parts was accepted")
	}
}

// decode is the inverse of encode, written independently from the tables
// (the UCS-2 side through unicode/utf16).
func decode(e encoded) string {
	var all []byte
	for _, p := range e.parts {
		all = append(all, p...)
	}
	if e.coding == codingUCS2 {
		u := make([]uint16, len(all)/2)
		for i := range u {
			u[i] = uint16(all[2*i])<<8 | uint16(all[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	ext := map[byte]rune{}
	for r, b := range gsmExtension {
		ext[b] = r
	}
	var sb strings.Builder
	for i := 0; i < len(all); i++ {
		if all[i] == gsmEscape && i+1 < len(all) {
			i++
			sb.WriteRune(ext[all[i]])
			continue
		}
		sb.WriteRune(gsmBasic[all[i]])
	}
	return sb.String()
}
