// Package webhook delivers the webhook outbox to customers' callback URLs.
//
// # Outbox → dispatcher → receiver
//
// The verify service never calls a customer's server itself. When a
// verification changes, it writes the event and a pending [verify.Delivery]
// in the same database transaction, so a committed change always has its
// webhook queued and a rolled-back one never does. After the commit the
// server calls [Dispatcher.Kick], which wakes the dispatcher at once; without
// a kick the dispatcher still finds the row on its next poll (at most
// [DispatcherConfig.Poll] later, 1s by default), which is also how deliveries
// written on other nodes are picked up.
//
// The dispatcher leases due deliveries from the [Outbox]
// (ClaimDeliveries), POSTs each to its URL with at most Workers requests in
// flight, and records the outcome (SettleDelivery). Leases let several nodes
// run dispatchers against one database: a delivery is held by one of them at
// a time, and a node that dies mid-attempt loses its leases when they run out,
// after which another node claims the deliveries again.
//
// Each POST carries the event's JSON envelope and the Standard Webhooks
// headers (https://www.standardwebhooks.com): webhook-id (the delivery's ID,
// the same on every retry, for the receiver to deduplicate on),
// webhook-timestamp (this attempt's time) and webhook-signature
// ("v1," + base64 HMAC-SHA256 of "id.timestamp.body" under the app's whsec_
// secret).
//
// The HTTP client comes from [Policy.Client]: it refuses, at connect time,
// addresses in private, loopback, link-local and other special ranges (so a
// DNS name that resolves to one is refused too), never follows redirects and
// ignores proxy settings from the environment. [Policy.CheckURL] applies the
// same rules to callback URLs when they are entered.
//
// # At least once
//
// A delivery is settled only after its attempt ends. If the process stops
// between the receiver's 2xx and the settle, or the settle fails, the lease
// runs out and the delivery is sent again: receivers see every event at
// least once, and sometimes more than once, always with the same webhook-id.
// On shutdown, attempts in flight are abandoned (not settled) and retried
// after their lease ends; attempts that already have an answer are settled.
//
// # Retries
//
// A 2xx answer delivers. Anything else (another status, a redirect, a
// timeout, a refused connection, an address the policy refuses) fails the
// attempt, and the delivery is tried again after
//
//	d = min(RetryBase·2^(n-1), RetryMax)    (n: attempts made so far)
//
// less a random 0–25% of d. The jitter spreads out the retries of a
// receiver's backlog after an outage instead of sending them at one instant;
// it only ever shortens the wait, so RetryMax stays a true cap and the waits
// still grow (0.75·2d > d). (Full jitter, uniform in [0, d], spreads more but
// can retry a failing receiver almost at once and makes the schedule
// impossible to document.) With the defaults (RetryBase 5s, RetryMax 1h) the
// waits are up to 5s, 10s, 20s, 40s, … 2560s, then 1h: 33 to 41 (about 37)
// attempts in the first day. A delivery that would next be due more than
// MaxAge (24h) after it was created is marked failed instead; an operator
// can re-queue it.
package webhook
