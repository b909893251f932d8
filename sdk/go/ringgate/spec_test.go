package ringgate

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The SDK is hand-written, so this test keeps it in step with the API's
// own description, ../../../internal/httpapi/openapi.json: every schema is
// mapped to a Go type (or skipped with a reason), every property of a
// schema is a JSON field of its type and the other way round (nested
// objects too), every enum equals the SDK's constants, and every operation
// is a method. A field, code, status or route added to the document fails
// here until the SDK has it.

var specPath = filepath.Join("..", "..", "..", "internal", "httpapi", "openapi.json")

func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatalf("read the API description: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// schemaTypes maps each component schema the SDK models to its Go type.
var schemaTypes = map[string]reflect.Type{
	"StartVerificationRequest": reflect.TypeFor[StartRequest](),
	"WorkflowStepRequest":      reflect.TypeFor[WorkflowStep](),
	"WorkflowStep":             reflect.TypeFor[WorkflowStep](),
	"VerificationData":         reflect.TypeFor[VerificationData](),
	"Verification":             reflect.TypeFor[Verification](),
	"CheckRequest":             reflect.TypeFor[CheckRequest](),
	"CheckResult":              reflect.TypeFor[CheckResult](),
	"PublicStatus":             reflect.TypeFor[PublicStatus](),
	"PublicCheckResult":        reflect.TypeFor[PublicCheckResult](),
	"CallView":                 reflect.TypeFor[CallView](),
	"OutboundView":             reflect.TypeFor[OutboundView](),
	"CheckView":                reflect.TypeFor[CheckView](),
	"StepChange":               reflect.TypeFor[StepChange](),
	"App":                      reflect.TypeFor[App](),
	"AppSettings":              reflect.TypeFor[AppSettings](),
	"SettingsPatch":            reflect.TypeFor[SettingsPatch](),
	"CallerIDRange":            reflect.TypeFor[CallerIDRange](),
	"WebhookEvent":             reflect.TypeFor[Event](),
	"EventData":                reflect.TypeFor[EventData](),
	"Delivery":                 reflect.TypeFor[Delivery](),
	"VerificationList":         reflect.TypeFor[VerificationList](),
	"DeliveryList":             reflect.TypeFor[DeliveryList](),
	"Problem":                  reflect.TypeFor[Error](),
	"ApiKey":                   reflect.TypeFor[APIKey](),
	"NewApiKey":                reflect.TypeFor[NewAPIKey](),
	"NewApiKeyRequest":         reflect.TypeFor[NewAPIKeyRequest](),
	"ApiKeyList":               reflect.TypeFor[APIKeyList](),
	"AuditEntry":               reflect.TypeFor[AuditEntry](),
	"AuditList":                reflect.TypeFor[AuditList](),
	"RateLimit":                reflect.TypeFor[RateLimit](),
	"RiskHook":                 reflect.TypeFor[RiskHook](),
	"FraudView":                reflect.TypeFor[FraudView](),
	"PrefixBlock":              reflect.TypeFor[PrefixBlock](),
	"PrefixBlockList":          reflect.TypeFor[PrefixBlockList](),
	"CompatCredentials":        reflect.TypeFor[CompatCredentials](),
	"NewCompatCredentials":     reflect.TypeFor[NewCompatCredentials](),
	"VonagePublicKeyRequest":   reflect.TypeFor[VonagePublicKeyRequest](),
	"VonageStatusURLRequest":   reflect.TypeFor[VonageStatusURLRequest](),
}

// enumTypes maps enum schemas to the Go type whose constants list them
// (a string naming an untyped-constant prefix for the nullable ones).
var enumTypes = map[string]string{
	"Channel":            "Channel",
	"VerificationStatus": "Status",
	"EventType":          "EventType",
	"DeliveryStatus":     "DeliveryStatus",
	"KeyScope":           "KeyScope",
	"ResultCode":         "Result",
	"Reason":             "Reason",
}

// skippedSchemas are not the SDK's business, each with why.
var skippedSchemas = map[string]string{
	"NextCursor":       "a string; next_cursor fields are strings",
	"SimCallRequest":   "the simulator (dev mode), driven by tests, not integrators",
	"SimCallResult":    "the simulator",
	"SimPhone":         "the simulator",
	"SimAnswerRequest": "the simulator",
	"SimDTMFRequest":   "the simulator",
	"InboxMessage":     "dev mode's webhook inbox",
	"InboxList":        "dev mode's webhook inbox",
}

// operations maps each operationId to the SDK method that calls it.
var operations = map[string]string{
	"startVerification":        "Client.Start",
	"listVerifications":        "Client.List",
	"getVerification":          "Client.Get",
	"cancelVerification":       "Client.Cancel",
	"checkVerification":        "Client.Check",
	"nextVerificationStep":     "Client.Next",
	"streamVerificationEvents": "Client.Events",
	"getVerificationStatus":    "Page.Status",
	"getApp":                   "Client.App",
	"updateAppSettings":        "Client.UpdateApp",
	"rotateWebhookSecret":      "Client.RotateWebhookSecret",
	"erasePhone":               "Client.ErasePhone",
	"listApiKeys":              "Client.Keys",
	"createApiKey":             "Client.CreateKey",
	"revokeApiKey":             "Client.RevokeKey",
	"listWebhookDeliveries":    "Client.Deliveries",
	"retryWebhookDelivery":     "Client.RetryDelivery",
	"listAuditLog":             "Client.Audit",
	"listBlockedPrefixes":      "Client.BlockedPrefixes",
	"unblockPrefix":            "Client.UnblockPrefix",
	"getCompatCredentials":     "Client.CompatCredentials",
	"rotateCompatCredentials":  "Client.RotateCompatCredentials",
	"setVonagePublicKey":       "Client.SetVonagePublicKey",
	"setVonageStatusURL":       "Client.SetVonageStatusURL",
}

var skippedOperations = map[string]string{
	"getHealth":                   "operations: load balancers call it",
	"getReadiness":                "operations",
	"getOpenAPIDocument":          "the document itself",
	"getMetrics":                  "Prometheus scrapes it",
	"simulateCall":                "the simulator",
	"simPhone":                    "the simulator",
	"simAnswer":                   "the simulator",
	"simDTMF":                     "the simulator",
	"simHangup":                   "the simulator",
	"receiveDevWebhook":           "dev mode's webhook inbox",
	"listDevWebhooks":             "dev mode's webhook inbox",
	"streamVerificationWebSocket": "the same events as streamVerificationEvents (Events), over a WebSocket for browsers; a Go client reads the SSE stream",
}

// inlineResponses are operations whose answer is an inline schema.
var inlineResponses = map[string]reflect.Type{
	"rotateWebhookSecret": reflect.TypeFor[WebhookSecret](),
	"erasePhone":          reflect.TypeFor[Erasure](),
}

func TestTypesMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	schemas := dig(doc, "components", "schemas").(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		_, mapped := schemaTypes[name]
		_, enum := enumTypes[name]
		_, skipped := skippedSchemas[name]
		if !mapped && !enum && !skipped {
			t.Errorf("schema %s is new: model it in the SDK (and map it in schemaTypes)", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(schemaTypes)) {
		s, ok := schemas[name]
		if !ok {
			t.Errorf("schemaTypes maps %s, which the document no longer has", name)
			continue
		}
		compare(t, doc, name, s, schemaTypes[name])
	}
	for op, typ := range inlineResponses {
		s := findOperation(doc, op)
		if s == nil {
			t.Errorf("operation %s is gone", op)
			continue
		}
		for code, r := range dig(s, "responses").(map[string]any) {
			if strings.HasPrefix(code, "2") {
				compare(t, doc, op+" "+code, dig(resolve(doc, r), "content", "application/json", "schema"), typ)
			}
		}
	}
}

// compare checks that schema s and Go type typ have the same JSON fields,
// and recurses into object-valued fields.
func compare(t *testing.T, doc map[string]any, at string, s any, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[time.Time]() {
		return
	}
	props := properties(doc, s)
	fields := jsonFields(typ)
	for _, p := range slices.Sorted(maps.Keys(props)) {
		f, ok := fields[p]
		if !ok {
			t.Errorf("%s: property %q has no field in %s", at, p, typ)
			continue
		}
		ps := resolve(doc, props[p])
		if items := dig(ps, "items"); items != nil && typeIs(ps, "array") {
			ps = resolve(doc, items)
		}
		if len(properties(doc, ps)) > 0 {
			compare(t, doc, at+"."+p, ps, f)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if _, ok := props[f]; !ok {
			t.Errorf("%s: %s has field %q, which the document does not have", at, typ, f)
		}
	}
}

func typeIs(s any, want string) bool {
	switch v := dig(s, "type").(type) {
	case string:
		return v == want
	case []any:
		return slices.Contains(v, any(want))
	}
	return false
}

// properties collects a schema's properties through $ref and allOf (and the
// properties that anyOf/oneOf alternatives name).
func properties(doc map[string]any, s any) map[string]any {
	out := map[string]any{}
	s = resolve(doc, s)
	m, _ := s.(map[string]any)
	if m == nil {
		return out
	}
	if p, ok := m["properties"].(map[string]any); ok {
		maps.Copy(out, p)
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, sub := range all {
			maps.Copy(out, properties(doc, sub))
		}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := m[k].([]any); ok {
			for _, sub := range alts {
				if r := resolve(doc, sub); dig(r, "$ref") == nil {
					maps.Copy(out, properties(doc, r))
				}
			}
		}
	}
	return out
}

// jsonFields returns the JSON names of typ's fields, embedded structs
// flattened as encoding/json does.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func TestEnumsMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	consts := sdkConstants(t)
	for schema, goName := range enumTypes {
		s := dig(doc, "components", "schemas", schema)
		var want []string
		for _, v := range dig(s, "enum").([]any) {
			if v != nil {
				want = append(want, v.(string))
			}
		}
		slices.Sort(want)
		got := consts[goName]
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the document's values %v, the SDK's %s constants %v", schema, want, goName, got)
		}
	}
	var codes []string
	for _, v := range dig(doc, "components", "schemas", "Problem", "properties", "code", "enum").([]any) {
		codes = append(codes, v.(string))
	}
	slices.Sort(codes)
	got := consts["Code"]
	slices.Sort(got)
	if !slices.Equal(got, codes) {
		t.Errorf("Problem.code: the document's codes %v, the SDK's Code constants %v", codes, got)
	}
}

// sdkConstants reads the package's string constants: by declared type
// (Channel, Status, …), or for untyped ones by name prefix (Code…,
// Reason…, Result…).
func sdkConstants(t *testing.T) map[string][]string {
	fset := token.NewFileSet()
	out := map[string][]string{}
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					key := ""
					if id, ok := vs.Type.(*ast.Ident); ok {
						key = id.Name
					} else {
						for _, p := range []string{"Code", "Reason", "Result"} {
							if strings.HasPrefix(n.Name, p) {
								key = p
							}
						}
					}
					if key != "" {
						out[key] = append(out[key], v)
					}
				}
			}
		}
	}
	return out
}

