package sim

// Magic numbers: phones on the simulated network that behave on their own,
// so that every outcome can be produced without a person at a keyboard.
// They are in Ofcom's drama range for Leeds (0113 496 0000–0999), which is
// never allocated to a subscriber and which libphonenumber accepts as valid
// GB numbers (the mobile drama range 07700 900xxx it rejects). Every other
// number is an ordinary phone: it rings until Answer, Hangup or the ring
// timeout, and texts simply arrive.
//
//	number          behaviour
//	+441134960001   answers at once as a person, and its app completes every
//	                verification by itself through Config.Check: a flash
//	                call's caller ID; the code it hears on a voice call (it
//	                then hangs up); the code (first run of 4–10 digits) in a
//	                text. An answer_call is simply answered.
//	+441134960002   never answers: rings until the ring timeout; texts arrive
//	                but nobody acts on them.
//	+441134960003   carrier error: PlaceCall and SendSMS fail with a terminal
//	                *carrier.Error, Code "failed".
//	+441134960004   answering machine: answers at once, AnsweredBy "machine".
//	+441134960005   texts are never delivered (EventSMSFailed, "undelivered");
//	                calls ring as on an ordinary phone.
//	+441134960006   busy: calls end at once, Cause "busy", SIP status 486.
const (
	NumberSelfVerify     = "+441134960001"
	NumberNoAnswer       = "+441134960002"
	NumberCarrierError   = "+441134960003"
	NumberMachine        = "+441134960004"
	NumberSMSUndelivered = "+441134960005"
	NumberBusy           = "+441134960006"
)

// MagicNumber documents one magic number.
type MagicNumber struct {
	Number      string `json:"number"`
	Behaviour   string `json:"behaviour"`
	Description string `json:"description"`
}

// MagicNumbers lists the magic numbers, for documentation and the dev UI.
var MagicNumbers = []MagicNumber{
	{NumberSelfVerify, "self_verify", "Answers at once as a person; its app completes every verification by itself (flash call caller ID, voice code, SMS code)."},
	{NumberNoAnswer, "no_answer", "Never answers: calls ring until the ring timeout; texts arrive but nobody acts on them."},
	{NumberCarrierError, "carrier_error", "The carrier refuses calls and texts with a terminal error (code \"failed\")."},
	{NumberMachine, "machine", "An answering machine answers at once."},
	{NumberSMSUndelivered, "sms_undelivered", "Texts are never delivered (sms_failed, cause \"undelivered\"); calls ring normally."},
	{NumberBusy, "busy", "Calls end at once as busy (SIP 486)."},
}
