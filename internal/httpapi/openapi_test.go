package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/ringgate/ringgate/internal/httpapi/openapitest"
	"github.com/ringgate/ringgate/internal/verify"
)

// These tests hold openapi.json (embedded as openAPI, and served at
// /openapi.json) to the routes table and to problem.go, so the document
// cannot drift from the server unnoticed. The document itself is checked
// against the OpenAPI 3.1 schema by libopenapi-validator.

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// operation is one operation of the document: a path's or a webhook's.
type operation struct {
	where  string // "GET /v1/verifications" or "webhook verification.verified POST"
	method string // upper case
	path   string // the path template; "" for webhooks
	item   map[string]any
	op     map[string]any
}

func operations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	var ops []operation
	collect := func(section string) {
		items, _ := doc[section].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(items)) {
			item, ok := items[name].(map[string]any)
			if !ok {
				t.Errorf("%s[%q] is not an object", section, name)
				continue
			}
			for _, m := range httpMethods {
				raw, ok := item[m]
				if !ok {
					continue
				}
				op, ok := raw.(map[string]any)
				if !ok {
					t.Errorf("%s[%q].%s is not an object", section, name, m)
					continue
				}
				o := operation{method: strings.ToUpper(m), item: item, op: op}
				if section == "paths" {
					o.path, o.where = name, o.method+" "+name
				} else {
					o.where = "webhook " + name + " " + o.method
				}
				ops = append(ops, o)
			}
		}
	}
	collect("paths")
	collect("webhooks")
	return ops
}

// muxPathToOpenAPI turns a ServeMux pattern path into an OpenAPI template:
// "{rest...}" becomes "{rest}" and a trailing "{$}" goes.
func muxPathToOpenAPI(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

func routeByKey() map[string]route {
	m := make(map[string]route, len(routes))
	for _, rt := range routes {
		m[strings.ToUpper(rt.method)+" "+muxPathToOpenAPI(rt.path)] = rt
	}
	return m
}

// TestOpenAPIPathsMatchRoutes checks that the document has exactly one
// operation per entry of the routes table, and no other.
func TestOpenAPIPathsMatchRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	want := routeByKey()
	if len(want) != len(routes) {
		t.Fatalf("the routes table has duplicate entries")
	}
	got := map[string]bool{}
	for _, o := range operations(t, doc) {
		if o.path != "" {
			got[o.where] = true
		}
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes not documented in openapi.json paths (add them):\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json documents operations that are not in the routes table (remove them, or add the route):\n\t%s", strings.Join(extra, "\n\t"))
	}
}

// TestOpenAPIOperations checks what every operation must have: a unique
// operationId, a summary, every path parameter declared, and security and
// error responses that match the route's access level.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	byKey := routeByKey()
	schemes, _ := dig(doc, "components", "securitySchemes").(map[string]any)
	seen := map[string]string{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)

	for _, o := range operations(t, doc) {
		id, _ := o.op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s: no operationId", o.where)
		case seen[id] != "":
			t.Errorf("%s: operationId %q is also used by %s", o.where, id, seen[id])
		default:
			seen[id] = o.where
		}
		if s, _ := o.op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", o.where)
		}
		if d, _ := o.op["description"].(string); d == "" {
			t.Errorf("%s: no description", o.where)
		}
		if tags, _ := o.op["tags"].([]any); len(tags) == 0 {
			t.Errorf("%s: no tags", o.where)
		}
		resps, _ := o.op["responses"].(map[string]any)
		if len(resps) == 0 {
			t.Errorf("%s: no responses", o.where)
		}

		// Security requirements name existing schemes.
		reqs, hasOwn := o.op["security"].([]any)
		if !hasOwn {
			reqs, _ = doc["security"].([]any)
		}
		names := map[string]bool{}
		anonymous := len(reqs) == 0 // no requirement, or an empty one, lets anyone in
		for _, r := range reqs {
			if len(r.(map[string]any)) == 0 {
				anonymous = true
			}
			for name := range r.(map[string]any) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security names %q, which is not in components.securitySchemes", o.where, name)
				}
				names[name] = true
			}
		}

		if o.path == "" {
			continue // webhooks: not served by this API
		}

		// Every {param} of the path is declared, in the path item or the operation.
		declared := map[string]bool{}
		for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm, _ := resolve(doc, p).(map[string]any)
				if pm["in"] == "path" {
					name, _ := pm["name"].(string)
					declared[name] = true
					if pm["required"] != true {
						t.Errorf("%s: path parameter %q must be required", o.where, name)
					}
				}
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", o.where, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %q that is not in the path", o.where, name)
		}

		rt, ok := byKey[o.where]
		if !ok {
			continue // reported by TestOpenAPIPathsMatchRoutes
		}
		var wantSchemes []string
		wantAnonymous := false
		switch rt.access {
		case public, devOnly:
			wantAnonymous = true
		case simulator: // open in dev mode, an API key otherwise
			wantSchemes, wantAnonymous = []string{"apiKey"}, true
		case apiKey:
			wantSchemes = []string{"apiKey"}
		case keyOrTok:
			wantSchemes = []string{"apiKey", "clientToken"}
		default:
			t.Errorf("%s: access level %d is new; teach this test what security it documents", o.where, rt.access)
		}
		if got := slices.Sorted(maps.Keys(names)); !slices.Equal(got, wantSchemes) {
			t.Errorf("%s: security schemes %v, want %v for its access level in the routes table", o.where, got, wantSchemes)
		}
		if anonymous != wantAnonymous {
			t.Errorf("%s: anonymous access documented %v, want %v for its access level in the routes table", o.where, anonymous, wantAnonymous)
		}
		needs := func(status, why string) {
			if _, ok := resps[status]; !ok {
				t.Errorf("%s: no %s response, but %s", o.where, status, why)
			}
		}
		switch rt.access {
		case apiKey, keyOrTok:
			needs("401", "the route needs credentials")
		case simulator:
			needs("404", "the route answers 404 simulator_disabled when the simulator is off")
			needs("401", "outside dev mode the route needs an API key")
		case devOnly:
			needs("404", "the route answers 404 no_such_route outside dev mode")
		}
		if rt.scope == verify.ScopeAdmin {
			needs("403", "a verify-scope key is refused with 403 forbidden")
		}
		needs("500", "any handler can fail (a panic is answered with 500 internal)")
		if _, ok := o.op["requestBody"]; ok {
			needs("413", "the body is read through MaxBody")
			needs("400", "a body that cannot be read is malformed_json")
		}
	}
}

