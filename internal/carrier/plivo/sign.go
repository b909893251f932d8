package plivo

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// signatureV3 computes Plivo's signature V3 (as Plivo's server SDKs
// validate it, e.g. plivo-go ComputeSignatureV3): the string signed is
//
//	scheme://host/path ["?" query] ["." params] "." nonce
//
// where, for GET, the URL's query and the parameters are merged and
// written sorted as "k=v&k=v"; for POST, the URL's query is written sorted
// as "k=v&k=v" and the POST parameters follow, sorted, as "kv" pairs run
// together (after a "." when there is a query, else right after "?").
// The HMAC-SHA256 with the auth token is base64-encoded.
func signatureV3(authToken, rawURL, method, nonce string, params url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	s := u.Scheme + "://" + u.Host + u.Path
	flat := map[string]string{}
	for k, v := range params {
		if len(v) > 0 {
			flat[k] = v[0]
		}
	}
	if len(flat) > 0 || u.RawQuery != "" {
		s += "?"
	}
	query := rawQueryMap(u.RawQuery)
	switch {
	case u.RawQuery != "" && method == http.MethodGet:
		for k, v := range flat {
			query[k] = v
		}
		s += sorted(query, true)
	case u.RawQuery != "":
		s += sorted(query, true)
		if len(flat) > 0 {
			s += "." + sorted(flat, false)
		}
	case method == http.MethodGet:
		s += sorted(flat, true)
	default:
		s += sorted(flat, false)
	}
	m := hmac.New(sha256.New, []byte(authToken))
	m.Write([]byte(s + "." + nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// rawQueryMap splits a query the way Plivo's SDKs do: on '&' and '=',
// values left as they appear in the URL.
func rawQueryMap(q string) map[string]string {
	m := map[string]string{}
	if q == "" {
		return m
	}
	for _, kv := range strings.Split(q, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && !strings.Contains(v, "=") {
			m[k] = v
		}
	}
	return m
}

// sorted writes m sorted by key: "k=v&k=v" for queries, "kvkv" for POST
// parameters.
func sorted(m map[string]string, query bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if query {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + m[k])
		} else {
			b.WriteString(k + m[k])
		}
	}
	return b.String()
}

// signatureV2 is Plivo's signature V2: HMAC-SHA256 with the auth token
// over the URL without its query, followed by the nonce, base64-encoded.
func signatureV2(authToken, rawURL, nonce string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, []byte(authToken))
	m.Write([]byte(u.Scheme + "://" + u.Host + u.Path + nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// anyEqual reports whether want is one of the comma-separated signatures
// in header (Plivo sends several while an auth token is being rotated).
func anyEqual(header, want string) bool {
	if want == "" {
		return false
	}
	ok := false
	for _, s := range strings.Split(header, ",") {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(s)), []byte(want)) == 1 {
			ok = true
		}
	}
	return ok
}

// verify checks a webhook's V3 signature for the URL Plivo called,
// rawURL, and returns the nonce it was signed with. V3 (URL with query,
// parameters, nonce) is required; V2 covers neither the body nor the
// query, so one captured V2 signature would carry any parameters, and is
// accepted only where allowV2 says the path itself is all there is to
// bind (message callbacks, which name ringgate's id in the path and can
// verify nothing). Several signatures, comma-separated, are tried while
// an auth token is rotated.
func verify(authToken string, h http.Header, rawURL, method string, params url.Values, allowV2 bool) (nonce, reason string, ok bool) {
	if sig, nonce := h.Get("X-Plivo-Signature-V3"), h.Get("X-Plivo-Signature-V3-Nonce"); sig != "" {
		if nonce == "" {
			return "", "V3 signature without a nonce", false
		}
		if !anyEqual(sig, signatureV3(authToken, rawURL, method, nonce, params)) {
			return "", "bad V3 signature", false
		}
		return "v3:" + nonce, "", true
	}
	if sig, nonce := h.Get("X-Plivo-Signature-V2"), h.Get("X-Plivo-Signature-V2-Nonce"); sig != "" {
		if !allowV2 {
			return "", "V2 signature where V3 is required (V2 does not cover the parameters)", false
		}
		if nonce == "" || !anyEqual(sig, signatureV2(authToken, rawURL, nonce)) {
			return "", "bad V2 signature", false
		}
		return "v2:" + nonce, "", true
	}
	return "", "no signature", false
}
