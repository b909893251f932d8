package sdktest

import (
	"strings"
	"testing"
)

// TestTwilioBadInput: every refusal on /v2/Services… is Twilio's error
// JSON {code, message, more_info, status} with the HTTP status it names,
// never ringgate's problem JSON, never a 500.
func TestTwilioBadInput(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	as := func(c call) reply { c.user, c.pass = accountSID, authToken; return do(t, srv, c) }
	svc := as(call{method: "POST", path: "/v2/Services", body: form("FriendlyName", "Acme")}).json(t)["sid"].(string)
	v := as(call{method: "POST", path: "/v2/Services/" + svc + "/Verifications", body: form("To", "+447911123520", "Channel", "sms")})
	ve := v.json(t)["sid"].(string)
	mc := as(call{method: "POST", path: "/v2/Services/" + svc + "/Verifications", body: form("To", "+447911123521", "Channel", "missed_call")})
	if m := mc.json(t); mc.status != 201 || m["ringgate"].(map[string]any)["dial_number"] == "" {
		t.Fatalf("missed_call by name: %d %s", mc.status, mc.body)
	}
	mcSID := mc.json(t)["sid"].(string)
	vs := "/v2/Services/" + svc + "/Verifications"
	for _, c := range []struct {
		name   string
		c      call
		status int
		code   float64
	}{
		{"service without a name", call{method: "POST", path: "/v2/Services"}, 400, 60200},
		{"service code length", call{method: "POST", path: "/v2/Services", body: form("FriendlyName", "A", "CodeLength", "99")}, 400, 60200},
		{"service name too long", call{method: "POST", path: "/v2/Services", body: form("FriendlyName", strings.Repeat("n", 31))}, 400, 60200},
		{"a JSON body", call{method: "POST", path: "/v2/Services", ctype: "application/json", body: `{"FriendlyName":"A"}`}, 400, 20001},
		{"a malformed form", call{method: "POST", path: "/v2/Services", body: "FriendlyName=%zz"}, 400, 20001},
		{"a huge body", call{method: "POST", path: "/v2/Services", body: "FriendlyName=" + strings.Repeat("a", 70<<10)}, 413, 20001},
		{"no To", call{method: "POST", path: vs, body: form("Channel", "sms")}, 400, 60200},
		{"a bad To", call{method: "POST", path: vs, body: form("To", "12", "Channel", "sms")}, 400, 60200},
		{"no Channel", call{method: "POST", path: vs, body: form("To", "+447911123522")}, 400, 60200},
		{"whatsapp", call{method: "POST", path: vs, body: form("To", "+447911123522", "Channel", "whatsapp")}, 400, 60200},
		{"a custom code", call{method: "POST", path: vs, body: form("To", "+447911123522", "Channel", "sms", "CustomCode", "1234")}, 400, 60200},
		{"a bad locale", call{method: "POST", path: vs, body: form("To", "+447911123522", "Channel", "sms", "Locale", "not a locale!")}, 400, 60200},
		{"an unknown Service", call{method: "GET", path: "/v2/Services/VA00000000000000000000000000000000"}, 404, 20404},
		{"a malformed Service SID", call{method: "GET", path: "/v2/Services/nope"}, 404, 20404},
		{"an unknown path", call{method: "GET", path: "/v2/Services/" + svc + "/Nothing"}, 404, 20404},
		{"a wrong method", call{method: "DELETE", path: vs + "/" + ve}, 404, 20404},
		{"a malformed To as SID", call{method: "GET", path: vs + "/%2B1"}, 404, 20404},
		{"update without Status", call{method: "POST", path: vs + "/" + ve}, 400, 60200},
		{"update to approved", call{method: "POST", path: vs + "/" + ve, body: form("Status", "approved")}, 400, 60200},
		{"update to anything", call{method: "POST", path: vs + "/" + ve, body: form("Status", "done")}, 400, 60200},
		{"check without Code", call{method: "POST", path: "/v2/Services/" + svc + "/VerificationCheck", body: form("To", "+447911123520")}, 400, 60200},
		{"check without To or Sid", call{method: "POST", path: "/v2/Services/" + svc + "/VerificationCheck", body: form("Code", "123456")}, 400, 60200},
		{"check a missed call", call{method: "POST", path: "/v2/Services/" + svc + "/VerificationCheck", body: form("VerificationSid", mcSID, "Code", "123456")}, 400, 60200},
		{"check a number never started", call{method: "POST", path: "/v2/Services/" + svc + "/VerificationCheck", body: form("To", "+447911123599", "Code", "123456")}, 404, 20404},
	} {
		r := as(c.c)
		m := r.json(t)
		if r.status != c.status || m["code"] != c.code || m["status"] != float64(c.status) || m["more_info"] == "" ||
			!strings.HasPrefix(r.ctype, "application/json") {
			t.Errorf("%s: %d %s %s, want %d with code %v", c.name, r.status, r.ctype, r.body, c.status, c.code)
		}
	}
	// A code of the wrong form is a wrong code (pending, valid false),
	// and not counted.
	r := as(call{method: "POST", path: "/v2/Services/" + svc + "/VerificationCheck", body: form("VerificationSid", ve, "Code", "12ab")})
	if m := r.json(t); r.status != 200 || m["status"] != "pending" || m["valid"] != false || m["ringgate"].(map[string]any)["check_attempts"] != float64(0) {
		t.Fatalf("malformed code: %d %s", r.status, r.body)
	}
}

