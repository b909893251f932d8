// Package storetest is the conformance suite every ringgate store must pass:
// it checks each method of verify.Store and webhook.Outbox against the
// contract written on the interface, including the concurrency promises
// (one pending verification per phone, LockVerification, lease-based
// delivery claims) that the service relies on and unit tests with fakes
// cannot show.
//
// A store package runs it from a test:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			s, err := Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every subtest runs in parallel with a store of its own from open, so it
// may assume the store starts empty.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

// Store is what a ringgate store implements.
type Store interface {
	verify.Store
	webhook.Outbox
}

// Run runs the suite. open returns a new, empty, migrated store and arranges
// for it to be closed when t ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Apps", testApps},
		{"ConsoleQueries", testConsoleQueries},
		{"APIKeys", testAPIKeys},
		{"KeyLifecycle", testKeyLifecycle},
		{"Audit", testAudit},
		{"Numbers", testNumbers},
		{"PoolNumbers", testPoolNumbers},
		{"VerificationRoundTrip", testVerificationRoundTrip},
		{"AppSettings", testAppSettings},
		{"Jobs", testJobs},
		{"JobByCarrierRef", testJobByCarrierRef},
		{"ClaimJobsConcurrent", testClaimJobsConcurrent},
		{"UpdateVerification", testUpdateVerification},
		{"InsertVerificationConflicts", testInsertVerificationConflicts},
		{"ConflictKeepsTxUsable", testConflictKeepsTxUsable},
		{"PendingVerification", testPendingVerification},
		{"VerificationByIdempotencyKey", testVerificationByIdempotencyKey},
		{"TenantScoping", testTenantScoping},
		{"PendingForCaller", testPendingForCaller},
		{"Verifications", testVerifications},
		{"Events", testEvents},
		{"Calls", testCalls},
		{"TxRollback", testTxRollback},
		{"DeferredWrites", testDeferredWrites},
		{"TxPanic", testTxPanic},
		{"TxIsolation", testTxIsolation},
		{"Ping", testPing},
		{"PendingUniqueRace", testPendingUniqueRace},
		{"LockVerificationSerialises", testLockVerificationSerialises},
		{"Expiry", testExpiry},
		{"ConcurrentSweepers", testConcurrentSweepers},
		{"Deliveries", testDeliveries},
		{"RequeueDelivery", testRequeueDelivery},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimLimit", testClaimLimit},
		{"ClaimConcurrent", testClaimConcurrent},
		{"SettleDelivery", testSettleDelivery},
		{"SettleStaleLease", testSettleStaleLease},
		{"HandedDelivery", testHandedDelivery},
		{"NextDeliveryDue", testNextDeliveryDue},
		{"SettleDeliveries", testSettleDeliveries},
	}
	tests = append(tests, abuseTests...)
	tests = append(tests, retentionTests...)
	tests = append(tests, compatTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's clock: millisecond precision, UTC, so that values read
// back compare equal to what was written.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mustTx(t *testing.T, s Store, fn func(tx verify.Tx) error) {
	t.Helper()
	if err := s.Tx(t.Context(), fn); err != nil {
		t.Fatalf("Tx: %v", err)
	}
}

// check fails t now if err is not nil.
func check(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails t unless err matches target.
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func equal[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func newApp(id string) verify.App {
	return verify.App{
		ID: id, Name: "App " + id, DefaultCallbackURL: "https://" + id + ".example/hook",
		WebhookSecret: "whsec_" + id, CreatedAt: t0,
	}
}

func insertApps(t *testing.T, s Store, ids ...string) {
	t.Helper()
	mustTx(t, s, func(tx verify.Tx) error {
		for _, id := range ids {
			if err := tx.InsertApp(ctx(t), newApp(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// newVerification is a pending missed-call verification due in three
// minutes.
func newVerification(id, appID, phone string) verify.Verification {
	return verify.Verification{
		ID: id, AppID: appID, Phone: phone, Country: "GB", Channel: verify.ChannelMissedCall,
		Status: verify.StatusPending, DialNumber: "+442079460000", CallbackURL: "https://cb.example/" + id,
		RequestHash: "hash-" + id, CreatedAt: t0, UpdatedAt: t0, ExpiresAt: at(3 * time.Minute),
	}
}

// ended returns v in a terminal status.
func ended(v verify.Verification, st verify.Status) verify.Verification {
	v.Status, v.CompletedAt, v.UpdatedAt = st, at(time.Minute), at(time.Minute)
	if st != verify.StatusVerified {
		v.Reason = verify.ReasonNotDialed
	}
	return v
}

func insertVerifications(t *testing.T, s Store, vs ...verify.Verification) {
	t.Helper()
	mustTx(t, s, func(tx verify.Tx) error {
		for _, v := range vs {
			if err := tx.InsertVerification(ctx(t), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func getVerification(t *testing.T, s Store, id string) verify.Verification {
	t.Helper()
	v, err := s.Verification(ctx(t), id)
	check(t, err, "Verification "+id)
	return v
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func verificationIDs(vs []verify.Verification) []string {
	return ids(vs, func(v verify.Verification) string { return v.ID })
}

func sortedVerificationIDs(vs []verify.Verification) []string {
	out := verificationIDs(vs)
	slices.Sort(out)
	return out
}

func seqID(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// parallel runs fn(i) for i in [0, n) at once, released together so that
// they really contend, and returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}
