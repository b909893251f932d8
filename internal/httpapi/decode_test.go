package httpapi

import (
	"errors"
	"github.com/ringgate/ringgate/internal/verify"
	"strings"
	"testing"
)

func TestDecodeErrorsAreDescriptive(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ body, field, says string }{
		"unknown field": {`{"phone":"+1","nope":1}`, "nope", `unknown field "nope"`},
		"wrong type":    {`{"timeout_s":"60"}`, "timeout_s", "timeout_s must be a number, not string"},
		"map value":     {`{"metadata":{"a":true}}`, "metadata", "metadata values must be strings, not bool"},
		"syntax":        {`{"phone":}`, "", "not valid JSON (at byte"},
		"truncated":     {`{"phone":"+1`, "", "ends too early"},
		"empty":         {``, "", "body is empty"},
		"array":         {`[]`, "", "must be a JSON object"},
		"trailing":      {`{} x`, "", "after the JSON object"},
	}
	for name, tt := range tests {
		var b verify.StartRequest
		err := decodeBody(strings.NewReader(tt.body), &b)
		var de *decodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: error %v is not a decodeError", name, err)
			continue
		}
		if de.field != tt.field || !strings.Contains(de.msg, tt.says) {
			t.Errorf("%s: got field %q msg %q; want field %q containing %q", name, de.field, de.msg, tt.field, tt.says)
		}
	}
}

// FuzzDecodeStart feeds arbitrary bodies to the start-request decoder: it
// must never panic, and every failure must be a client error with a message.
func FuzzDecodeStart(f *testing.F) {
	for _, s := range []string{
		`{"phone":"+442079460018","channel":"missed_call","timeout_s":60,"metadata":{"a":"b"}}`,
		`{"phone":"0207 946 0018","country":"GB","channel":"missed_call","callback_url":"https://example.com/h"}`,
		`{"phone":null}`, `{"metadata":{"a":{"b":1}}}`, `{"timeout_s":1e400}`, `{"phone":"\ud800"}`,
		`[`, `"x"`, `{"phone":"+1"}{}`, "\x00", `{"channel":["missed_call"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b verify.StartRequest
		err := decodeBody(strings.NewReader(string(body)), &b)
		if err == nil {
			return
		}
		var de *decodeError
		if !errors.As(err, &de) || de.msg == "" || statusOf[de.code] != 400 {
			t.Fatalf("body %q: error %#v is not a described 400", body, err)
		}
	})
}
