package webhook

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestCheckURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength)
	tests := []struct {
		url     string
		wantErr string // "" for accepted; else a substring of the error
	}{
		{"https://example.com/hook", ""},
		{"http://example.com:8080/hook?x=1#frag", ""},
		{"HTTPS://Example.COM/hook", ""},
		{"https://8.8.8.8/hook", ""},
		{"https://[2606:4700::1111]/hook", ""},
		{"https://example.com./hook", ""},
		{"https://a.b-c.example/", ""},

		{"ftp://example.com/hook", "must use http or https"},
		{"example.com/hook", "must use http or https"},
		{"javascript:alert(1)", "must use http or https"},
		{"https:///hook", "must have a host"},
		{"https:example.com", "must have a host"},
		{"https://user:pw@example.com/", "must not contain a user name or password"},
		{"https://user@example.com/", "must not contain a user name or password"},
		{"https://example.com:0/", "port between 1 and 65535"},
		{"https://example.com:70000/", "port between 1 and 65535"},
		{"https://exa mple.com/", "is not a valid URL"},
		{"https://example.com/\x7f", "is not a valid URL"},
		{long, "at most 2048 characters"},

		{"http://10.0.0.1/", "must not point into a private network (10.0.0.1)"},
		{"http://172.16.5.4/", "a private network"},
		{"http://192.168.1.1/", "a private network"},
		{"http://100.64.0.1/", "carrier-grade NAT"},
		{"http://169.254.169.254/latest/meta-data/", "a link-local network (169.254.169.254)"},
		{"http://127.0.0.1:8080/", "the loopback network"},
		{"http://127.8.9.10/", "the loopback network"},
		{"http://0.0.0.0/", "the unspecified network"},
		{"http://224.0.0.1/", "a multicast network"},
		{"http://255.255.255.255/", "a reserved network"},
		{"http://192.0.2.1/", "a reserved network"},
		{"http://[::1]/", "the loopback network"},
		{"http://[::]/", "the unspecified network"},
		{"http://[fd00::1]/", "a private network"},
		{"http://[fc00::1]/", "a private network"},
		{"http://[fe80::1]/", "a link-local network"},
		{"http://[fe80::1%25eth0]/", "IPv6 zone"},
		{"http://[ff02::1]/", "a multicast network"},
		{"http://[::ffff:10.0.0.1]/", "a private network"},
		{"http://[::ffff:127.0.0.1]/", "the loopback network"},
		{"http://[::ffff:169.254.169.254]/", "a link-local network"},
		{"http://[64:ff9b::a00:1]/", "a reserved network"},
		{"http://[2001:db8::1]/", "a reserved network"},
		{"http://[notanip]/", "not a valid"},
		{"http://localhost/", "the loopback network (localhost)"},
		{"http://LOCALHOST:3000/", "the loopback network"},
		{"http://localhost./", "the loopback network"},
		{"http://api.localhost/", "the loopback network"},
		{"http://127.1/", "numeric host"},
		{"http://2130706433/", "numeric host"},
		{"http://0x7f000001/", "numeric host"},
		{"http://010.0.0.1/", "numeric host"},
	}
	for _, tt := range tests {
		err := Policy{}.CheckURL(tt.url)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", tt.url, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("CheckURL(%q) = nil, want %q", tt.url, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("CheckURL(%q) = %q, want %q in it", tt.url, err, tt.wantErr)
		}
		if err != nil {
			checkReadsAfterFieldName(t, err)
		}
	}
}

// checkReadsAfterFieldName: "callback_url " + err must read as a sentence.
func checkReadsAfterFieldName(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if r := []rune(msg)[0]; !unicode.IsLower(r) || strings.HasSuffix(msg, ".") {
		t.Errorf("error %q should start lowercase and not end with a period", msg)
	}
}

