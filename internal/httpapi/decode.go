package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
)

// MaxBody bounds request bodies; a start request is a few hundred bytes.
const MaxBody = 64 << 10

// decodeError is a request body the server cannot use.
type decodeError struct {
	code, field, msg string
}

func (e *decodeError) Error() string { return e.msg }

// decodeJSON reads one JSON object into dst, strictly: unknown fields and
// trailing data are errors, so a misspelt field ("phone_number") is reported
// instead of silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &decodeError{code: codeMediaType, msg: fmt.Sprintf("send the body as application/json, not %q", ct)}
		}
	}
	if r.ContentLength > MaxBody {
		// Refused before reading: with Expect: 100-continue the client
		// gets this answer instead of 100 Continue, and sends nothing.
		drainOrClose(w, r)
		return &decodeError{code: codeTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", MaxBody)}
	}
	err := decodeBody(http.MaxBytesReader(w, r.Body, MaxBody), dst)
	var de *decodeError
	if errors.As(err, &de) {
		switch de.code {
		case codeTooLarge:
			drainOrClose(w, r)
		case codeTimeout:
			closeUnread(w, r)
		}
	}
	return err
}

// maxDrain bounds how much of a refused body the server reads to throw
// away; net/http's own bound for an unread body is the same.
const maxDrain = 256 << 10

// drainOrClose is for a body refused as too large. A client still sending
// it when the server closes the connection gets a TCP reset (a socket
// closed with unread data resets), and its failed write hides the 413. So
// a body declared (or, chunked, found) to be at most maxDrain bytes is read
// and discarded first, within the request's body deadline; a larger one,
// one that does not arrive in time, and one whose client waits for 100
// Continue are left unread and the connection closed.
func drainOrClose(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength <= maxDrain && !strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		n, err := io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain+1))
		if err == nil && n <= maxDrain {
			return
		}
	}
	closeUnread(w, r)
}

// closeUnread is for a request refused before its body was read: the
// connection is closed after the answer, and the server does not wait for
// the rest of a body nobody will read (a slow client would hold it).
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

func decodeBody(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describe(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &decodeError{code: codeMalformed, msg: "the body has data after the JSON object"}
	}
	return nil
}

func describe(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		unknown = "json: unknown field "
	)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &decodeError{code: codeTimeout, msg: "the body did not arrive in time; send it at once, after the headers"}
	case errors.Is(err, io.EOF):
		return &decodeError{code: codeMalformed, msg: msgEmpty}
	case errors.As(err, &tooBig):
		return &decodeError{code: codeTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}
	case errors.As(err, &syntax):
		return &decodeError{code: codeMalformed, msg: fmt.Sprintf("the body is not valid JSON (at byte %d): %v", syntax.Offset, syntax)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{code: codeMalformed, msg: "the body is not valid JSON: it ends too early"}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &decodeError{code: codeMalformed, msg: fmt.Sprintf("the body must be a JSON object, not %s", typ.Value)}
		}
		if field == "metadata" { // encoding/json names the map, not the key
			return &decodeError{code: codeMalformed, field: field, msg: fmt.Sprintf("metadata values must be strings, not %s", typ.Value)}
		}
		return &decodeError{code: codeMalformed, field: field, msg: fmt.Sprintf("%s must be %s, not %s", field, kindName(typ.Type.Kind().String()), typ.Value)}
	case strings.HasPrefix(err.Error(), unknown):
		name := strings.Trim(strings.TrimPrefix(err.Error(), unknown), `"`)
		return &decodeError{code: codeUnknownField, field: name, msg: fmt.Sprintf("unknown field %q: this request takes no such field (check its spelling in the API reference)", name)}
	}
	return &decodeError{code: codeMalformed, msg: "the body is not valid JSON: " + err.Error()}
}

// emptyBody says err is decodeJSON's answer to a body with nothing in it.
func emptyBody(err error) bool {
	var de *decodeError
	return errors.As(err, &de) && de.code == codeMalformed && de.msg == msgEmpty
}

const msgEmpty = "the body is empty; send a JSON object"

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "float64":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	}
	return k
}

func (a *API) writeDecodeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *decodeError
	if errors.As(err, &de) {
		writeProblem(w, r, de.code, de.field, de.msg)
		return
	}
	a.writeError(w, r, err)
}
