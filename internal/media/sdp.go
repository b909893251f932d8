package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Payload types ringgate offers: PCMU and PCMA (static), and
// telephone-event (RFC 4733) on a dynamic one.
const (
	PTPCMU      = 0
	PTPCMA      = 8
	PTTelEvent  = 101
	maxSDPBytes = 16 << 10
)

// Codec is a negotiated G.711 variant.
type Codec struct {
	PT   uint8
	Name string // "PCMU" or "PCMA"
}

var (
	PCMU = Codec{PTPCMU, "PCMU"}
	PCMA = Codec{PTPCMA, "PCMA"}
)

// Offer is ringgate's SDP offer for one call: audio on addr:port, PCMU
// then PCMA, telephone-event 0-15, 20 ms packets.
func Offer(addr netip.Addr, port int, id uint64) ([]byte, error) {
	typ := "IP4"
	if addr.Is6() && !addr.Is4In6() {
		typ = "IP6"
	}
	host := addr.Unmap().String()
	d := &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "ringgate", SessionID: id, SessionVersion: id,
			NetworkType: "IN", AddressType: typ, UnicastAddress: host},
		SessionName:           "ringgate",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: typ, Address: &sdp.Address{Address: host}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
	m := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"}}}
	m.WithCodec(PTPCMU, "PCMU", 8000, 0, "").
		WithCodec(PTPCMA, "PCMA", 8000, 0, "").
		WithCodec(PTTelEvent, "telephone-event", 8000, 0, "0-15").
		WithValueAttribute("ptime", "20").
		WithPropertyAttribute("sendrecv")
	d.MediaDescriptions = []*sdp.MediaDescription{m}
	return d.Marshal()
}

// Answer is what the far end's SDP answer settles: where to send audio,
// in which codec, and the payload type of its telephone-events (-1: it
// takes none).
type Answer struct {
	Remote netip.AddrPort
	Codec  Codec
	DTMF   int
}

// Errors of ParseAnswer.
var (
	ErrNoCommonCodec = errors.New("sdp: no common codec (ringgate offers PCMU and PCMA)")
	ErrNoAudio       = errors.New("sdp: no audio stream")
	ErrBadSDP        = errors.New("sdp: malformed")
)

// ParseAnswer reads an SDP answer: the first active audio stream over
// RTP/AVP, its address (an IP literal: ringgate never resolves names an
// untrusted peer sends), its first format that is PCMU or PCMA, and its
// telephone-event payload type.
func ParseAnswer(body []byte) (Answer, error) {
	if len(body) == 0 {
		return Answer{}, fmt.Errorf("%w: empty", ErrBadSDP)
	}
	if len(body) > maxSDPBytes {
		return Answer{}, fmt.Errorf("%w: %d bytes", ErrBadSDP, len(body))
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(string(body)); err != nil {
		return Answer{}, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		if strings.Join(m.MediaName.Protos, "/") != "RTP/AVP" {
			continue
		}
		port := m.MediaName.Port.Value
		if port < 1 || port > 65535 {
			return Answer{}, fmt.Errorf("%w: port %d", ErrBadSDP, port)
		}
		ci := m.ConnectionInformation
		if ci == nil {
			ci = d.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return Answer{}, fmt.Errorf("%w: no connection address", ErrBadSDP)
		}
		ip, err := netip.ParseAddr(ci.Address.Address)
		if err != nil || ip.IsUnspecified() || ip.IsMulticast() {
			return Answer{}, fmt.Errorf("%w: connection address %q is not a unicast IP", ErrBadSDP, clip(ci.Address.Address))
		}
		a := Answer{Remote: netip.AddrPortFrom(ip.Unmap(), uint16(port)), DTMF: -1}
		names := map[int]string{}
		for _, at := range m.Attributes {
			if at.Key != "rtpmap" {
				continue
			}
			pt, rest, ok := strings.Cut(at.Value, " ")
			n, err := strconv.Atoi(pt)
			if !ok || err != nil {
				continue
			}
			names[n] = strings.ToLower(strings.TrimSpace(rest))
		}
		found := false
		for _, f := range m.MediaName.Formats {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			name, mapped := names[n]
			switch {
			case !found && (name == "pcmu/8000" || name == "pcmu/8000/1" || !mapped && n == PTPCMU):
				a.Codec, found = PCMU, true
			case !found && (name == "pcma/8000" || name == "pcma/8000/1" || !mapped && n == PTPCMA):
				a.Codec, found = PCMA, true
			case strings.HasPrefix(name, "telephone-event/8000") && a.DTMF < 0:
				a.DTMF = n
			}
		}
		if !found {
			return a, ErrNoCommonCodec
		}
		return a, nil
	}
	return Answer{}, ErrNoAudio
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
