package smpp

import (
	"slices"
	"testing"

	"github.com/linxGnu/gosmpp/pdu"
)

func TestParseReceipt(t *testing.T) {
	tlv := func(id string, state byte) map[pdu.Tag]pdu.Field {
		m := map[pdu.Tag]pdu.Field{}
		if id != "" {
			m[pdu.TagReceiptedMessageID] = pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(id), 0)}
		}
		if state != 0 {
			m[pdu.TagMessageStateOption] = pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{state}}
		}
		return m
	}
	tests := []struct {
		name  string
		text  string
		tlvs  map[pdu.Tag]pdu.Field
		ok    bool
		ids   []string
		stat  string
		err   string
		final bool
	}{
		{"appendix B", "id:439041101 sub:001 dlvrd:001 submit date:2611291200 done date:2611291201 stat:DELIVRD err:000 text:Your code",
			nil, true, []string{"439041101"}, "DELIVRD", "000", true},
		{"upper case keys, extra spaces", "ID:0000ABCD  SUB:001 DLVRD:000 SUBMIT DATE:2611291200 DONE DATE:2611291201 STAT:undeliv ERR:001 TEXT:",
			nil, true, []string{"0000ABCD"}, "UNDELIV", "001", true},
		{"fields missing", "id:42 stat:EXPIRED", nil, true, []string{"42"}, "EXPIRED", "", true},
		{"text holds key-like words", "id:7 stat:DELIVRD err:000 text:stat:REJECTD id:9", nil, true, []string{"7"}, "DELIVRD", "000", true},
		{"TLV only", "", tlv("1A2B", 2), true, []string{"1A2B"}, "DELIVRD", "", true},
		{"TLV id first, text id second", "id:6699 stat:DELIVRD", tlv("1A2B", 0), true, []string{"1A2B", "6699"}, "DELIVRD", "", true},
		{"TLV state wins", "id:1 stat:DELIVRD", tlv("", 5), true, []string{"1"}, "UNDELIV", "", true},
		{"same id twice", "id:1A2B stat:REJECTD", tlv("1A2B", 0), true, []string{"1A2B"}, "REJECTD", "", true},
		{"intermediate", "id:1 stat:ENROUTE", nil, true, []string{"1"}, "ENROUTE", "", false},
		{"accepted", "id:1 stat:ACCEPTD", nil, true, []string{"1"}, "ACCEPTD", "", false},
		{"no id", "sub:001 stat:DELIVRD", nil, false, nil, "DELIVRD", "", true},
		{"not a receipt", "hello there", nil, false, nil, "", "", false},
		{"empty id", "id: sub:001 stat:DELIVRD", nil, false, nil, "DELIVRD", "", true},
		{"key inside a word", "xid:5 stat:DELIVRD", nil, false, nil, "DELIVRD", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := ParseReceipt(tt.text, tt.tlvs)
			if ok != tt.ok || !slices.Equal(r.IDs, tt.ids) || r.Stat != tt.stat || r.Err != tt.err || r.Final != tt.final {
				t.Fatalf("ParseReceipt = %+v ok=%v, want ids %q stat %s err %q final %v ok=%v", r, ok, tt.ids, tt.stat, tt.err, tt.final, tt.ok)
			}
		})
	}
}

func TestIsReceipt(t *testing.T) {
	for esm, want := range map[byte]bool{0x00: false, 0x04: true, 0x44: true, 0x20: true, 0x08: false, 0x40: false} {
		if IsReceipt(esm) != want {
			t.Errorf("IsReceipt(%#x) = %v", esm, !want)
		}
	}
}

func FuzzParseReceipt(f *testing.F) {
	f.Add("id:439041101 sub:001 dlvrd:001 submit date:2611291200 done date:2611291201 stat:DELIVRD err:000 text:x", []byte("1A2B3C4D\x00"), byte(2))
	f.Add("ID: stat: text:", []byte{}, byte(0))
	f.Add("id:id:id: stat:stat:", []byte{0, 0}, byte(255))
	f.Fuzz(func(t *testing.T, text string, rid []byte, state byte) {
		tlvs := map[pdu.Tag]pdu.Field{
			pdu.TagReceiptedMessageID: {Tag: pdu.TagReceiptedMessageID, Data: rid},
			pdu.TagMessageStateOption: {Tag: pdu.TagMessageStateOption, Data: []byte{state}},
		}
		r, ok := ParseReceipt(text, tlvs)
		if ok != (len(r.IDs) > 0) {
			t.Fatalf("ok=%v with ids %q", ok, r.IDs)
		}
		for _, id := range r.IDs {
			if id == "" {
				t.Fatal("an empty id")
			}
		}
	})
}
