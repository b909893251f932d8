package openapitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const verification = `{
  "id": "vf_0197273a4c2a7b5c9d8e1f2a3b4c5d6e",
  "status": "pending",
  "channel": "missed_call",
  "phone": "+442079460018",
  "country": "GB",
  "dial_number": "+442071838750",
  "expires_at": "2025-06-01T12:03:00Z",
  "created_at": "2025-06-01T12:00:00Z",
  "updated_at": "2025-06-01T12:00:00Z",
  "completed_at": null,
  "client_token": "ct_3q2-7wH0mLk9f1xRzA8cVbN4eUo5yTjP",
  "metadata": {"user_id": "u_123"},
  "result_code": null,
  "reason": null,
  "sandbox": false,
  "workflow": [{"channel": "missed_call", "timeout_s": 180}],
  "step": 0,
  "verified_channel": null,
  "attempts": 0
}`

const event = `{"type":"verification.verified","timestamp":"2025-06-01T12:00:41.52Z","data":{"id":"vf_0197273a4c2a7b5c9d8e1f2a3b4c5d6e","status":"verified","channel":"missed_call","phone":"+44 ••••••••18","country":"GB","dial_number":"+442071838750","expires_at":"2025-06-01T12:03:00Z","created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:41.52Z","completed_at":"2025-06-01T12:00:41.52Z","metadata":{},"result_code":"000","reason":null,"sandbox":false,"workflow":[{"channel":"missed_call","timeout_s":180}],"step":0,"verified_channel":"missed_call","attempts":0,"call":{"from":"+44 ••••••••18","to":"+442071838750","matched":true,"received_at":"2025-06-01T12:00:41.52Z"}}}`

var inbox = `{"data":[{"webhook_id":"msg_0197273a4c2a7b5c9d8e1f2a3b4c5d6f","received_at":"2025-06-01T12:00:42Z","signature_valid":true,"body":` + event + `},` +
	`{"webhook_id":"","received_at":"2025-06-01T12:00:43Z","signature_valid":false,"signature_error":"no signature","body":"not json"}]}`

func response(status int, contentType, body string, headers ...string) *http.Response {
	rec := httptest.NewRecorder()
	if contentType != "" {
		rec.Header().Set("Content-Type", contentType)
	}
	rec.Header().Set("Cache-Control", "no-store")
	for i := 0; i+1 < len(headers); i += 2 {
		rec.Header().Set(headers[i], headers[i+1])
	}
	rec.WriteHeader(status)
	rec.WriteString(body)
	return rec.Result()
}

func problem(status int, code, path string) string {
	return fmt.Sprintf(`{"type":"urn:ringgate:problem:%s","title":%q,"status":%d,"detail":"x","instance":%q,"code":%q}`,
		code, http.StatusText(status), status, path, code)
}

type exchange struct {
	name         string
	method, path string
	resp         *http.Response
	body         string
	want         string // a substring of a problem; "" for a valid response
}

