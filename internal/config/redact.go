package config

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces a credential in what RedactURL returns.
const redacted = "xxxxx"

// credentialKeys are the parameters that carry a credential in a database
// URL's query or a key=value DSN (libpq's names, and the usual aliases).
var credentialKeys = map[string]bool{"password": true, "pass": true, "pwd": true, "sslpassword": true}

var (
	// key = value pairs of a libpq DSN: the value is a 'quoted' string
	// (with \' and \\ escapes) or runs to the next space.
	dsnPair = regexp.MustCompile(`(?i)\b(password|pass|pwd|sslpassword)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&;]*)`)
	// userinfo of something URL-like that url.Parse would not take.
	userinfo = regexp.MustCompile(`(://[^/?#@:]*):[^/?#@]*@`)
)

// RedactURL hides the credentials in a database URL or DSN, for logs and
// error messages: the password of the userinfo, password= (and its
// aliases) in the query, and password=… pairs of a key=value DSN. What is
// left still says which database it is.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && strings.Contains(s, "://") {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		q := u.Query()
		changed := false
		for k := range q {
			if credentialKeys[strings.ToLower(k)] {
				q[k] = []string{redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	s = userinfo.ReplaceAllString(s, "${1}:"+redacted+"@")
	return dsnPair.ReplaceAllString(s, "${1}${2}"+redacted)
}