func TestOperationsCovered(t *testing.T) {
	doc := loadSpec(t)
	types := map[string]reflect.Type{"Client": reflect.TypeFor[*Client](), "Page": reflect.TypeFor[*Page]()}
	seen := map[string]bool{}
	for _, item := range dig(doc, "paths").(map[string]any) {
		for _, op := range item.(map[string]any) {
			id, _ := dig(op, "operationId").(string)
			if id == "" {
				continue
			}
			seen[id] = true
			m, ok := operations[id]
			if _, skip := skippedOperations[id]; skip {
				continue
			}
			if !ok {
				t.Errorf("operation %s is new: add a method to the SDK (and map it in operations)", id)
				continue
			}
			recv, meth, _ := strings.Cut(m, ".")
			if _, ok := types[recv].MethodByName(meth); !ok {
				t.Errorf("operation %s: %s has no method %s", id, recv, meth)
			}
		}
	}
	for id := range operations {
		if !seen[id] {
			t.Errorf("operations maps %s, which the document no longer has", id)
		}
	}
}

func findOperation(doc map[string]any, id string) any {
	for _, item := range dig(doc, "paths").(map[string]any) {
		for _, op := range item.(map[string]any) {
			if dig(op, "operationId") == id {
				return op
			}
		}
	}
	return nil
}

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

// resolve follows a local $ref ("#/components/…").
func resolve(doc map[string]any, v any) any {
	for range 10 {
		ref, ok := dig(v, "$ref").(string)
		if !ok {
			return v
		}
		v = dig(doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return v
}
