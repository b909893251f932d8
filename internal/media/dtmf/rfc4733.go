// Package dtmf reads key presses from a call: RFC 4733 telephone-events
// carried in RTP (Receiver), and tones in the audio itself (Detector, a
// Goertzel filter bank).
package dtmf

import (
	"errors"
	"slices"
)

// Event is one RFC 4733 telephone-event payload (§2.3).
type Event struct {
	Code     uint8 // 0–9, 10 '*', 11 '#', 12–15 A–D, others not DTMF
	End      bool
	Volume   uint8  // -dBm0, 0–63
	Duration uint16 // in timestamp units (1/8000 s) since the event began
}

// ErrShort is a payload shorter than one event.
var ErrShort = errors.New("rfc4733: payload shorter than 4 bytes")

// Parse reads the first event of an RFC 4733 payload. A payload holding
// several events (RFC 4733 §2.5.1.5 redundancy by stacking, rare) is read
// by its first one: later ones repeat earlier events.
func Parse(b []byte) (Event, error) {
	if len(b) < 4 {
		return Event{}, ErrShort
	}
	return Event{Code: b[0], End: b[1]&0x80 != 0, Volume: b[1] & 0x3f, Duration: uint16(b[2])<<8 | uint16(b[3])}, nil
}

// Marshal writes e as a 4-byte payload.
func (e Event) Marshal() []byte {
	b := []byte{e.Code, e.Volume & 0x3f, byte(e.Duration >> 8), byte(e.Duration)}
	if e.End {
		b[1] |= 0x80
	}
	return b
}

// Key is the DTMF key of code ('0'–'9', '*', '#', 'A'–'D'), 0 for other
// events (tones, flash).
func Key(code uint8) byte {
	switch {
	case code <= 9:
		return '0' + code
	case code == 10:
		return '*'
	case code == 11:
		return '#'
	case code <= 15:
		return 'A' + code - 12
	}
	return 0
}

// Receiver turns a stream of telephone-event packets into key presses,
// each reported once. An event is named by its RTP timestamp (§2.5.1.2:
// every packet of one event, its updates and its three end packets,
// carries the timestamp of its start), so a key is reported on the first
// packet seen with a new timestamp and every later packet with that
// timestamp (updates, the redundant end packets, retransmissions arriving
// out of order) is absorbed. Reporting at the start rather than at the
// end bit keeps a key whose end packets are all lost, and costs nothing
// when they arrive. A recent window of timestamps is remembered so that a
// late duplicate of an earlier event is not a new press. Not safe for
// concurrent use.
type Receiver struct {
	seen []uint32 // timestamps of recent events, newest last
}

// window is how many recent events are remembered.
const window = 16

// Push reads one telephone-event packet (its RTP timestamp and payload)
// and returns the key it starts, if any.
func (r *Receiver) Push(ts uint32, payload []byte) (byte, bool, error) {
	e, err := Parse(payload)
	if err != nil {
		return 0, false, err
	}
	if slices.Contains(r.seen, ts) {
		return 0, false, nil
	}
	if len(r.seen) == window {
		r.seen = r.seen[1:]
	}
	r.seen = append(r.seen, ts)
	k := Key(e.Code)
	return k, k != 0, nil
}
