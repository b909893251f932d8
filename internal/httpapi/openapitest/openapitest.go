// Package openapitest checks real HTTP responses against ringgate's OpenAPI
// document (internal/httpapi/openapi.json), for end-to-end tests: a response
// whose status, content type, headers or body the document does not describe
// fails the test.
//
// It is a test helper: it reads openapi.json from the source tree, so it
// works under `go test` and not in a built binary. It does not import
// httpapi, so tests inside package httpapi may use it without an import
// cycle.
package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// ValidateResponse fails t unless resp (with its body already read into
// body) is a response the document allows for req: a documented status for
// the operation, a documented content type, a body matching the schema
// (formats such as date-time checked, and no properties the schema does not
// declare), and the documented response headers. A text/event-stream body
// is checked message by message: each `data:` must be a WebhookEvent whose
// type equals the `event:` line, with a numeric, increasing `id:`.
//
// Only documented operations can be checked: a 404 for an unknown path or a
// 405 for an undocumented method has no operation to check against.
func ValidateResponse(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	for _, p := range Check(req, resp, body) {
		t.Errorf("%s %s → %d: response does not match openapi.json: %s", req.Method, req.URL.Path, resp.StatusCode, p)
	}
}

// Check is ValidateResponse returning the problems instead: nil when the
// response matches the document.
func Check(req *http.Request, resp *http.Response, body []byte) []string {
	st, err := load()
	if err != nil {
		return []string{err.Error()}
	}
	// The validator reads the body; give it a copy and leave resp alone.
	r := *resp
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.Request == nil {
		r.Request = req
	}
	v := st.strict
	if loose[req.Method+" "+req.URL.Path] {
		v = st.loose
	}
	st.mu.Lock()
	ok, verrs := v.ValidateHttpResponse(req, &r)
	st.mu.Unlock()
	var problems []string
	if !ok {
		for _, e := range verrs {
			problems = append(problems, describe(e))
		}
	}
	if resp.StatusCode == http.StatusOK && mediaType(resp.Header.Get("Content-Type")) == "text/event-stream" {
		problems = append(problems, st.checkEventStream(body)...)
	}
	return problems
}

func describe(e *liberrors.ValidationError) string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Reason != "" && e.Reason != e.Message {
		b.WriteString(": " + e.Reason)
	}
	for _, s := range e.SchemaValidationErrors {
		at := s.FieldPath
		if at == "" {
			at = "/" + strings.Join(s.InstancePath, "/")
		}
		fmt.Fprintf(&b, "\n\t\t%s: %s", at, s.Reason)
	}
	return b.String()
}

func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// checkEventStream parses a Server-Sent Events body and checks each message.
func (st *state) checkEventStream(body []byte) []string {
	var problems []string
	var lastID int64 = -1
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	for n, block := range strings.Split(text, "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		var id, event string
		var data []string
		hasID := false
		for _, line := range strings.Split(block, "\n") {
			if strings.HasPrefix(line, ":") {
				continue // a comment (keep-alive)
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id, hasID = value, true
			case "event":
				event = value
			case "data":
				data = append(data, value)
			case "retry":
				if _, err := strconv.Atoi(value); err != nil {
					problems = append(problems, fmt.Sprintf("SSE message %d: retry %q is not a number", n, value))
				}
			default:
				problems = append(problems, fmt.Sprintf("SSE message %d: unexpected line %q", n, line))
			}
		}
		if data == nil {
			if hasID || event != "" {
				problems = append(problems, fmt.Sprintf("SSE message %d: id/event without data", n))
			}
			continue // retry: or comments only
		}
		where := fmt.Sprintf("SSE message %d (id %q)", n, id)
		if i, err := strconv.ParseInt(id, 10, 64); err != nil || i < 0 {
			problems = append(problems, where+": id is not an event id")
		} else {
			if i <= lastID {
				problems = append(problems, fmt.Sprintf("%s: id does not increase (after %d)", where, lastID))
			}
			lastID = i
		}
		payload := strings.Join(data, "\n")
		var env struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(payload), &env); err != nil {
			problems = append(problems, fmt.Sprintf("%s: data is not JSON: %v", where, err))
			continue
		}
		if env.Type != event {
			problems = append(problems, fmt.Sprintf("%s: event %q but data.type %q", where, event, env.Type))
		}
		st.mu.Lock()
		ok, verrs := st.sv.ValidateSchemaString(st.event, payload)
		st.mu.Unlock()
		if !ok {
			for _, e := range verrs {
				problems = append(problems, where+": data is not a WebhookEvent: "+describe(e))
			}
		}
	}
	return problems
}

// loose are responses checked without strict mode: the OpenAPI document
// itself, whose schema names only a few of its properties (httpapi's own
// tests check the document).
var loose = map[string]bool{"GET /openapi.json": true}

type state struct {
	mu     sync.Mutex // the validators are not documented as safe for concurrent use
	strict validator.Validator
	loose  validator.Validator
	sv     schema_validation.SchemaValidator
	event  *base.Schema
}

var (
	once    sync.Once
	loaded  *state
	loadErr error
)

func load() (*state, error) {
	once.Do(func() { loaded, loadErr = build() })
	return loaded, loadErr
}

func build() (*state, error) {
	spec, err := os.ReadFile(DocumentPath())
	if err != nil {
		return nil, fmt.Errorf("openapitest: %w", err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("openapitest: read openapi.json: %w", err)
	}
	lv, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapitest: load openapi.json: %w", errors.Join(errs...))
	}
	opts := []config.Option{
		config.WithFormatAssertions(),
		// Strict mode reports properties a schema does not declare, so an
		// undocumented field fails; but it also treats a map schema
		// (additionalProperties: {…}) as declaring nothing, so the
		// document's free-form objects are exempted by path. The schemas
		// (value types, sizes) still apply to them.
		config.WithStrictMode(),
		config.WithStrictIgnorePaths(
			"$.body.metadata.*", // metadata: string → string
			"$.body.**.metadata.*",
			"$.body.data[*].body", // dev inbox: a received body is any JSON
			"$.body.data[*].body.**",
		),
	}
	v, errs := validator.NewValidator(doc, opts...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapitest: load openapi.json: %w", errors.Join(errs...))
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapitest: build openapi.json: %w", err)
	}
	ev := model.Model.Components.Schemas.GetOrZero("WebhookEvent")
	if ev == nil {
		return nil, errors.New("openapitest: openapi.json has no WebhookEvent schema")
	}
	return &state{strict: v, loose: lv, sv: schema_validation.NewSchemaValidator(config.WithFormatAssertions()), event: ev.Schema()}, nil
}

// DocumentPath is where openapi.json is: next to this package's source, or
// else found from the working directory up to the module root.
func DocumentPath() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "openapi.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "openapi.json"
	}
	for {
		p := filepath.Join(dir, "internal", "httpapi", "openapi.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return p // the module root: report this path as missing
		}
		up := filepath.Dir(dir)
		if up == dir {
			return p
		}
		dir = up
	}
}
