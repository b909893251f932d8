package storetest

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// testTenantScoping: every query that takes a verify.Tenant keeps an app's
// sandbox and live rows apart (and apps apart), and a live and a sandbox
// verification of one phone or idempotency key coexist.
func testTenantScoping(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	live, sandbox := verify.LiveTenant("app_a"), verify.Tenant{AppID: "app_a", Sandbox: true}
	const phone = "+447700900001"
	lv := newVerification("vf_1", "app_a", phone)
	lv.IdempotencyKey = "idem"
	sv := newVerification("vf_2", "app_a", phone) // same phone and key, sandbox
	sv.Sandbox, sv.IdempotencyKey = true, "idem"
	insertVerifications(t, s, lv, sv)
	ld, sd := newDelivery("msg_1", "app_a", "vf_1", t0), newDelivery("msg_2", "app_a", "vf_2", t0)
	sd.Sandbox = true
	insertDeliveries(t, s, ld, sd)
	mustTx(t, s, func(tx verify.Tx) error {
		if err := tx.InsertAudit(ctx(t), verify.AuditEntry{ID: "aud_1", AppID: "app_a", At: t0, Actor: "key:l", Action: verify.AuditKeyCreated, Target: "k", Detail: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.InsertAudit(ctx(t), verify.AuditEntry{ID: "aud_2", AppID: "app_a", At: t0, Actor: "key:t", Action: verify.AuditKeyCreated, Target: "k", Detail: []byte(`{}`), Sandbox: true})
	})

	for _, c := range []struct {
		tn   verify.Tenant
		v    verify.Verification
		d    verify.Delivery
		aud  string
		miss string
	}{{live, lv, ld, "aud_1", "vf_2"}, {sandbox, sv, sd, "aud_2", "vf_1"}} {
		got, err := s.VerificationOf(ctx(t), c.tn, c.v.ID)
		check(t, err, "VerificationOf")
		equal(t, got, c.v, "VerificationOf")
		_, err = s.VerificationOf(ctx(t), c.tn, c.miss)
		wantErr(t, err, verify.ErrNotFound, "VerificationOf across the sandbox line")
		_, err = s.VerificationOf(ctx(t), verify.Tenant{AppID: "app_b", Sandbox: c.tn.Sandbox}, c.v.ID)
		wantErr(t, err, verify.ErrNotFound, "VerificationOf of another app")

		vs, err := s.Verifications(ctx(t), verify.ListFilter{Tenant: c.tn})
		check(t, err, "Verifications")
		equal(t, len(vs), 1, "Verifications of one tenant")
		equal(t, vs[0].ID, c.v.ID, "Verifications of one tenant")

		d, err := s.Delivery(ctx(t), c.tn, c.d.ID)
		check(t, err, "Delivery")
		equal(t, d, c.d, "Delivery")
		_, err = s.Delivery(ctx(t), c.tn, map[bool]string{true: "msg_1", false: "msg_2"}[c.tn.Sandbox])
		wantErr(t, err, verify.ErrNotFound, "Delivery across the sandbox line")
		ds, err := s.Deliveries(ctx(t), verify.DeliveryFilter{Tenant: c.tn})
		check(t, err, "Deliveries")
		equal(t, len(ds), 1, "Deliveries of one tenant")
		equal(t, ds[0].ID, c.d.ID, "Deliveries of one tenant")

		es, err := s.AuditEntries(ctx(t), verify.AuditFilter{Tenant: c.tn})
		check(t, err, "AuditEntries")
		equal(t, len(es), 1, "AuditEntries of one tenant")
		equal(t, es[0].ID, c.aud, "AuditEntries of one tenant")
		equal(t, es[0].Sandbox, c.tn.Sandbox, "AuditEntry.Sandbox")

		mustTx(t, s, func(tx verify.Tx) error {
			got, err := tx.PendingVerification(ctx(t), c.tn, phone)
			check(t, err, "PendingVerification")
			equal(t, got.ID, c.v.ID, "PendingVerification of the tenant")
			got, err = tx.VerificationByIdempotencyKey(ctx(t), c.tn, "idem")
			check(t, err, "VerificationByIdempotencyKey")
			equal(t, got.ID, c.v.ID, "VerificationByIdempotencyKey of the tenant")
			got, err = tx.LockVerificationOf(ctx(t), c.tn, c.v.ID)
			check(t, err, "LockVerificationOf")
			equal(t, got.ID, c.v.ID, "LockVerificationOf")
			_, err = tx.LockVerificationOf(ctx(t), c.tn, c.miss)
			wantErr(t, err, verify.ErrNotFound, "LockVerificationOf across the sandbox line")
			return nil
		})
	}
	err := s.Tx(ctx(t), func(tx verify.Tx) error { return tx.RequeueDelivery(ctx(t), sandbox, "msg_1", at(time.Minute)) })
	wantErr(t, err, verify.ErrNotFound, "RequeueDelivery of a live delivery as the sandbox")

	all, err := s.Verifications(ctx(t), verify.ListFilter{AllTenants: true, Tenant: verify.Tenant{AppID: "app_a"}})
	check(t, err, "Verifications of every tenant")
	equal(t, len(all), 2, "the console sees sandbox and live")
	none, err := s.Verifications(ctx(t), verify.ListFilter{})
	check(t, err, "Verifications without a tenant")
	equal(t, len(none), 0, "a filter without a tenant matches nothing")
}
