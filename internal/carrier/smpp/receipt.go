package smpp

import (
	"strings"

	"github.com/linxGnu/gosmpp/pdu"
)

// Receipt is what a delivery receipt (deliver_sm with the receipt bit of
// esm_class) says about one message.
type Receipt struct {
	// IDs are the message ids the receipt names, most trusted first: the
	// receipted_message_id TLV (SMPP 3.4 §5.3.2.12), then the "id:" of the
	// text (SMPP 3.4 Appendix B), when they differ.
	IDs   []string
	Stat  string // DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, ACCEPTD, ENROUTE, UNKNOWN
	Err   string // the network's error code, as written
	Final bool   // the message has reached a final state
}

// message_state values (SMPP 3.4 §5.2.28) and the stat words that go with them.
var messageStates = map[byte]string{
	1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV",
	6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD", 9: "SKIPPED",
}

// Receipt-message types of esm_class bits 2–5 (SMPP 3.4 §5.2.12).
const (
	esmTypeMask         = 0x3C
	esmDeliveryReceipt  = 0x04
	esmIntermediateNote = 0x20
)

// IsReceipt reports whether a deliver_sm's esm_class marks it as an SMSC
// delivery receipt (rather than a message from a handset).
func IsReceipt(esmClass byte) bool {
	return esmClass&esmTypeMask == esmDeliveryReceipt || esmClass&esmTypeMask == esmIntermediateNote
}

// ParseReceipt reads a receipt from a deliver_sm's text and TLVs. ok is
// false when neither names a message id.
func ParseReceipt(text string, tlvs map[pdu.Tag]pdu.Field) (r Receipt, ok bool) {
	fields := receiptFields(text)
	if f, found := tlvs[pdu.TagReceiptedMessageID]; found {
		if id := strings.TrimSpace(cString(f.Data)); id != "" {
			r.IDs = append(r.IDs, id)
		}
	}
	if id := fields["id"]; id != "" && (len(r.IDs) == 0 || r.IDs[0] != id) {
		r.IDs = append(r.IDs, id)
	}
	r.Stat = strings.ToUpper(fields["stat"])
	r.Err = fields["err"]
	// The TLV is the machine-readable verdict; it wins over the text.
	if f, found := tlvs[pdu.TagMessageStateOption]; found && len(f.Data) == 1 {
		if s, known := messageStates[f.Data[0]]; known {
			r.Stat = s
		}
	}
	switch r.Stat {
	case "DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED":
		r.Final = true
	}
	return r, len(r.IDs) > 0
}

// receiptKeys are the fields of SMPP 3.4 Appendix B, in their order.
var receiptKeys = []string{"id:", "sub:", "dlvrd:", "submit date:", "done date:", "stat:", "err:", "text:"}

// receiptFields splits "id:… sub:… dlvrd:… submit date:… done date:…
// stat:… err:… text:…" into its values, by key and case-insensitively.
// Gateways drop fields, reorder them and vary the spacing, so each key is
// looked for on its own at a word start; text: ends the scan, since what
// follows it is the message and may contain anything.
func receiptFields(s string) map[string]string {
	out := map[string]string{}
	low := asciiLower(s) // same length as s, so indexes carry over
	if i := keyAt(low, "text:"); i >= 0 {
		out["text"] = strings.TrimSpace(s[i+len("text:"):])
		s, low = s[:i], low[:i]
	}
	for _, k := range receiptKeys[:len(receiptKeys)-1] {
		i := keyAt(low, k)
		if i < 0 {
			continue
		}
		v := s[i+len(k):] // "id: sub:…" is an empty id, not "sub:…"
		if j := strings.IndexAny(v, " \t\r\n"); j >= 0 {
			v = v[:j]
		}
		out[strings.TrimSuffix(k, ":")] = v
	}
	return out
}

// keyAt finds key at the start of s or after a space; -1 if absent.
func keyAt(s, key string) int {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], key)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || s[i-1] == ' ' || s[i-1] == '\t' {
			return i
		}
		off = i + 1
	}
	return -1
}

func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// asciiLower lowers ASCII letters only: strings.ToLower may change the
// length of text that is not valid UTF-8, and the keys are ASCII.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
