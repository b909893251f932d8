package sdktest

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/server"
)

// receiver is a customer's callback endpoint: it keeps the form-encoded
// callbacks (ringgate's own JSON webhooks are told apart and ignored).
type receiver struct {
	mu   sync.Mutex
	got  []url.Values
	wake chan struct{}
}

func newReceiver(t *testing.T) (*receiver, string) {
	rc := &receiver{wake: make(chan struct{}, 16)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, r.PostForm)
		rc.mu.Unlock()
		rc.wake <- struct{}{}
	}))
	t.Cleanup(ts.Close)
	return rc, ts.URL + "/otp-callback"
}

// waitFor waits for the callback about mobile.
func (rc *receiver) waitFor(t *testing.T, mobile string, within time.Duration) url.Values {
	t.Helper()
	deadline := time.After(within)
	for {
		rc.mu.Lock()
		for _, f := range rc.got {
			if f.Get("mobile") == mobile {
				rc.mu.Unlock()
				return f
			}
		}
		rc.mu.Unlock()
		select {
		case <-rc.wake:
		case <-deadline:
			t.Fatalf("no callback for %s within %s", mobile, within)
		}
	}
}

func otpSend(t *testing.T, srv *server.Server, form url.Values, header http.Header) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/OTPApi/send", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type otpResp struct {
	Status        string `json:"status" xml:"status"`
	StatusCode    string `json:"statusCode" xml:"statusCode"`
	Reason        string `json:"reason" xml:"reason"`
	TransactionID string `json:"transactionId" xml:"transactionId"`
	Mobile        string `json:"mobile" xml:"mobile"`
	MissCallTo    string `json:"missCallTo" xml:"missCallTo"`
	ExpiryTime    string `json:"expiryTime" xml:"expiryTime"`
}

// TestOTPAPIMissedCallCallbacks: seed 001's missed-call API, a user who
// dials (callback success) and one who does not (callback fail), both
// delivered to the customer's URL.
func TestOTPAPIMissedCallCallbacks(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	rc, cb := newReceiver(t)

	// Dialled.
	code, body := otpSend(t, srv, url.Values{
		"sendMethod": {"generate"}, "medium": {"misscall"}, "mobile": {"447911123470"}, "callback": {cb}, "format": {"json"},
	}, http.Header{"apiKey": {apiKey}})
	var r otpResp
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || r.Status != "success" || r.MissCallTo == "" || r.Mobile != "+447911123470" {
		t.Fatalf("send: %d %s", code, body)
	}
	sim, _ := json.Marshal(map[string]string{"from": "+447911123470", "to": r.MissCallTo})
	resp, err := http.Post(srv.URL()+"/sim/calls", "application/json", strings.NewReader(string(sim)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f := rc.waitFor(t, "+447911123470", 10*time.Second)
	if f.Get("status") != "success" || f.Get("missCallTo") != r.MissCallTo || f.Get("type") != "misscall" ||
		f.Get("method") != "generate" || f.Get("transactionId") != r.TransactionID || f.Get("createTime") == "" || f.Get("expiryTime") != r.ExpiryTime {
		t.Fatalf("dialled callback: %v", f)
	}

	// Not dialled: userId and password, xml, a 10 s expiry.
	code, body = otpSend(t, srv, url.Values{
		"sendMethod": {"generate"}, "medium": {"misscall"}, "mobile": {"+447911123471"}, "callback": {cb},
		"format": {"xml"}, "userId": {"app_demo"}, "password": {apiKey}, "expiry": {"10"},
	}, nil)
	var x otpResp
	if err := xml.Unmarshal(body, &x); err != nil || code != 200 || x.Status != "success" || x.MissCallTo == "" {
		t.Fatalf("send xml: %d %s (%v)", code, body, err)
	}
	f = rc.waitFor(t, "+447911123471", 20*time.Second)
	if f.Get("status") != "fail" || f.Get("reason") != "not_dialed" || f.Get("missCallTo") != x.MissCallTo {
		t.Fatalf("not dialled callback: %v", f)
	}
}

// TestOTPAPIBadInput: every refusal is the API's own error body in the
// requested format, with a 4xx, never ringgate's problem JSON nor a 500.
func TestOTPAPIBadInput(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	ok := url.Values{"sendMethod": {"generate"}, "medium": {"misscall"}, "mobile": {"447911123480"}, "callback": {"http://127.0.0.1:9/cb"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range ok {
			c[kk] = vv
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	auth := http.Header{"apiKey": {apiKey}}
	cases := []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		code   string
	}{
		{"no credentials", ok, nil, 401, "401"},
		{"wrong key", ok, http.Header{"apiKey": {"rg_live_nottherightkey0000000000000"}}, 401, "401"},
		{"userId of another app", with("userId", "app_other"), http.Header{}, 401, "401"},
		{"no callback", with("callback", ""), auth, 400, "400"},
		{"callback not a URL", with("callback", "::"), auth, 400, "400"},
		{"callback to metadata", with("callback", "http://169.254.169.254/x"), auth, 400, "400"},
		{"no mobile", with("mobile", ""), auth, 400, "400"},
		{"bad mobile", with("mobile", "12"), auth, 400, "402"},
		{"medium sms", with("medium", "sms"), auth, 400, "400"},
		{"sendMethod verify", with("sendMethod", "verify"), auth, 400, "400"},
		{"expiry", with("expiry", "99999"), auth, 400, "400"},
	}
	for _, c := range cases {
		form := c.form
		if c.name == "userId of another app" {
			form.Set("password", apiKey)
		}
		code, body := otpSend(t, srv, form, c.header)
		var r otpResp
		if err := json.Unmarshal(body, &r); err != nil || code != c.status || r.Status != "error" || r.StatusCode != c.code {
			t.Errorf("%s: %d %s, want %d with statusCode %s", c.name, code, body, c.status, c.code)
		}
	}
	// Malformed bodies and other methods, in the plain format.
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/OTPApi/send?format=plain", strings.NewReader("%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(string(b), "error|400|") {
		t.Errorf("malformed form: %d %q", resp.StatusCode, b)
	}
	resp, err = http.Get(srv.URL() + "/OTPApi/send")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 405 || !strings.Contains(string(b), `"statusCode":"405"`) {
		t.Errorf("GET: %d %s", resp.StatusCode, b)
	}
}
