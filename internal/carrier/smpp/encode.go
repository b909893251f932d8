package smpp

import (
	"errors"
	"unicode/utf16"
)

// Data codings used on submit_sm (SMPP 3.4 §5.2.19).
const (
	codingDefault byte = 0x00 // SMSC default alphabet: GSM 03.38, one septet per octet
	codingUCS2    byte = 0x08 // UCS-2 (UTF-16BE; astral runes as surrogate pairs)
)

// Lengths of one message and of one part of a concatenated message, in
// septets (GSM-7) or UTF-16 code units (UCS-2). A part loses 6 octets to
// the concatenation header (3GPP TS 23.040 §9.2.3.24.1).
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
	maxParts   = 255
)

// gsmBasic is the GSM 03.38 default alphabet, indexed by septet; 0x1B is
// the escape to the extension table and maps to no rune.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', -1, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExtension maps runes of the extension table to the septet after ESC.
var gsmExtension = map[rune]byte{
	'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F, '[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65,
}

var gsmIndex = func() map[rune]byte {
	m := make(map[rune]byte, 128)
	for i, r := range gsmBasic {
		if r >= 0 {
			m[r] = byte(i)
		}
	}
	return m
}()

const gsmEscape = 0x1B

// gsmSeptets encodes text in the GSM 03.38 alphabet, one septet per octet
// (unpacked, as SMPP carries data_coding 0), and returns the septets of
// each rune; ok is false when some rune is in neither table.
func gsmSeptets(text string) (runes [][]byte, ok bool) {
	for _, r := range text {
		if b, found := gsmIndex[r]; found {
			runes = append(runes, []byte{b})
		} else if b, found := gsmExtension[r]; found {
			runes = append(runes, []byte{gsmEscape, b})
		} else {
			return nil, false
		}
	}
	return runes, true
}

// encoded is a text ready for submit_sm: its data_coding and the
// short_message of each part (without the concatenation header).
type encoded struct {
	coding byte
	parts  [][]byte
}

var errTooLong = errors.New("text needs more than 255 parts")

// encode chooses GSM-7 when every rune has a septet (counting extension
// characters twice), else UCS-2, and splits a text that does not fit one
// message into parts of 153 septets or 67 code units, never cutting an
// escape sequence or a surrogate pair in two.
func encode(text string) (encoded, error) {
	var units [][]byte
	single, part := gsmSingle, gsmPart
	coding := codingDefault
	if g, ok := gsmSeptets(text); ok {
		units = g
	} else {
		coding, single, part = codingUCS2, ucs2Single, ucs2Part
		for _, r := range text {
			var u []byte
			for _, c := range utf16.Encode([]rune{r}) {
				u = append(u, byte(c>>8), byte(c))
			}
			units = append(units, u)
		}
	}
	width := func(u []byte) int {
		if coding == codingUCS2 {
			return len(u) / 2
		}
		return len(u)
	}
	total := 0
	for _, u := range units {
		total += width(u)
	}
	if total <= single {
		var b []byte
		for _, u := range units {
			b = append(b, u...)
		}
		return encoded{coding: coding, parts: [][]byte{b}}, nil
	}
	var parts [][]byte
	var cur []byte
	n := 0
	for _, u := range units {
		if n+width(u) > part {
			parts = append(parts, cur)
			cur, n = nil, 0
		}
		cur = append(cur, u...)
		n += width(u)
	}
	parts = append(parts, cur)
	if len(parts) > maxParts {
		return encoded{}, errTooLong
	}
	return encoded{coding: coding, parts: parts}, nil
}

// concatUDH is the user data header of part seq (1-based) of total, with
// an 8-bit reference shared by the parts of one message.
func concatUDH(ref byte, total, seq int) []byte {
	return []byte{0x05, 0x00, 0x03, ref, byte(total), byte(seq)}
}
