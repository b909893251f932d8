package media

import (
	"crypto/rand"
	"encoding/binary"
)

// randUint32 draws SSRCs, initial sequence numbers and timestamps (RFC
// 3550 §5.1 wants them random, so that a stranger cannot predict them).
func randUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
