package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// writeLimited answers a request an abuse control refused for a while: the
// problem names the limit, and Retry-After says when to try again.
func writeLimited(w http.ResponseWriter, r *http.Request, e *verify.Error) {
	status, ok := statusOf[string(e.Code)]
	if !ok {
		status = http.StatusTooManyRequests
	}
	secs := verify.RetryAfterSeconds(e.RetryAfter)
	p := Problem{
		Type: "urn:ringgate:problem:" + string(e.Code), Title: http.StatusText(status), Status: status,
		Detail: e.Message, Instance: r.URL.Path, Code: string(e.Code), Field: e.Field,
		Limit: e.Limit, RetryAfterS: secs,
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeRateLimit sets the RateLimit header fields of the IETF draft
// (draft-ietf-httpapi-ratelimit-headers) on a successful response, for the
// limits the request was counted against: RateLimit-Limit, -Remaining and
// -Reset (seconds) of the one closest to refusing, and RateLimit-Policy
// listing every one ("5;w=3600;comment=\"phone_per_3600s\"").
func writeRateLimit(w http.ResponseWriter, u *verify.RateUsage) {
	uses := u.Uses()
	if len(uses) == 0 {
		return
	}
	tight := uses[0]
	policies := make([]string, 0, len(uses))
	for _, x := range uses {
		if x.Remaining < tight.Remaining || (x.Remaining == tight.Remaining && x.Reset > tight.Reset) {
			tight = x
		}
		policies = append(policies, fmt.Sprintf("%d;w=%d;comment=%q", x.Max, int(x.Window/time.Second), x.Name))
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(tight.Max))
	h.Set("RateLimit-Remaining", strconv.Itoa(tight.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(verify.RetryAfterSeconds(tight.Reset)))
	h.Set("RateLimit-Policy", strings.Join(policies, ", "))
}

// ClientIP finds the address of the client behind an HTTP request: the
// peer, unless the peer is a trusted proxy, in which case the right-most
// X-Forwarded-For hop that is not itself a trusted proxy. Hops to the left
// of it were written by the client and can say anything, so they never
// count. It returns the zero Addr when the peer address does not parse.
func ClientIP(remoteAddr string, xff []string, trusted []netip.Prefix) netip.Addr {
	var addr netip.Addr
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		addr = ap.Addr().Unmap()
	} else if a, err := netip.ParseAddr(remoteAddr); err == nil {
		addr = a.Unmap()
	} else {
		return netip.Addr{}
	}
	if !inPrefixes(addr, trusted) {
		return addr
	}
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a garbled hop: believe nothing beyond it
		}
		a = a.Unmap()
		if !inPrefixes(a, trusted) {
			return a
		}
		addr = a
	}
	return addr
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RemoteIP is the address of the request's sender (through trusted
// proxies): the end user's for a request from their browser (the dev
// demo page), never used for a caller with an API key.
func (a *API) RemoteIP(r *http.Request) string {
	ip := ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), a.trusted)
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}

// blockView is the public form of a blocked prefix.
type blockView struct {
	Prefix    string       `json:"prefix"`
	Reason    string       `json:"reason"`
	Started   int64        `json:"started"`
	Verified  int64        `json:"verified"`
	BlockedAt verify.Stamp `json:"blocked_at"`
	Until     verify.Stamp `json:"until"`
}

func (a *API) listBlockedPrefixes(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	bs, err := a.op.BlockedPrefixes(r.Context(), c.App.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := page[blockView]{Data: make([]blockView, 0, len(bs))}
	for _, b := range bs {
		out.Data = append(out.Data, blockView{Prefix: b.Prefix, Reason: b.Reason, Started: b.Started, Verified: b.Verified, BlockedAt: verify.StampOf(b.BlockedAt), Until: verify.StampOf(b.Until)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) unblockPrefix(w http.ResponseWriter, r *http.Request) {
	c, _ := callerOf(r)
	if err := a.op.UnblockPrefix(r.Context(), c.Tenant(), r.PathValue("prefix")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
