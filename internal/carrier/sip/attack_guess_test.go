package sip_test

// Online guessing of the trunk's digest password. Whoever answers the
// challenge right is believed about the caller ID, so a guessed password
// verifies any number. Each test plays the guesser over TCP from loopback
// addresses (127.0.0.x are distinct sources) against a real listener.

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	rgsip "github.com/ringgate/ringgate/internal/carrier/sip"
	"github.com/ringgate/ringgate/internal/testutil"
)

// fakeClock is a settable clock for the carrier (Config.Now).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sipPeer is one SIP client over TCP from a chosen loopback address.
type sipPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	n    int
}

func peerFrom(t *testing.T, ip, addr string) *sipPeer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &sipPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// invite sends a new INVITE (with the Proxy-Authorization value auth, if
// any) and returns the final response's status line and its
// Proxy-Authenticate header.
func (p *sipPeer) invite(auth string) (status, challenge string) {
	p.t.Helper()
	p.n++
	extra := ""
	if auth != "" {
		extra = "Proxy-Authorization: " + auth + "\n"
	}
	local := p.conn.LocalAddr().String()
	msg := strings.Replace(request("INVITE", fmt.Sprintf("z9hG4bK-g%d", p.n), fmt.Sprintf("guess-%s-%d", local, p.n), extra, local), "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
	if _, err := p.conn.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		p.t.Fatal(err)
	}
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var lines []string
		for {
			l, err := p.r.ReadString('\n')
			if err != nil {
				p.t.Fatalf("reading a response: %v", err)
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			lines = append(lines, l)
		}
		if strings.HasPrefix(lines[0], "SIP/2.0 1") {
			continue
		}
		for _, l := range lines[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Proxy-Authenticate") {
				challenge = strings.TrimSpace(v)
			}
		}
		return lines[0], challenge
	}
}

// answer is the digest of password for challenge, as this test's INVITEs
// need it.
func answer(t *testing.T, challenge, password string) string {
	t.Helper()
	ch, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	cred, err := digest.Digest(ch, digest.Options{Method: "INVITE", URI: "sip:12025550100@127.0.0.1", Username: "trunk", Password: password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// challenged asks for a fresh challenge.
func (p *sipPeer) challenged() string {
	p.t.Helper()
	status, ch := p.invite("")
	if !strings.HasPrefix(status, "SIP/2.0 407") || ch == "" {
		p.t.Fatalf("INVITE without credentials: %q, want 407 with a challenge", status)
	}
	return ch
}

// guess sends one INVITE answering a fresh challenge with password.
func (p *sipPeer) guess(password string) string {
	p.t.Helper()
	status, _ := p.invite(answer(p.t, p.challenged(), password))
	return status
}

func guessingCarrier(t *testing.T, rec *recorder, clock *fakeClock) *rgsip.Carrier {
	return startCarrier(t, rgsip.Config{
		Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere,
		Username: "trunk", Password: "s3cret", Inbound: rec, Now: clock.Now,
	})
}

// A guesser gets ten wrong digests; after them even the right password is
// refused unchecked, and no call reaches the handler. Other sources are
// not affected, and the guesser gets one more try a minute later.
func TestAttackDigestPasswordGuessing(t *testing.T) {
	rec := newRecorder()
	clock := &fakeClock{t: time.Now()}
	c := guessingCarrier(t, rec, clock)
	guesser := peerFrom(t, "127.0.0.1", c.Addrs()[0])
	for i := range 10 {
		if got := guesser.guess(fmt.Sprintf("guess-%d", i)); !strings.HasPrefix(got, "SIP/2.0 403") {
			t.Fatalf("wrong guess %d: %q, want 403", i, got)
		}
	}
	if got := guesser.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Errorf("the right password after ten wrong guesses: %q, want 403 (not checked)", got)
	}
	if n := len(rec.Calls()); n != 0 {
		t.Fatalf("the guesser's calls reached the handler: %d, want 0", n)
	}
	honest := peerFrom(t, "127.0.0.2", c.Addrs()[0])
	if got := honest.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Errorf("another source with the right password: %q, want 603", got)
	}
	clock.Add(time.Minute)
	if got := guesser.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Errorf("the guesser's right password a minute later: %q, want 603", got)
	}
	if n := len(rec.Calls()); n != 2 {
		t.Errorf("handler calls = %d, want 2", n)
	}
}

// Wrong digests sent in another source's name (over UDP its address can be
// forged; here the nonce of one source is used from another) do not count
// against it: a nonce is good only from the source it was sent to.
func TestAttackDigestGuessesInAVictimsName(t *testing.T) {
	rec := newRecorder()
	clock := &fakeClock{t: time.Now()}
	c := guessingCarrier(t, rec, clock)
	attacker := peerFrom(t, "127.0.0.3", c.Addrs()[0])
	victim := peerFrom(t, "127.0.0.4", c.Addrs()[0])
	stolen := attacker.challenged()
	for i := range 20 {
		status, ch := victim.invite(answer(t, stolen, fmt.Sprintf("guess-%d", i)))
		if !strings.HasPrefix(status, "SIP/2.0 407") || !strings.Contains(ch, "stale=true") {
			t.Fatalf("another source's nonce, guess %d: %q %q, want 407 stale", i, status, ch)
		}
	}
	if got := victim.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Errorf("the victim with the right password: %q, want 603", got)
	}
}

// Many sources guessing together share one budget of a hundred wrong
// digests (then ten a minute). Past it a new source is refused unchecked,
// while a source that authenticated before the attack is still heard.
func TestAttackDigestGuessingFromManySources(t *testing.T) {
	rec := newRecorder()
	clock := &fakeClock{t: time.Now()}
	c := guessingCarrier(t, rec, clock)
	trunk := peerFrom(t, "127.0.0.5", c.Addrs()[0])
	if got := trunk.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Fatalf("the trunk before the attack: %q, want 603", got)
	}
	for s := range 11 {
		bot := peerFrom(t, fmt.Sprintf("127.0.1.%d", s+1), c.Addrs()[0])
		for i := range 10 {
			if got := bot.guess(fmt.Sprintf("bot-%d-%d", s, i)); !strings.HasPrefix(got, "SIP/2.0 403") {
				t.Fatalf("bot %d guess %d: %q, want 403", s, i, got)
			}
		}
	}
	newcomer := peerFrom(t, "127.0.2.1", c.Addrs()[0])
	if got := newcomer.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Errorf("a new source's right password during the attack: %q, want 403 (not checked)", got)
	}
	if got := trunk.guess("s3cret"); !strings.HasPrefix(got, "SIP/2.0 603") {
		t.Errorf("the trunk during the attack: %q, want 603", got)
	}
	if n := len(rec.Calls()); n != 2 {
		t.Errorf("handler calls = %d, want 2 (the trunk's)", n)
	}
}

// A digest password short enough to guess within the budgets is announced
// at start.
func TestShortDigestPasswordWarnsAtStart(t *testing.T) {
	for _, tc := range []struct {
		password string
		warn     bool
	}{{"s3cret", true}, {"kq3VZ9m2xP7wLr4T", false}} {
		var buf testutil.SyncBuffer
		startCarrier(t, rgsip.Config{
			Listen: []string{"127.0.0.1:0"}, Trusted: elsewhere, Username: "trunk", Password: tc.password, Inbound: newRecorder(),
			Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})),
		})
		if got := strings.Contains(buf.String(), `level=WARN msg="sip: the digest password is short`); got != tc.warn {
			t.Errorf("password of %d characters: warning %v, want %v:\n%s", len(tc.password), got, tc.warn, buf.String())
		}
	}
}
