package postgres_test

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/postgres"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/store/sqldb"
	"github.com/ringgate/ringgate/internal/verify"
)

// TestHotQueryPlans pins the outbox's plans on PostgreSQL with a backlog: 100,000
// deliveries pending a retry that is not yet due (a receiver that is down),
// a few due, and as many delivered, with statistics gathered. Claiming
// must read the due ones as a range of the pending-only index on due_at,
// and the next due time must be its first entry; a sequential scan or a
// sort of the pending rows would read the whole backlog on every
// dispatcher round. The statements are store/sqldb's own (OutboxQueries).
func TestHotQueryPlans(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	s := open(t, url)
	ctx := t.Context()
	svc, err := verify.NewService(verify.Config{Store: s, Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	op, err := operator.New(operator.Config{Store: s, Verify: svc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreateApp(ctx, verify.NewApp{ID: "app_plan", DefaultCallbackURL: "https://example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const now = 1_000_000
	for _, q := range []string{
		// Pending, due in the future (next_attempt_at = due_at > now).
		`INSERT INTO webhook_deliveries (id, app_id, type, url, payload, status, next_attempt_at, due_at, created_at)
		SELECT 'whd_r' || g, 'app_plan', 'verification.verified', 'https://example.com/hook', '{}', 'pending',
			2000000 + g, 2000000 + g, 0 FROM generate_series(1, 100000) g`,
		// A few due now.
		`INSERT INTO webhook_deliveries (id, app_id, type, url, payload, status, next_attempt_at, due_at, created_at)
		SELECT 'whd_d' || g, 'app_plan', 'verification.verified', 'https://example.com/hook', '{}', 'pending',
			g, g, 0 FROM generate_series(1, 10) g`,
		// Delivered long ago: not in the pending index at all.
		`INSERT INTO webhook_deliveries (id, app_id, type, url, payload, status, next_attempt_at, due_at, created_at)
		SELECT 'whd_x' || g, 'app_plan', 'verification.verified', 'https://example.com/hook', '{}', 'delivered',
			g, g, 0 FROM generate_series(1, 100000) g`,
		`ANALYZE webhook_deliveries`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	outbox := sqldb.OutboxQueries(postgres.Dialect{})
	for _, c := range []struct {
		name string
		args []any
		want []string
	}{
		{"ClaimDeliveries", []any{now, now + 30000, now + 30000, now + 30000, now + 30000, now + 30000, now + 30000, now},
			[]string{"Scan using webhook_deliveries_due_at on webhook_deliveries", "Index Cond: (due_at <= ",
				"Limit", "Index Scan using webhook_deliveries_pkey"}},
		{"NextDeliveryDue", nil, []string{"Limit", "Index Only Scan using webhook_deliveries_due_at on webhook_deliveries"}},
		{"NextExpiry", nil, []string{"Limit", "Scan using verifications_expiry on verifications"}},
	} {
		rows, err := db.QueryContext(ctx, "EXPLAIN "+outbox[c.name], c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		for _, w := range c.want {
			if !strings.Contains(p, w) {
				t.Errorf("%s: plan\n%s\nwant %q", c.name, p, w)
			}
		}
		for _, d := range []string{"Seq Scan on", "Sort", "Bitmap Heap Scan on"} {
			if strings.Contains(p, d) {
				t.Errorf("%s: plan\n%s\nhas %q", c.name, p, d)
			}
		}
	}
}
