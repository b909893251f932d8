package config

import (
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

func FuzzRedactURL(f *testing.F) {
	f.Add("postgres://u:pw@h/d?password=x")
	f.Add("host=h password='a b' x=y")
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactURL(s)
		if strings.Contains(s, "password=hunter2") && strings.Contains(out, "password=hunter2") {
			t.Fatalf("RedactURL(%q) = %q", s, out)
		}
	})
}
