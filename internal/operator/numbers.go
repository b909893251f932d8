package operator

import (
	"context"
	"errors"
	"strings"

	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// AddNumber puts a number in an app's missed-call pool, serving country (ISO
// alpha-2) or AnyCountry.
func (s *Service) AddNumber(ctx context.Context, appID, number, country string) (verify.Number, error) {
	n, err := phone.ParseE164(number)
	if err != nil {
		return verify.Number{}, &verify.Error{Code: verify.CodeInvalidPhone, Field: "number", Message: err.Error(), Err: err}
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		country = n.Country
	}
	if country != verify.AnyCountry && !phone.ValidCountry(country) {
		return verify.Number{}, verify.FieldErrorf(verify.CodeInvalid, "country", "unknown country %q (ISO 3166-1 alpha-2, or %q for all)", country, verify.AnyCountry)
	}
	num := verify.Number{AppID: appID, Number: n.E164, Country: country, CreatedAt: s.Now()}
	err = s.store.Tx(ctx, func(tx verify.Tx) error {
		if _, err := tx.App(ctx, appID); err != nil {
			if errors.Is(err, verify.ErrNotFound) {
				return verify.Errorf(verify.CodeNotFound, "no app %q", appID)
			}
			return err
		}
		if err := tx.InsertNumber(ctx, num); err != nil || !verify.HasActor(ctx) {
			return err
		}
		return s.audit(ctx, tx, verify.LiveTenant(appID), verify.AuditNumberAdded, num.Number, map[string]any{"country": num.Country})
	})
	if errors.Is(err, verify.ErrConflict) {
		return num, verify.Errorf(verify.CodeConflict, "app %s already has %s", appID, num.Number)
	}
	return num, err
}

// RemoveNumber takes a number out of an app's pool. Verifications already
// showing it keep it until they end.
func (s *Service) RemoveNumber(ctx context.Context, appID, number string) error {
	n := verify.Normalise(number, "")
	err := s.store.Tx(ctx, func(tx verify.Tx) error {
		if err := tx.DeleteNumber(ctx, appID, n); err != nil || !verify.HasActor(ctx) {
			return err
		}
		return s.audit(ctx, tx, verify.LiveTenant(appID), verify.AuditNumberRemoved, n, nil)
	})
	if errors.Is(err, verify.ErrNotFound) {
		return verify.Errorf(verify.CodeNotFound, "app %s has no number %s", appID, n)
	}
	return err
}

// Numbers lists an app's pool.
func (s *Service) Numbers(ctx context.Context, appID string) ([]verify.Number, error) {
	return s.store.Numbers(ctx, appID)
}

// SmallPools lists the pools too small for the per-phone rate limits
// (AbusePolicy.PoolTooSmall, with each app's own limits): a phone may then
// be shown a number again within the dial cool-down, and a blind spoofer's
// guess at the number is 1 in the pool's size. The server logs them at
// start.
func (s *Service) SmallPools(ctx context.Context) ([]verify.SmallPool, error) {
	apps, err := s.store.Apps(ctx)
	if err != nil {
		return nil, err
	}
	var out []verify.SmallPool
	for _, a := range apps {
		nums, err := s.store.Numbers(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		per := map[string]int{}
		var countries []string
		for _, n := range nums {
			if per[n.Country] == 0 {
				countries = append(countries, n.Country)
			}
			per[n.Country]++
		}
		p := s.rules.Abuse().ForApp(a)
		for _, c := range countries {
			if need, small := p.PoolTooSmall(per[c]); small {
				out = append(out, verify.SmallPool{AppID: a.ID, Country: c, Numbers: per[c], Need: need})
			}
		}
	}
	return out, nil
}
