package verify

import (
	"time"
)

// StatRow is one verification as the operator console's charts count it.
type StatRow struct {
	AppID       string
	Channel     Channel // the channel it ended on (or is on)
	Country     string
	Status      Status
	CreatedAt   time.Time
	CompletedAt time.Time // zero while pending
	Sandbox     bool      // started with a test key
}

// MaxStatRows bounds the verifications one Stats call reads: the console's
// charts are computed in the process from the rows, which is simple and
// exact for the volumes one operator looks at, and bounded above them.
const MaxStatRows = 200_000