func TestCheckURLLoopback(t *testing.T) {
	urls := []string{
		"http://localhost:8080/hook", "http://app.localhost/", "http://127.0.0.1:9/",
		"http://[::1]:8080/", "http://[::ffff:127.0.0.1]/",
	}
	for _, u := range urls {
		if err := (Policy{}).CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) without AllowLoopback = nil, want an error", u)
		}
		if err := (Policy{AllowLoopback: true}).CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) with AllowLoopback = %v", u, err)
		}
	}
	// AllowLoopback opens loopback only.
	for _, u := range []string{"http://10.0.0.1/", "http://169.254.169.254/", "http://[fd00::1]/", "http://0.0.0.0/"} {
		if err := (Policy{AllowLoopback: true}).CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) with AllowLoopback = nil, want an error", u)
		}
	}
}

func TestCheckURLAllow(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd00:1::/32"),
		netip.MustParsePrefix("::ffff:192.168.7.0/120"),
	}}
	for _, u := range []string{
		"http://127.0.0.1:8080/", "http://localhost/", "http://10.1.2.3/", "http://[::ffff:10.1.2.3]/",
		"http://[fd00:1::5]/", "http://192.168.7.9/",
	} {
		if err := p.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want allowed", u, err)
		}
	}
	for _, u := range []string{"http://10.2.0.1/", "http://[::1]/", "http://[fd00:2::1]/", "http://192.168.8.1/", "http://169.254.169.254/"} {
		if err := p.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) = nil, want refused", u)
		}
	}
}

// TestClientConnectTime checks the policy where it matters: at connect
// time, against a real server on 127.0.0.1.
func TestClientConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	byIP := srv.URL
	byName := "http://localhost:" + strconv.Itoa(port)
	if _, err := net.LookupHost("localhost"); err != nil {
		t.Fatalf("resolve localhost: %v", err)
	}
	tests := []struct {
		name    string
		policy  Policy
		url     string
		wantErr string
	}{
		{"loopback IP refused", Policy{}, byIP, "refused: address 127.0.0.1 is in the loopback network"},
		{"name resolving to loopback refused", Policy{}, byName, "is in the loopback network"},
		{"other prefix allowed, loopback still refused", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, byIP, "refused"},
		{"AllowLoopback accepts IP", Policy{AllowLoopback: true}, byIP, ""},
		{"AllowLoopback accepts name", Policy{AllowLoopback: true}, byName, ""},
		{"allow-listed 127.0.0.0/8 accepted", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, byIP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.policy.Client(2*time.Second).Post(tt.url, "application/json", strings.NewReader("{}"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("POST %s: %v", tt.url, err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST %s succeeded, want refused", tt.url)
			}
			o, msg := describeError(err, time.Second)
			if o != OutcomeRefused || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("outcome %s %q, want refused %q (from %v)", o, msg, tt.wantErr, err)
			}
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	followed := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed <- struct{}{}
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	resp, err := Policy{AllowLoopback: true}.Client(2*time.Second).Post(srv.URL+"/hook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status %d, want the 307 itself", resp.StatusCode)
	}
	select {
	case <-followed:
		t.Error("the redirect was followed")
	default:
	}
}

func TestClientUsesNoProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
	tr := Policy{}.Client(0).Transport.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("transport has a Proxy function; it must never use one")
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/hook", "http://10.0.0.1/", "http://[::ffff:127.0.0.1]:80/", "http://localhost./",
		"https://user@example.com/", "ftp://x/", "http://[fe80::1%25en0]/", "http://0x7f.1/", "http://a..b/",
		"http://./", "http://:80/", "http://[::1/", "https://例え.jp/フック", "http://%31%32%37.0.0.1/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range []Policy{{}, {AllowLoopback: true}} {
			if err := p.CheckURL(raw); err != nil {
				checkReadsAfterFieldName(t, err)
				continue
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("accepted %q, which net/url cannot parse: %v", raw, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				t.Fatalf("accepted %q with scheme %q", raw, u.Scheme)
			}
			if u.Hostname() == "" || u.User != nil {
				t.Fatalf("accepted %q without a host or with user info", raw)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && !p.AllowLoopback && a.Unmap().IsLoopback() {
				t.Fatalf("accepted loopback %q", raw)
			}
		}
	})
}
