package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/store/sqldb"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	_ "modernc.org/sqlite"
)

// The hot queries' plans on a fresh database (no ANALYZE statistics), with
// every migration applied. An index added later for something else can
// take a query over: the console's (channel, id) index once made every
// inbound call scan all missed-call verifications. The outbox's statements
// and the inbound call's read come from store/sqldb as it runs them
// (OutboxQueries, CallerQuery); the other texts
// mirror store/sqldb/tx.go, and a change there needs one here.
//
// want must appear in the plan, and none of deny may: the outbox's claim
// reads its candidates as a range of the pending-only due index (never the
// whole backlog) and finds the rows it updates by primary key, and the next
// due time is the first entry of that index, with no sort.
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
	outbox := sqldb.OutboxQueries(sqlite.Dialect{})
	for _, c := range []struct {
		name, query, want string
		deny              []string
	}{
		{"PendingForCallerApps", sqldb.CallerQuery(sqlite.Dialect{}), "INDEX verifications_caller (phone=?)", []string{"TEMP B-TREE", "SCAN"}},
		{"PendingForCallerApps app", sqldb.CallerQuery(sqlite.Dialect{}), "SEARCH a USING INDEX sqlite_autoindex_apps_1 (id=?)", nil},
		{"ClaimDeliveries candidates", outbox["ClaimDeliveries"],
			"SEARCH webhook_deliveries USING COVERING INDEX webhook_deliveries_due_at (due_at<?)",
			[]string{"SCAN webhook_deliveries", "TEMP B-TREE"}},
		{"ClaimDeliveries update", outbox["ClaimDeliveries"],
			"SEARCH webhook_deliveries USING INDEX sqlite_autoindex_webhook_deliveries_1 (id=?)", nil},
		{"NextExpiry", outbox["NextExpiry"],
			"SCAN verifications USING COVERING INDEX verifications_expiry",
			[]string{"TEMP B-TREE"}},
		{"NextDeliveryDue", outbox["NextDeliveryDue"],
			"SCAN webhook_deliveries USING COVERING INDEX webhook_deliveries_due_at",
			[]string{"TEMP B-TREE"}},
		{"PendingVerification", `SELECT id FROM verifications WHERE app_id = ? AND sandbox = ? AND phone = ? AND status = 'pending'`,
			"USING INDEX verifications_pending_phone", nil},
		{"DueForExpiry", `SELECT id FROM verifications WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
			"INDEX verifications_expiry (expires_at<?)", []string{"TEMP B-TREE"}},
	} {
		var args []any
		for i := range strings.Count(c.query, "?") {
			args = append(args, i+1)
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN "+c.query, args...)
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
		p := strings.Join(plan, "\n")
		if !strings.Contains(p, c.want) {
			t.Errorf("%s: plan\n%s\nwant %q", c.name, p, c.want)
		}
		for _, d := range c.deny {
			if strings.Contains(p, d) {
				t.Errorf("%s: plan\n%s\nhas %q", c.name, p, d)
			}
		}
	}
}
