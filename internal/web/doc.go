// Package web is ringgate's browser side, served from the binary with no
// build step: the embeddable verification widget (/widget.js, a web
// component that a business drops into its own page with the verification's
// client token), dev mode's demo sign-up page (/) with a simulated phone
// beside it, and the operator console (/console, behind an admin token)
// with its JSON endpoints (/console/api/*).
//
// The assets are plain modern JavaScript, HTML and CSS under assets/,
// embedded with go:embed. Everything else falls through to the REST API.
package web
