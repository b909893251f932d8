package storetest

import (
	"testing"

	"github.com/ringgate/ringgate/internal/verify"
)

// Migration0011 checks migration 0011 (one event per verifying call
// becomes the default) on apps as the releases before it left them: exec
// runs raw SQL on a store's database after its migrations, and reopen
// opens the store again, which applies 0011 once more because exec took
// its record out. An app without the setting had both events and keeps
// them ("both"); one that asked for "verified" has the default; other
// settings are untouched.
func Migration0011(t *testing.T, exec func(q string) error, reopen func() Store) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO apps (id, name, default_callback_url, webhook_secret, created_at, settings) VALUES
			('app_empty', 'A', '', 'whsec_x', 0, '{}'),
			('app_sender', 'B', '', 'whsec_x', 0, '{"sms_sender":"Acme"}'),
			('app_one', 'C', '', 'whsec_x', 0, '{"sms_sender":"Acme","matched_call_events":"verified"}')`,
		`DELETE FROM schema_migrations WHERE version = 11`,
	} {
		if err := exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	s := reopen()
	for id, want := range map[string]verify.Settings{
		"app_empty":  {MatchedCallEvents: verify.MatchedCallBoth},
		"app_sender": {MatchedCallEvents: verify.MatchedCallBoth, SMSSender: "Acme"},
		"app_one":    {SMSSender: "Acme"},
	} {
		app, err := s.App(ctx(t), id)
		check(t, err, "app "+id)
		if app.Settings.MatchedCallEvents != want.MatchedCallEvents || app.Settings.SMSSender != want.SMSSender {
			t.Errorf("%s after 0011: matched_call_events %q, sms_sender %q; want %q, %q", id,
				app.Settings.MatchedCallEvents, app.Settings.SMSSender, want.MatchedCallEvents, want.SMSSender)
		}
	}
}
