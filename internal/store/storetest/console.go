package storetest

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// testConsoleQueries covers what the operator console reads: every app,
// verifications across apps by channel and country, and the rows its
// charts count.
func testConsoleQueries(t *testing.T, s Store) {
	apps, err := s.Apps(ctx(t))
	check(t, err, "Apps on an empty store")
	equal(t, len(apps), 0, "apps of an empty store")
	insertApps(t, s, "app_b", "app_a")
	apps, err = s.Apps(ctx(t))
	check(t, err, "Apps")
	equal(t, ids(apps, func(a verify.App) string { return a.ID }), []string{"app_a", "app_b"}, "apps ordered by id")
	equal(t, apps[0], newApp("app_a"), "listed app, every field")

	mk := func(i int, app string, ch verify.Channel, country string, st verify.Status, created time.Duration) verify.Verification {
		v := newVerification(seqID("vf_", i), app, seqID("+4477009", i))
		v.Channel, v.Country, v.CreatedAt, v.UpdatedAt = ch, country, at(created), at(created)
		if st != verify.StatusPending {
			v = ended(v, st)
			v.CompletedAt = at(created + time.Duration(i)*time.Second)
		}
		return v
	}
	vs := []verify.Verification{
		mk(1, "app_a", verify.ChannelMissedCall, "GB", verify.StatusVerified, 0),
		mk(2, "app_b", verify.ChannelSMSOTP, "FR", verify.StatusExpired, time.Minute),
		mk(3, "app_a", verify.ChannelSMSOTP, "GB", verify.StatusPending, 2*time.Minute),
		mk(4, "app_b", verify.ChannelMissedCall, "FR", verify.StatusVerified, 3*time.Minute),
	}
	insertVerifications(t, s, vs...)
	list := func(f verify.ListFilter) []string {
		t.Helper()
		got, err := s.Verifications(ctx(t), f)
		check(t, err, "Verifications")
		return verificationIDs(got)
	}
	equal(t, list(verify.ListFilter{AllTenants: true}), []string{"vf_0004", "vf_0003", "vf_0002", "vf_0001"}, "every app")
	equal(t, list(verify.ListFilter{AllTenants: true, Channel: verify.ChannelMissedCall}), []string{"vf_0004", "vf_0001"}, "channel filter")
	equal(t, list(verify.ListFilter{AllTenants: true, Country: "FR"}), []string{"vf_0004", "vf_0002"}, "country filter")
	equal(t, list(verify.ListFilter{Country: "GB", Channel: verify.ChannelSMSOTP, AllTenants: true, Tenant: verify.LiveTenant("app_a")}), []string{"vf_0003"}, "channel, country and app")

	rows, err := s.VerificationStats(ctx(t), at(time.Minute), 0)
	check(t, err, "VerificationStats")
	equal(t, ids(rows, func(r verify.StatRow) string { return string(r.Channel) + "/" + r.Country + "/" + string(r.Status) }),
		[]string{"sms_otp/FR/expired", "sms_otp/GB/pending", "missed_call/FR/verified"}, "stats rows since, oldest first")
	equal(t, rows[2], verify.StatRow{AppID: "app_b", Channel: verify.ChannelMissedCall, Country: "FR", Status: verify.StatusVerified,
		CreatedAt: at(3 * time.Minute), CompletedAt: at(3*time.Minute + 4*time.Second)}, "stats row, every field")
	equal(t, rows[1].CompletedAt.IsZero(), true, "a pending row has no completion time")
	rows, err = s.VerificationStats(ctx(t), at(0), 2)
	check(t, err, "VerificationStats with a limit")
	equal(t, len(rows), 2, "rows under a limit")
	equal(t, rows[0].Status, verify.StatusVerified, "the oldest row first")
}
