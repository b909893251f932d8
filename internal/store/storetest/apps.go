package storetest

import (
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

func testApps(t *testing.T, s Store) {
	_, err := s.App(ctx(t), "app_missing")
	wantErr(t, err, verify.ErrNotFound, "App of a missing id")

	a := newApp("app_a")
	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.InsertApp(ctx(t), a), "InsertApp")
		got, err := tx.App(ctx(t), a.ID)
		check(t, err, "App in the inserting Tx")
		equal(t, got, a, "App in the inserting Tx")
		wantErr(t, tx.InsertApp(ctx(t), newApp("app_a")), verify.ErrConflict, "InsertApp of an existing id")
		return nil
	})
	got, err := s.App(ctx(t), a.ID)
	check(t, err, "App")
	equal(t, got, a, "App")

	changed := verify.App{
		ID: a.ID, Name: "Renamed", DefaultCallbackURL: "https://new.example/hook",
		WebhookSecret: "whsec_new", CreatedAt: at(time.Hour),
	}
	mustTx(t, s, func(tx verify.Tx) error { return tx.UpdateApp(ctx(t), changed) })
	got, err = s.App(ctx(t), a.ID)
	check(t, err, "App after UpdateApp")
	want := changed
	want.CreatedAt = a.CreatedAt // UpdateApp writes name, callback and secret only
	equal(t, got, want, "App after UpdateApp")

	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.UpdateApp(ctx(t), newApp("app_missing")) })
	wantErr(t, err, verify.ErrNotFound, "UpdateApp of a missing app")
	_, err = s.App(ctx(t), "app_missing")
	wantErr(t, err, verify.ErrNotFound, "App after UpdateApp of a missing app")
}

func testAPIKeys(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	live := verify.APIKey{ID: "key_1", AppID: "app_a", Hash: "hash-live", Prefix: "rg_live_abcd", Kind: verify.KeyLive, CreatedAt: t0}
	test := verify.APIKey{ID: "key_2", AppID: "app_b", Hash: "hash-test", Prefix: "rg_test_abcd", Kind: verify.KeyTest, CreatedAt: at(time.Second)}
	revoked := verify.APIKey{ID: "key_3", AppID: "app_a", Hash: "hash-revoked", Prefix: "rg_live_efgh", Kind: verify.KeyLive, CreatedAt: t0, RevokedAt: at(time.Minute)}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, k := range []verify.APIKey{live, test, revoked} {
			check(t, tx.InsertAPIKey(ctx(t), k), "InsertAPIKey "+k.ID)
		}
		k, a, err := tx.APIKeyByHash(ctx(t), live.Hash)
		check(t, err, "APIKeyByHash in the inserting Tx")
		equal(t, k, live, "key in the inserting Tx")
		equal(t, a.ID, "app_a", "app in the inserting Tx")
		return nil
	})

	for _, k := range []verify.APIKey{live, test} {
		gotKey, gotApp, err := s.APIKeyByHash(ctx(t), k.Hash)
		check(t, err, "APIKeyByHash "+k.ID)
		equal(t, gotKey, k, "key "+k.ID)
		equal(t, gotApp, newApp(k.AppID), "app of key "+k.ID)
	}
	_, _, err := s.APIKeyByHash(ctx(t), revoked.Hash)
	wantErr(t, err, verify.ErrNotFound, "APIKeyByHash of a revoked key")
	_, _, err = s.APIKeyByHash(ctx(t), "hash-unknown")
	wantErr(t, err, verify.ErrNotFound, "APIKeyByHash of an unknown hash")

	for _, hash := range []string{live.Hash, revoked.Hash} {
		dup := verify.APIKey{ID: "key_dup", AppID: "app_b", Hash: hash, Prefix: "rg_live_dupe", Kind: verify.KeyLive, CreatedAt: t0}
		err := s.Tx(ctx(t), func(tx verify.Tx) error { return tx.InsertAPIKey(ctx(t), dup) })
		wantErr(t, err, verify.ErrConflict, "InsertAPIKey with the hash of "+hash)
	}
	_, a, err := s.APIKeyByHash(ctx(t), live.Hash)
	check(t, err, "APIKeyByHash after the refused duplicate")
	equal(t, a.ID, "app_a", "owner after the refused duplicate")
}