// TestVonageBadInput: every refusal on /v2/verify… is an RFC 7807 body
// with Vonage's type and title, never ringgate's own, never a 500.
func TestVonageBadInput(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	as := func(c call) reply { c.user, c.pass = vonageKey, vonageSecret; return do(t, srv, c) }
	ok := as(call{method: "POST", path: "/v2/verify", ctype: "application/json", body: `{"brand":"Acme","workflow":[{"channel":"missed_call","to":"447911123530"}]}`})
	if m := ok.json(t); ok.status != 202 || m["ringgate"].(map[string]any)["dial_number"] == "" {
		t.Fatalf("missed_call by name: %d %s", ok.status, ok.body)
	}
	mcID := ok.json(t)["request_id"].(string)
	j := func(body string) call {
		return call{method: "POST", path: "/v2/verify", ctype: "application/json", body: body}
	}
	for _, c := range []struct {
		name   string
		c      call
		status int
		title  string
	}{
		{"not JSON", j(`{"brand":`), 400, "Bad Request"},
		{"a form body", call{method: "POST", path: "/v2/verify", body: "brand=x"}, 400, "Bad Request"},
		{"trailing data", j(`{"brand":"A","workflow":[{"channel":"sms","to":"447911123531"}]} {}`), 400, "Bad Request"},
		{"a wrong type", j(`{"brand":7}`), 400, "Bad Request"},
		{"no brand", j(`{"workflow":[{"channel":"sms","to":"447911123531"}]}`), 422, "Invalid params"},
		{"no workflow", j(`{"brand":"A"}`), 422, "Invalid params"},
		{"whatsapp", j(`{"brand":"A","workflow":[{"channel":"whatsapp","to":"447911123531"}]}`), 422, "Invalid params"},
		{"no to", j(`{"brand":"A","workflow":[{"channel":"sms"}]}`), 422, "Invalid params"},
		{"a bad to", j(`{"brand":"A","workflow":[{"channel":"sms","to":"12"}]}`), 422, "Invalid params"},
		{"two numbers", j(`{"brand":"A","workflow":[{"channel":"sms","to":"447911123531"},{"channel":"voice","to":"447911123532"}]}`), 422, "Invalid params"},
		{"code_length", j(`{"brand":"A","code_length":3,"workflow":[{"channel":"sms","to":"447911123531"}]}`), 422, "Invalid params"},
		{"channel_timeout", j(`{"brand":"A","channel_timeout":5,"workflow":[{"channel":"sms","to":"447911123531"}]}`), 422, "Invalid params"},
		{"a custom code", j(`{"brand":"A","code":"1234","workflow":[{"channel":"sms","to":"447911123531"}]}`), 422, "Invalid params"},
		{"an unknown request", call{method: "POST", path: "/v2/verify/00000000-0000-4000-8000-000000000000", ctype: "application/json", body: `{"code":"1234"}`}, 404, "Not Found"},
		{"a malformed request id", call{method: "DELETE", path: "/v2/verify/nope"}, 404, "Not Found"},
		{"a check without code", call{method: "POST", path: "/v2/verify/" + mcID, ctype: "application/json", body: `{}`}, 422, "Invalid params"},
		{"a check of a missed call", call{method: "POST", path: "/v2/verify/" + mcID, ctype: "application/json", body: `{"code":"1234"}`}, 409, "Invalid workflow step"},
		{"no next workflow", call{method: "POST", path: "/v2/verify/" + mcID + "/next_workflow"}, 409, "Conflict"},
		{"an unknown path", call{method: "GET", path: "/v2/verify/templates"}, 404, "Not Found"},
		{"a huge body", j(`{"brand":"` + strings.Repeat("a", 70<<10) + `"}`), 413, "Payload Too Large"},
	} {
		r := as(c.c)
		m := r.json(t)
		if r.status != c.status || m["title"] != c.title || !strings.HasPrefix(m["type"].(string), "https://www.developer.vonage.com/api-errors") ||
			r.ctype != "application/problem+json" || m["instance"] == "" {
			t.Errorf("%s: %d %s %s, want %d %q", c.name, r.status, r.ctype, r.body, c.status, c.title)
		}
	}
	if r := do(t, srv, call{method: "POST", path: "/v2/verify", ctype: "application/json", body: `{}`}); r.status != 401 || r.ctype != "application/problem+json" {
		t.Errorf("no auth: %d %s", r.status, r.body)
	}
}
