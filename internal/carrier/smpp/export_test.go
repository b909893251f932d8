package smpp

import "github.com/linxGnu/gosmpp/pdu"

// HandlePDU exposes the SMSC-side PDU handler to the fuzz target.
func HandlePDU(c *Carrier, p pdu.PDU) (pdu.PDU, bool) { return c.onPDU(p) }
