// Package wire holds the HTTP plumbing the compatible APIs share: bounded
// body reading, form and JSON decoding of untrusted bodies, Basic auth. It
// renders nothing: each provider's layer writes its own error shape.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxBody is the most any compat request body may be: their requests are
// a handful of short fields.
const MaxBody = 64 << 10

// ErrTooLarge is a body over MaxBody.
var ErrTooLarge = errors.New("the request body is larger than 64 KiB")

// ReadBody reads the whole body, at most MaxBody bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	if len(b) > MaxBody {
		return nil, ErrTooLarge
	}
	return b, nil
}

// ParseForm decodes an application/x-www-form-urlencoded body (an empty
// content type is taken as form too, as curl -d sends it). Repeated keys
// keep every value; values must be UTF-8.
func ParseForm(contentType string, body []byte) (url.Values, error) {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, fmt.Errorf("the Content-Type %q cannot be parsed", contentType)
		}
		if mt != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("the body must be application/x-www-form-urlencoded, not %s", mt)
		}
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the form body is malformed: %v", err)
	}
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return nil, errors.New("a form field name is not UTF-8")
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("the form field %s is not UTF-8", k)
			}
		}
	}
	return v, nil
}

// DecodeJSON decodes a JSON object body into dst, refusing trailing data.
// Unknown fields are accepted when lenient (providers' SDKs send fields a
// compat layer ignores), refused otherwise.
func DecodeJSON(contentType string, body []byte, dst any, lenient bool) error {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fmt.Errorf("the body must be application/json")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("the request body is empty")
		case errors.As(err, &se):
			return fmt.Errorf("the JSON body is malformed at byte %d", se.Offset)
		case errors.As(err, &te):
			return fmt.Errorf("the field %s has the wrong type (want %s)", te.Field, te.Type)
		}
		return fmt.Errorf("the JSON body cannot be decoded: %v", err)
	}
	if dec.More() {
		return errors.New("the JSON body has data after the object")
	}
	return nil
}

// BaseURL is the scheme and host the request came to, for the links some
// providers put in their responses.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/\\ \"") {
		host = "localhost"
	}
	return scheme + "://" + host
}