// TestOpenAPIDocumentValid checks every $ref resolves and that the document
// is valid OpenAPI 3.1, by libopenapi-validator's check against the
// OpenAPI 3.1 JSON Schema and by building libopenapi's model of it.
func TestOpenAPIDocumentValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}

	// Every $ref is local and resolves; every component is used.
	used := map[string]bool{}
	walk(doc, "#", func(at string, node map[string]any) {
		ref, ok := node["$ref"].(string)
		if !ok {
			return
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("%s: $ref %q is not local to the document", at, ref)
			return
		}
		if resolvePointer(doc, ref) == nil {
			t.Errorf("%s: $ref %q does not resolve", at, ref)
		}
		used[ref] = true
	})
	comps, _ := doc["components"].(map[string]any)
	for _, kind := range slices.Sorted(maps.Keys(comps)) {
		if kind == "securitySchemes" { // referred to by name, checked in TestOpenAPIOperations
			continue
		}
		entries, _ := comps[kind].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(entries)) {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never referred to; use it or delete it", ref)
			}
		}
	}

	d, err := libopenapi.NewDocument(openAPI)
	if err != nil {
		t.Fatalf("libopenapi cannot read openapi.json: %v", err)
	}
	if _, err := d.BuildV3Model(); err != nil {
		t.Errorf("libopenapi cannot build a model of openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("libopenapi-validator cannot load openapi.json: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			msg := e.Message + ": " + e.Reason
			for _, s := range e.SchemaValidationErrors {
				msg += fmt.Sprintf("\n\t\tat %s (%s): %s", s.InstancePath, s.KeywordLocation, s.Reason)
			}
			t.Errorf("openapi.json is not valid OpenAPI 3.1 (line %d): %s", e.SpecLine, msg)
		}
	}
}

// TestOpenAPISchemasValid checks every schema in the document (components
// and inline ones) against the JSON Schema 2020-12 meta-schema, which the
// OpenAPI 3.1 meta-schema does not look inside, and compiles each one, which
// catches bad patterns and $refs inside schemas.
func TestOpenAPISchemasValid(t *testing.T) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPI))
	if err != nil {
		t.Fatal(err)
	}
	doc := raw.(map[string]any)
	meta, err := jsonschema.NewCompiler().Compile("https://json-schema.org/draft/2020-12/schema")
	if err != nil {
		t.Fatal(err)
	}
	const base = "urn:ringgate:openapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(base, doc); err != nil {
		t.Fatal(err)
	}
	var locs []string
	walk(doc, "#", func(at string, node map[string]any) {
		if strings.HasPrefix(at, "#/components/schemas") || strings.Contains(at, "/properties/") {
			return // inside a schema: the meta-schema check covers it
		}
		if _, ok := node["schema"]; ok {
			locs = append(locs, at+"/schema")
		}
	})
	schemas, _ := dig(doc, "components", "schemas").(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		locs = append(locs, "#/components/schemas/"+name)
	}
	if len(locs) < len(schemas)+10 {
		t.Fatalf("found only %d schemas; the walk is broken", len(locs))
	}
	for _, loc := range locs {
		s := resolvePointer(doc, loc)
		if err := meta.Validate(s); err != nil {
			t.Errorf("%s is not a valid JSON Schema 2020-12 schema: %v", loc, err)
			continue
		}
		if _, err := c.Compile(base + loc); err != nil {
			t.Errorf("%s does not compile: %v", loc, err)
		}
	}
}

