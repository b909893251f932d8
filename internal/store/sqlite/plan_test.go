package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// The hot queries' plans on a fresh database (no ANALYZE statistics), with
// every migration applied. An index added later for something else can
// take a query over: the console's (channel, id) index once made every
// inbound call scan all missed-call verifications. The texts mirror
// store/sqldb (tx.go PendingForCaller, outbox.go ClaimDeliveries); a change
// there needs one here.
func TestHotQueryPlans(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "plans.db")
	s := open(t, path)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct{ name, query, want string }{
		{"PendingForCaller", `SELECT id FROM verifications
			WHERE phone = ? AND status = 'pending' AND channel || '' = ? ORDER BY id`, "USING INDEX verifications_caller"},
		{"ClaimDeliveries", `WITH candidates AS MATERIALIZED (SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT ?)
			UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (SELECT id FROM candidates)
			AND status || '' = 'pending' AND next_attempt_at + 0 <= ? AND lease_until + 0 <= ? RETURNING id`,
			"SEARCH webhook_deliveries USING INDEX sqlite_autoindex_webhook_deliveries_1 (id=?)"},
		{"PendingVerification", `SELECT id FROM verifications WHERE app_id = ? AND sandbox = ? AND phone = ? AND status = 'pending'`,
			"USING INDEX verifications_pending_phone"},
		{"DueForExpiry", `SELECT id FROM verifications WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
			"USING INDEX verifications_expiry"},
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+c.query, 1, 2, 3, 4, 5, 6)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "\n"); !strings.Contains(p, c.want) {
			t.Errorf("%s: plan\n%s\nwant %q", c.name, p, c.want)
		}
	}
}