func testNumbers(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b")
	got, err := s.Numbers(ctx(t), "app_a")
	check(t, err, "Numbers of an empty pool")
	equal(t, len(got), 0, "numbers in an empty pool")

	n3 := verify.Number{AppID: "app_a", Number: "+447700900003", Country: "GB", CreatedAt: t0}
	n1 := verify.Number{AppID: "app_a", Number: "+14155550001", Country: "US", CreatedAt: at(time.Second)}
	n2 := verify.Number{AppID: "app_a", Number: "+33612345002", Country: verify.AnyCountry, CreatedAt: at(2 * time.Second)}
	other := verify.Number{AppID: "app_b", Number: n3.Number, Country: "GB", CreatedAt: t0}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, n := range []verify.Number{n3, n1, n2, other} {
			check(t, tx.InsertNumber(ctx(t), n), "InsertNumber "+n.AppID+" "+n.Number)
		}
		return nil
	})
	err = s.Tx(ctx(t), func(tx verify.Tx) error {
		return tx.InsertNumber(ctx(t), verify.Number{AppID: "app_a", Number: n3.Number, Country: "US", CreatedAt: t0})
	})
	wantErr(t, err, verify.ErrConflict, "InsertNumber of a number the app has")

	got, err = s.Numbers(ctx(t), "app_a")
	check(t, err, "Numbers")
	equal(t, got, []verify.Number{n1, n2, n3}, "Numbers, ordered by number")

	mustTx(t, s, func(tx verify.Tx) error { return tx.DeleteNumber(ctx(t), "app_a", n3.Number) })
	got, err = s.Numbers(ctx(t), "app_a")
	check(t, err, "Numbers after DeleteNumber")
	equal(t, got, []verify.Number{n1, n2}, "Numbers after DeleteNumber")
	got, err = s.Numbers(ctx(t), "app_b")
	check(t, err, "Numbers of the other app")
	equal(t, got, []verify.Number{other}, "other app's numbers after DeleteNumber")

	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.DeleteNumber(ctx(t), "app_a", n3.Number) })
	wantErr(t, err, verify.ErrNotFound, "DeleteNumber of a deleted number")
	err = s.Tx(ctx(t), func(tx verify.Tx) error { return tx.DeleteNumber(ctx(t), "app_b", n1.Number) })
	wantErr(t, err, verify.ErrNotFound, "DeleteNumber of another app's number")
	got, err = s.Numbers(ctx(t), "app_a")
	check(t, err, "Numbers")
	equal(t, got, []verify.Number{n1, n2}, "Numbers after refused deletes")
}

func testPoolNumbers(t *testing.T, s Store) {
	insertApps(t, s, "app_a", "app_b", "app_c")
	gb1 := verify.Number{AppID: "app_a", Number: "+447700900001", Country: "GB", CreatedAt: t0}
	gb2 := verify.Number{AppID: "app_a", Number: "+447700900002", Country: "GB", CreatedAt: t0}
	any1 := verify.Number{AppID: "app_a", Number: "+15550000001", Country: verify.AnyCountry, CreatedAt: t0}
	de := verify.Number{AppID: "app_b", Number: "+4930900001", Country: "DE", CreatedAt: t0}
	gbC := verify.Number{AppID: "app_c", Number: "+447700900009", Country: "GB", CreatedAt: t0}
	mustTx(t, s, func(tx verify.Tx) error {
		for _, n := range []verify.Number{gb2, any1, gb1, de, gbC} {
			check(t, tx.InsertNumber(ctx(t), n), "InsertNumber "+n.Number)
		}
		return nil
	})

	pool := func(appID, country string) []verify.Number {
		t.Helper()
		got, err := s.PoolNumbers(ctx(t), appID, country)
		check(t, err, "PoolNumbers "+appID+" "+country)
		return got
	}
	equal(t, pool("app_a", "GB"), []verify.Number{gb1, gb2}, "own numbers, without AnyCountry")
	equal(t, pool("app_a", "DE"), []verify.Number{any1}, "AnyCountry when the country has none (another app's DE number does not count)")
	equal(t, len(pool("app_c", "FR")), 0, "no own numbers and no AnyCountry")
	equal(t, len(pool("app_b", "GB")), 0, "another app's numbers")

	mustTx(t, s, func(tx verify.Tx) error {
		check(t, tx.DeleteNumber(ctx(t), "app_a", gb1.Number), "DeleteNumber")
		check(t, tx.DeleteNumber(ctx(t), "app_a", gb2.Number), "DeleteNumber")
		got, err := tx.PoolNumbers(ctx(t), "app_a", "GB")
		check(t, err, "PoolNumbers in Tx")
		equal(t, got, []verify.Number{any1}, "PoolNumbers in the Tx that removed the country's numbers")
		return nil
	})
	equal(t, pool("app_a", "GB"), []verify.Number{any1}, "fallback once the country's numbers are gone")
}