func exchanges() []exchange {
	const get = "/v1/verifications/vf_0197273a4c2a7b5c9d8e1f2a3b4c5d6e"
	sse := "retry: 2000\n\nid: 41\nevent: verification.verified\ndata: " + event + "\n\n"
	return []exchange{
		{name: "verification", method: "GET", path: get,
			resp: response(200, "application/json", verification), body: verification},
		{name: "created with Location", method: "POST", path: "/v1/verifications",
			resp: response(201, "application/json", verification, "Location", get), body: verification},
		{name: "problem", method: "GET", path: get,
			resp: response(404, "application/problem+json", problem(404, "not_found", get)), body: problem(404, "not_found", get)},
		{name: "unauthorized", method: "GET", path: get,
			resp: response(401, "application/problem+json", problem(401, "unauthorized", get), "WWW-Authenticate", `Bearer realm="ringgate"`),
			body: problem(401, "unauthorized", get)},
		{name: "list", method: "GET", path: "/v1/verifications",
			resp: response(200, "application/json", `{"data":[`+verification+`],"next_cursor":null}`),
			body: `{"data":[` + verification + `],"next_cursor":null}`},
		{name: "event stream", method: "GET", path: get + "/events",
			resp: response(200, "text/event-stream", sse, "X-Accel-Buffering", "no"), body: sse + ": keep-alive\n\n"},
		{name: "dev inbox", method: "GET", path: "/dev/webhooks",
			resp: response(200, "application/json", inbox), body: inbox},
		{name: "stream ended", method: "GET", path: get + "/events", resp: response(204, "", "")},

		{name: "missing field", method: "GET", path: get, want: "client_token",
			resp: response(200, "application/json", strings.Replace(verification, `"client_token"`, `"token"`, 1)),
			body: strings.Replace(verification, `"client_token"`, `"token"`, 1)},
		{name: "wrong type", method: "GET", path: get, want: "sandbox",
			resp: response(200, "application/json", strings.Replace(verification, `"sandbox": false`, `"sandbox": "no"`, 1)),
			body: strings.Replace(verification, `"sandbox": false`, `"sandbox": "no"`, 1)},
		{name: "bad date-time", method: "GET", path: get, want: "date-time",
			resp: response(200, "application/json", strings.Replace(verification, `"2025-06-01T12:03:00Z"`, `"tomorrow"`, 1)),
			body: strings.Replace(verification, `"2025-06-01T12:03:00Z"`, `"tomorrow"`, 1)},
		{name: "undocumented property", method: "GET", path: get, want: "secret",
			resp: response(200, "application/json", strings.Replace(verification, `"sandbox"`, `"secret": 1, "sandbox"`, 1)),
			body: strings.Replace(verification, `"sandbox"`, `"secret": 1, "sandbox"`, 1)},
		{name: "undocumented status", method: "GET", path: get, want: "418",
			resp: response(418, "application/problem+json", problem(418, "not_found", get)), body: problem(418, "not_found", get)},
		{name: "unknown problem code", method: "GET", path: get, want: "code",
			resp: response(404, "application/problem+json", problem(404, "gone", get)), body: problem(404, "gone", get)},
		{name: "wrong content type", method: "GET", path: get, want: "text/html",
			resp: response(200, "text/html", "<p>hi</p>"), body: "<p>hi</p>"},
		{name: "401 without WWW-Authenticate", method: "GET", path: get, want: "WWW-Authenticate",
			resp: response(401, "application/problem+json", problem(401, "unauthorized", get)), body: problem(401, "unauthorized", get)},
		{name: "stream event mismatch", method: "GET", path: get + "/events", want: "data.type",
			resp: response(200, "text/event-stream", ""),
			body: "id: 41\nevent: verification.expired\ndata: " + event + "\n\n"},
		{name: "stream bad data", method: "GET", path: get + "/events", want: "WebhookEvent",
			resp: response(200, "text/event-stream", ""),
			body: "id: 41\nevent: verification.verified\ndata: {\"type\":\"verification.verified\",\"data\":{}}\n\n"},
		{name: "stream ids go back", method: "GET", path: get + "/events", want: "increase",
			resp: response(200, "text/event-stream", ""),
			body: "id: 41\nevent: verification.verified\ndata: " + event + "\n\nid: 40\nevent: verification.verified\ndata: " + event + "\n\n"},
	}
}

func TestCheck(t *testing.T) {
	for _, x := range exchanges() {
		t.Run(x.name, func(t *testing.T) {
			req := httptest.NewRequest(x.method, x.path, nil)
			problems := Check(req, x.resp, []byte(x.body))
			if x.want == "" {
				if len(problems) > 0 {
					t.Errorf("a valid response was rejected:\n%s", strings.Join(problems, "\n"))
				}
				return
			}
			if len(problems) == 0 {
				t.Fatalf("an invalid response was accepted (want a problem about %q)", x.want)
			}
			if all := strings.Join(problems, "\n"); !strings.Contains(all, x.want) {
				t.Errorf("problems do not mention %q:\n%s", x.want, all)
			}
		})
	}
}

// recorder is a testing.TB that keeps errors instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestValidateResponse(t *testing.T) {
	for _, x := range exchanges() {
		req := httptest.NewRequest(x.method, x.path, nil)
		rec := &recorder{TB: t}
		ValidateResponse(rec, req, x.resp, []byte(x.body))
		if failed := len(rec.errors) > 0; failed != (x.want != "") {
			t.Errorf("%s: ValidateResponse failed=%v, want %v: %v", x.name, failed, x.want != "", rec.errors)
		}
	}
}
