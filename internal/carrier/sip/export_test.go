package sip

import (
	"net"

	"github.com/emiago/sipgo/sip"
)

// ReadFilter runs the UDP read filter (stateless.go) on one datagram from
// remote to the listener at local, as sipgo's read loop does; it reports
// whether the datagram was taken (sipgo gets nothing).
func (c *Carrier) ReadFilter(local, remote net.Addr, data []byte) bool {
	out, err := c.readFilter(sip.TransportReadProps{Transport: "UDP", LocalAddr: local, RemoteAddr: remote}, data)
	return err == nil && len(data) > 0 && len(out) == 0
}
