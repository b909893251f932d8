package httpapi

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestOpenAPISchemasTyped holds every schema in the document (components,
// inline, headers, parameters, webhooks, and every schema nested in one) to
// an explicit "type", unless it is a $ref or only combines other schemas
// (allOf/anyOf/oneOf). Code generators read "type" to pick the target type:
// oapi-codegen turned the `const` headers without one into interface{}
// fields that it then could not bind ("can not bind to destination of
// type: interface"), failing every /events response and the client-token
// routes.
//
// A subschema of anyOf/oneOf/not that only lists "required" names no value
// of its own (StartVerificationRequest's "channel or workflow") and stays
// untyped: given "type": "object", openapi-typescript turns each such
// alternative into Record<string, never> and no request body type-checks.
func TestOpenAPISchemasTyped(t *testing.T) {
	doc := loadOpenAPI(t)
	var schemas int
	var visit func(at string, s any)
	visit = func(at string, s any) {
		m, ok := s.(map[string]any)
		if !ok {
			return // true/false schemas, or not a schema
		}
		schemas++
		_, hasType := m["type"]
		_, hasRef := m["$ref"]
		combines := false
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if _, ok := m[k]; ok {
				combines = true
			}
		}
		_, hasConst := m["const"]
		_, hasEnum := m["enum"]
		_, hasProps := m["properties"]
		if !hasType && !hasRef && (!combines || hasConst || hasEnum || hasProps) && !constraintOnly(at, m) {
			t.Errorf("%s: schema has no \"type\" (keys %v)", at, slices.Sorted(maps.Keys(m)))
		}
		for _, k := range []string{"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems"} {
			if v, ok := m[k]; ok {
				visit(at+"/"+k, v)
			}
		}
		for _, k := range []string{"properties", "patternProperties", "$defs", "dependentSchemas"} {
			if sub, ok := m[k].(map[string]any); ok {
				for _, name := range slices.Sorted(maps.Keys(sub)) {
					visit(at+"/"+k+"/"+name, sub[name])
				}
			}
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf", "prefixItems"} {
			if list, ok := m[k].([]any); ok {
				for i, e := range list {
					visit(at+"/"+k+"/"+strconv.Itoa(i), e)
				}
			}
		}
	}
	// Schema positions outside schemas: "schema" of parameters, headers and
	// media types; components/schemas.
	var find func(at string, v any)
	find = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if k == "schema" {
					visit(at+"/schema", x[k])
					continue
				}
				if k == "example" || k == "examples" {
					continue
				}
				if at == "#/components" && k == "schemas" {
					s, _ := x[k].(map[string]any)
					for _, name := range slices.Sorted(maps.Keys(s)) {
						visit(at+"/schemas/"+name, s[name])
					}
					continue
				}
				find(at+"/"+k, x[k])
			}
		case []any:
			for i, e := range x {
				find(at+"/"+strconv.Itoa(i), e)
			}
		}
	}
	find("#", doc)
	if schemas < 200 {
		t.Fatalf("visited only %d schemas; the walk is broken", schemas)
	}
	if id := dig(doc, "info", "license", "identifier"); id != "Apache-2.0" {
		t.Errorf("info.license.identifier is %v, want the SPDX identifier Apache-2.0", id)
	}
}

// constraintOnly reports whether m, at a position inside anyOf/oneOf/not,
// only constrains which properties are present.
func constraintOnly(at string, m map[string]any) bool {
	if !strings.Contains(at, "/anyOf/") && !strings.Contains(at, "/oneOf/") && !strings.HasSuffix(at, "/not") {
		return false
	}
	for k := range m {
		if k != "required" && k != "description" {
			return false
		}
	}
	return true
}
