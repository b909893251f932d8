package operator

import (
	"context"
	"errors"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// CreateKey makes a new key for the tenant's app and returns it with its
// secret, which is never readable again. A sandbox tenant (a test key) may
// make only test keys.
func (s *Service) CreateKey(ctx context.Context, t verify.Tenant, r verify.NewKeyRequest) (verify.APIKey, string, error) {
	appID := t.AppID
	if !r.Scope.Valid() {
		return verify.APIKey{}, "", verify.FieldErrorf(verify.CodeInvalid, "scope", "scope must be %q or %q", verify.ScopeVerify, verify.ScopeAdmin)
	}
	switch r.Kind {
	case "":
		r.Kind = verify.KeyLive
	case verify.KeyLive, verify.KeyTest:
	default:
		return verify.APIKey{}, "", verify.FieldErrorf(verify.CodeInvalid, "kind", "kind must be %q or %q", verify.KeyLive, verify.KeyTest)
	}
	if r.Kind == verify.KeyLive {
		if err := t.ForbidSandbox(`creating a live key (kind "live", the default)`); err != nil {
			return verify.APIKey{}, "", err
		}
	}
	now := s.Now()
	k := verify.APIKey{ID: verify.NewID("key_"), AppID: appID, Kind: r.Kind, Scope: r.Scope, CreatedAt: now}
	if r.ExpiresAt != nil {
		exp := r.ExpiresAt.UTC().Truncate(time.Millisecond)
		if exp.Before(now.Add(verify.MinKeyLife)) {
			return verify.APIKey{}, "", verify.FieldErrorf(verify.CodeInvalid, "expires_at", "expires_at must be at least %v in the future", verify.MinKeyLife)
		}
		k.ExpiresAt = exp
	}
	secret := verify.NewAPIKey(r.Kind)
	k.Hash, k.Prefix = verify.HashAPIKey(secret), verify.KeyPrefixOf(secret)
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		have, err := tx.APIKeys(ctx, appID)
		if err != nil {
			return err
		}
		active := 0
		for _, h := range have {
			if h.Active(now) {
				active++
			}
		}
		if active >= verify.MaxKeysPerApp {
			return verify.Errorf(verify.CodeConflict, "the app has %d active keys, the most it may have; revoke one first", active)
		}
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, t, verify.AuditKeyCreated, k.ID, map[string]any{
			"prefix": k.Prefix, "scope": k.Scope, "kind": k.Kind, "expires_at": optTime(k.ExpiresAt),
		})
	})
	if err != nil {
		return verify.APIKey{}, "", err
	}
	return k, secret, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Keys lists the keys the tenant may manage, revoked and expired ones
// included: a live key sees all of the app's (it makes its test keys), a
// test key only test keys.
func (s *Service) Keys(ctx context.Context, t verify.Tenant) ([]verify.APIKey, error) {
	ks, err := s.store.APIKeys(ctx, t.AppID)
	if err != nil {
		return nil, err
	}
	out := ks[:0]
	for _, k := range ks {
		if t.MayManage(k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// RevokeKey revokes one of the app's keys. An app always keeps at least
// one active admin key, so that it cannot lock itself out: revoking the
// last one is refused with CodeConflict. A caller may revoke the very key
// it authenticated with (the last step of a rotation) when another active
// admin key exists.
// A test key reaches only test keys: a live key's id is not found.
func (s *Service) RevokeKey(ctx context.Context, t verify.Tenant, id string) (verify.APIKey, error) {
	appID := t.AppID
	now := s.Now()
	var out verify.APIKey
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		have, err := tx.APIKeys(ctx, appID)
		if err != nil {
			return err
		}
		found, otherAdmins := false, 0
		for _, k := range have {
			if k.ID == id {
				if !k.RevokedAt.IsZero() || !t.MayManage(k) {
					return verify.Errorf(verify.CodeNotFound, "no active API key %q", id)
				}
				found, out = true, k
				continue
			}
			if k.Active(now) && k.EffectiveScope() == verify.ScopeAdmin {
				otherAdmins++
			}
		}
		if !found {
			return verify.Errorf(verify.CodeNotFound, "no active API key %q", id)
		}
		if out.Active(now) && out.EffectiveScope() == verify.ScopeAdmin && otherAdmins == 0 {
			return verify.Errorf(verify.CodeConflict, "%s… is the app's last active admin key; create another admin key before revoking it", out.Prefix)
		}
		if err := tx.RevokeAPIKey(ctx, appID, id, now); err != nil {
			return err
		}
		out.RevokedAt = now
		return s.audit(ctx, tx, t, verify.AuditKeyRevoked, id, map[string]any{"prefix": out.Prefix, "scope": out.EffectiveScope()})
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.APIKey{}, verify.Errorf(verify.CodeNotFound, "no active API key %q", id)
	}
	return out, err
}
