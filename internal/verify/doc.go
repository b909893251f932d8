// Package verify is ringgate's domain: verifications and their state machine,
// apps and their number pools, the events and webhook deliveries a state
// change produces, and the Service that applies carrier events and API
// requests to them (the flow of a verification, and key authentication).
// The operator's work over the same store (apps, keys, audit, deliveries,
// fraud lists, the console) is internal/operator's.
//
// It performs no I/O of its own. Persistence is the Store interface (one
// transaction per state change, so the new state, its event and the webhook
// to deliver are committed together: write.go, the one write path); telling
// live subscribers is the Publisher interface, called only after commit.
// Implementations live in internal/store and internal/live.
//
// A verification moves only forward:
//
//	pending ──call from the phone to its dial number──► verified  (000)
//	pending ──expires_at passes──────────────────────► expired   (001, not_dialed)
//	pending ──cancel──────────────────────────────────► canceled  (001, canceled)
//	pending ──too many wrong attempts / carrier error─► failed    (001, reason)
//
// Terminal records are kept and stay readable, so "already verified" and
// "expired" are never confused.
package verify
