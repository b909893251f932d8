package smpp

import (
	"math/big"
	"strings"
)

// SMSC message ids are opaque strings (up to 64 octets), but gateways are
// notoriously inconsistent about them: many answer submit_sm with a hex id
// ("1A2B3C4D") and then write the same number in decimal in the receipt
// text ("id:439041101"), or pad one of them with zeros, or change case.
// Comparing the strings as they are loses receipts, so ids are compared
// through these functions.

// maxIDLen bounds the ids we try to read as numbers (SMPP allows 65
// octets with the NUL); longer ones only compare as text.
const maxIDLen = 64

// CanonicalID is the form ids are stored and indexed in: trimmed, lower
// case, without leading zeros ("0" stays "0"). A receipt matches a message
// when one of RefForms of its id equals the message's canonical id.
func CanonicalID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	c := id
	for { // "0 07" → " 07" → "07" → "7": until nothing changes
		t := strings.TrimSpace(strings.TrimLeft(c, "0"))
		if t == c {
			break
		}
		c = t
	}
	if c == "" && id != "" {
		return "0"
	}
	return c
}

// RefForms lists the canonical ids a message could have been given if the
// SMSC reported it as id: the id itself, then, when it reads as a decimal
// number, that number in hex, and when it reads as hex, that number in
// decimal. Lookups try them in this order, the literal id first.
func RefForms(id string) []string {
	c := CanonicalID(id)
	if c == "" {
		return nil
	}
	out := []string{c}
	add := func(s string) {
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if len(c) <= maxIDLen {
		var n big.Int
		if isDigits(c, false) {
			if _, ok := n.SetString(c, 10); ok {
				add(n.Text(16))
			}
		}
		if isDigits(c, true) {
			if _, ok := n.SetString(c, 16); ok {
				add(n.Text(10))
			}
		}
	}
	return out
}

// SameID reports whether a receipt's id a and a submit_sm_resp id b name
// the same message, in either direction.
func SameID(a, b string) bool {
	cb := CanonicalID(b)
	if cb == "" {
		return false
	}
	for _, f := range RefForms(a) {
		if f == cb {
			return true
		}
	}
	return false
}

func isDigits(s string, hex bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case hex && c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}
