package wire

import (
	"testing"
)

func FuzzParseForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("To=%2B447911123456&Channel=sms"))
	f.Add("", []byte("a=1&a=2&%zz"))
	f.Add("text/plain; charset=x", []byte("\xff=\xfe"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		v, err := ParseForm(ct, body)
		if err == nil && v == nil {
			t.Fatal("nil values without an error")
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add("application/json", []byte(`{"brand":"x","workflow":[{"channel":"sms","to":"447"}]}`), true)
	f.Add("", []byte(`{"a":1} {}`), false)
	f.Add("application/problem+json", []byte(`[`), true)
	f.Fuzz(func(t *testing.T, ct string, body []byte, lenient bool) {
		var dst struct {
			Brand    string `json:"brand"`
			Workflow []struct {
				Channel string `json:"channel"`
				To      string `json:"to"`
			} `json:"workflow"`
			CodeLength int `json:"code_length"`
		}
		_ = DecodeJSON(ct, body, &dst, lenient)
	})
}
