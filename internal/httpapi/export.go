package httpapi

import "net/http"

// WriteError renders an error from the domain as problem JSON, as the API
// does: for the other browser-facing handlers (internal/web), so every
// error ringgate answers has one shape.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) { a.writeError(w, r, err) }

// WriteProblem answers a problem with one of the API's codes (unauthorized,
// not_found, invalid_request, no_such_route, …).
func WriteProblem(w http.ResponseWriter, r *http.Request, code, field, detail string) {
	writeProblem(w, r, code, field, detail)
}

// CodeNoRoute is the problem code of a path nothing serves.
const CodeNoRoute = codeRoute

// DecodeJSON reads one JSON object strictly (unknown fields are errors) and
// answers the problem itself when it cannot; it reports whether dst is set.
func (a *API) DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := decodeJSON(w, r, dst); err != nil {
		a.writeDecodeError(w, r, err)
		return false
	}
	return true
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }
