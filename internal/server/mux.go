package server

import (
	"net/http"

	"github.com/ringgate/ringgate/internal/config"
)

// handler is what the HTTP server serves: one top-level mux mounting each
// side of ringgate, every request's body under limits.body_timeout, with
// request logs in dev mode.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	// The browser side: the widget and its QR code, dev mode's demo page
	// and its backend, the operator console and its JSON API.
	s.web.Mount(mux)
	// The carriers' webhooks, at /carriers/{name}/ (internal/carrier/parts).
	mux.Handle("/carriers/", s.carriers.Webhooks())
	// The simulator: its routes are in the API's table (httpapi), sharing
	// its keys, scopes, problem JSON and OpenAPI document.
	mux.Handle("/sim/", s.api)
	// A subtree's root without its slash is no route, as any unknown
	// path, rather than the mux's redirect to the subtree.
	mux.Handle("/carriers", s.api)
	mux.Handle("/sim", s.api)
	// The compatible APIs (Twilio Verify v2, Vonage Verify v2, seed 001's
	// missed-call API) at the providers' paths, and their credentials'
	// admin API (internal/compat, docs/compat.md).
	s.mountCompat(mux)
	// The REST API, and the problem 404 of any other path.
	mux.Handle("/", s.api)
	h := withBodyDeadline(mux, s.cfg.Limits.BodyTimeout)
	if s.cfg.Mode == config.ModeDev {
		h = logRequests(h, s.log)
	}
	return h
}
