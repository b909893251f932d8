package smpp

import "github.com/linxGnu/gosmpp/pdu"

// HandlePDU exposes the SMSC-side PDU handler to the fuzz target.
func HandlePDU(c *Carrier, p pdu.PDU) (pdu.PDU, bool) { return c.onPDU(p) }

// Submitting is how many SendSMS calls are under way (paced or awaiting
// their submit_sm_resp), for tests that must act while one is.
func Submitting(c *Carrier) int64 { return c.submitting.Load() }
