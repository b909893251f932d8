// Package httpcarrier is the plumbing the HTTP carriers (twilio, telnyx,
// vonage, plivo) share, so that each of them is only its provider's wire
// format:
//
//   - Client and Do: an http.Client with timeouts, and a request runner
//     that turns transport failures and provider error statuses into
//     *carrier.Error, classified by Classify (5xx, 408, 429 and transport
//     errors retryable, so the router fails over; other 4xx terminal).
//   - Sealer: AES-GCM sealing of state ringgate puts into its own
//     callback URLs (the IVR snapshot and the variables holding the code),
//     bound to the command id so a token cannot be moved to another call.
//   - IVR: SealIVR / OpenIVR carry a dialplan session (plan, vars,
//     snapshot) through a provider's gather callbacks; Drive turns
//     ivr.Actions into the carrier.Events the domain wants (answered,
//     prompt, dtmf); TwiML renders actions as TwiML, which Telnyx's TeXML
//     accepts unchanged for the verbs ringgate uses (Say, Gather, Hangup,
//     Reject).
//   - Webhooks: Refusals counts and logs webhooks refused for a bad or
//     missing signature and answers them 403 problem JSON; Problem writes
//     RFC 9457 problem JSON; ReadBody bounds request bodies; FormParams
//     parses a form body (query parameters excluded) for signature checks.
//
// The API is meant to stay stable: providers built by other engineers
// depend on it.
package httpcarrier
