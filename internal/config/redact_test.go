package config

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, secret, keep string }{
		{"postgres://rg:s3cr3t@db.internal:5432/rg?sslmode=require", "s3cr3t", "db.internal:5432/rg"},
		{"postgres://rg@db:5432/rg?sslmode=disable&password=hunter2", "hunter2", "sslmode=disable"},
		{"postgresql://rg@db/rg?PassWord=hunter2&sslpassword=keypw", "keypw", "postgresql://rg@db/rg"},
		{"postgres://rg@db/rg?password=hunter2", "hunter2", "rg@db"},
		{"host=db user=rg password=hunter2 dbname=rg", "hunter2", "dbname=rg"},
		{"host=db password='hun ter\\'2' dbname=rg", "hun ter", "dbname=rg"},
		{"host=db password = hunter2", "hunter2", "host=db"},
		{"postgres://rg:p%zz@db/rg", "p%zz", "db/rg"}, // not a valid URL: the fallback
		{"sqlite:/var/lib/ringgate/ringgate.db", "", "/var/lib/ringgate/ringgate.db"},
	} {
		got := RedactURL(c.in)
		if c.secret != "" && strings.Contains(got, c.secret) {
			t.Errorf("RedactURL(%q) = %q: the credential is still there", c.in, got)
		}
		if !strings.Contains(got, c.keep) {
			t.Errorf("RedactURL(%q) = %q: lost %q", c.in, got, c.keep)
		}
	}
}

// FuzzRedactURL: any string is handled without a panic, and a password
// put in a URL's userinfo, its query, or a DSN (quoted) never comes out.
func FuzzRedactURL(f *testing.F) {
	f.Add("postgres://u:pw@h/d?password=x", "Secr3tPw")
	f.Add("host=h password='a b' x=y", "pa ss'wo\\rd")
	f.Fuzz(func(t *testing.T, any, pw string) {
		_ = RedactURL(any)
		if len(pw) < 6 || strings.Contains("postgres://rg:@db.example:5432/rg?sslmode=disable&password=host=db user=rg dbname=rg xxxxx", pw) {
			return
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword("rg", pw), Host: "db.example:5432", Path: "/rg",
			RawQuery: url.Values{"sslmode": {"disable"}, "password": {pw}}.Encode()}
		quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
		for _, in := range []string{u.String(), "host=db user=rg password=" + quoted + " dbname=rg"} {
			out := RedactURL(in)
			if strings.Contains(out, pw) || strings.Contains(out, url.QueryEscape(pw)) || strings.Contains(out, url.PathEscape(pw)) {
				t.Fatalf("RedactURL(%q) = %q: the password is still there", in, out)
			}
		}
	})
}
