package httpcarrier

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/logsample"
)

// MaxWebhookBody bounds the webhook bodies ReadBody accepts.
const MaxWebhookBody = 64 << 10

// ReadBody reads a webhook body up to MaxWebhookBody bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxWebhookBody {
		return nil, errors.New("body too large")
	}
	return b, nil
}

// GetOrPost reports whether r is a GET or a POST, the methods providers
// call webhooks with; to any other it answers 405 problem JSON with Allow.
func GetOrPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost || r.Method == http.MethodGet {
		return true
	}
	w.Header().Set("Allow", "GET, POST")
	Problem(w, http.StatusMethodNotAllowed, "method_not_allowed", "webhooks are GET or POST")
	return false
}

// FormParams parses an application/x-www-form-urlencoded body (the query
// string is not included: providers sign the URL and the body apart).
func FormParams(r *http.Request, body []byte) (url.Values, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, errors.New("want a form body (application/x-www-form-urlencoded)")
		}
	}
	return url.ParseQuery(string(body))
}

// Problem writes RFC 9457 problem JSON, in the shape of ringgate's API
// errors (type urn:ringgate:problem:CODE, code CODE).
func Problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type": "urn:ringgate:problem:" + code, "title": http.StatusText(status), "status": status,
		"detail": detail, "code": code,
	})
}

// Refusals counts the webhooks a carrier refused for a missing or bad
// signature (or a replayed one), logs them sampled, and answers them 403.
// The count is exact; the log is rate-limited (logsample.Default), so a
// flood of badly signed requests cannot write a line per request (the
// next line written says how many were suppressed). Safe for concurrent
// use; the zero value is ready.
type Refusals struct {
	n    atomic.Uint64
	once sync.Once
	log  *logsample.Logger
}

// Refuse records a refused webhook and answers 403 problem JSON. reason
// is for the log ("no signature", "bad signature", "stale timestamp").
// The logger of the first refusal is the one the sampled lines go to.
func (f *Refusals) Refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, carrierName, reason string) {
	f.n.Add(1)
	if log != nil {
		f.once.Do(func() { f.log = logsample.Default(log) })
		f.log.Log(r.Context(), slog.LevelWarn, "carrier webhook refused", slog.String("carrier", carrierName), slog.String("path", r.URL.Path),
			slog.String("remote", r.RemoteAddr), slog.String("reason", reason))
	}
	Problem(w, http.StatusForbidden, "forbidden", "the webhook's signature is missing or does not verify")
}

// Count is how many webhooks were refused.
func (f *Refusals) Count() uint64 { return f.n.Load() }

// WriteXML answers a call-control document (TwiML, TeXML, Plivo XML).
func WriteXML(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", ContentTypeXML)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
}

// CallbackURL joins ringgate's public base URL, the carrier's mount
// point and a webhook path, with query: base + "/carriers/" + name + path.
func CallbackURL(publicURL, carrierName, path string, query url.Values) string {
	u := trimSlash(publicURL) + "/carriers/" + url.PathEscape(carrierName) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Metric exports the count as ringgate_carrier_webhooks_refused_total,
// the one figure every HTTP carrier reports (carrier.MetricsReporter).
func (f *Refusals) Metric() carrier.Metric {
	return carrier.Metric{
		Name:  "ringgate_carrier_webhooks_refused_total",
		Help:  "Carrier webhooks refused with 403 for a missing or bad signature.",
		Value: func() float64 { return float64(f.Count()) },
	}
}