// TestOpenAPIProblemCodes checks that the Problem schema lists exactly the
// codes of statusOf, each with its status in the description, so a new code
// cannot ship undocumented.
func TestOpenAPIProblemCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	code, _ := dig(doc, "components", "schemas", "Problem", "properties", "code").(map[string]any)
	if code == nil {
		t.Fatal("components.schemas.Problem.properties.code is missing")
	}
	desc, _ := code["description"].(string)
	enum := map[string]bool{}
	list, _ := code["enum"].([]any)
	for _, c := range list {
		s, _ := c.(string)
		enum[s] = true
	}
	for _, c := range slices.Sorted(maps.Keys(statusOf)) {
		status := statusOf[c]
		if !enum[c] {
			t.Errorf("problem code %q (%d) is not in the Problem code enum", c, status)
		}
		if want := fmt.Sprintf("`%s` (%d)", c, status); !strings.Contains(desc, want) {
			t.Errorf("the Problem code description does not document %s", want)
		}
	}
	for c := range enum {
		if _, ok := statusOf[c]; !ok {
			t.Errorf("the Problem code enum has %q, which statusOf does not know", c)
		}
	}
}

// TestOpenAPIServedResponses checks real answers of the routes that need no
// verify.Service against the document with openapitest (the end-to-end
// tests in internal/server cover the rest), including the dev inbox and
// /openapi.json itself.
func TestOpenAPIServedResponses(t *testing.T) {
	bare := New(Config{})
	dev := New(Config{DevInbox: NewDevInbox(verify.NewWebhookSecret())})
	hook := `{"type":"verification.expired","timestamp":"2025-06-01T12:03:00Z","data":{}}`
	for _, x := range []struct {
		api          *API
		method, path string
		body         string
		hdr          []string
		want         int
	}{
		{bare, "GET", "/openapi.json", "", nil, 200},
		{bare, "GET", "/healthz", "", nil, 200},
		{bare, "GET", "/metrics", "", nil, 404},
		{bare, "POST", "/sim/calls", `{"from":"+442079460018","to":"+442071838750"}`, nil, 404},
		{bare, "GET", "/dev/webhooks", "", nil, 404},
		{bare, "POST", "/dev/webhooks", hook, nil, 404},
		{bare, "GET", "/v1/verifications", "", nil, 401},
		{bare, "POST", "/v1/verifications", `{}`, []string{"Authorization", "Basic x"}, 401},
		{bare, "GET", "/v1/verifications/vf_1/status", "", nil, 401},
		{bare, "GET", "/v1/verifications/vf_1/events", "", nil, 401},
		{bare, "POST", "/v1/webhooks/deliveries/msg_1/retry", "", nil, 401},
		{dev, "POST", "/dev/webhooks", hook, []string{"webhook-id", "msg_1", "webhook-timestamp", "1748779380", "webhook-signature", "v1,AAAA"}, 204},
		{dev, "POST", "/dev/webhooks", "not json", nil, 204},
		{dev, "POST", "/dev/webhooks", strings.Repeat("x", MaxBody+1), nil, 413},
		{dev, "GET", "/dev/webhooks", "", nil, 200},
	} {
		req := httptest.NewRequest(x.method, x.path, strings.NewReader(x.body))
		for i := 0; i+1 < len(x.hdr); i += 2 {
			req.Header.Set(x.hdr[i], x.hdr[i+1])
		}
		rec := httptest.NewRecorder()
		x.api.ServeHTTP(rec, req)
		resp := rec.Result()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != x.want {
			t.Errorf("%s %s: status %d, want %d: %s", x.method, x.path, resp.StatusCode, x.want, body)
			continue
		}
		openapitest.ValidateResponse(t, req, resp, body)
		if x.path == "/openapi.json" && !slices.Equal(body, openAPI) {
			t.Errorf("GET /openapi.json does not serve openapi.json")
		}
		if x.method == "GET" && x.path == "/dev/webhooks" && x.want == 200 && !strings.Contains(string(body), `"body":"not json"`) {
			t.Errorf("the dev inbox did not keep a non-JSON body as a string: %s", body)
		}
	}
}

// dig follows object keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolve follows v's $ref, if it has one.
func resolve(doc map[string]any, v any) any {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		v = resolvePointer(doc, ref)
	}
	return nil
}

// resolvePointer resolves a local reference "#/a/b~1c" (RFC 6901, as a URI
// fragment); nil if it does not resolve.
func resolvePointer(doc map[string]any, ref string) any {
	frag, err := url.PathUnescape(strings.TrimPrefix(ref, "#"))
	if err != nil {
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// walk calls fn for every object in v, with its JSON pointer.
func walk(v any, at string, fn func(at string, node map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(at, x)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walk(x[k], at+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), fn)
		}
	case []any:
		for i, e := range x {
			walk(e, at+"/"+strconv.Itoa(i), fn)
		}
	}
}
