// Package phone parses and normalises telephone numbers with
// github.com/nyaruka/phonenumbers (a port of Google's libphonenumber).
//
// Every number ringgate stores or compares is E.164 ("+14155550123"): callers
// reported by carriers and numbers typed by users are normalised here first,
// so matching a missed call is plain string equality.
package phone

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// MaxInputLen bounds what Parse will look at; libphonenumber itself gives up
// at 250 characters, and nothing longer is a phone number.
const MaxInputLen = 64

// Number is a parsed, valid phone number.
type Number struct {
	E164    string // "+14155550123"
	Country string // ISO 3166-1 alpha-2 region ("US"), "001" for non-geographic
	// Line is the kind of line libphonenumber's metadata says the number
	// is (LineMobile, LineFixed, …).
	Line LineType
}

// LineType is what kind of line a number is, from libphonenumber's
// metadata (GetNumberType): by number range, so a ported number keeps its
// range's type.
type LineType string

// Line types. LineFixedOrMobile is a range that may be either (the US
// and Canada), which ringgate treats as possibly mobile.
const (
	LineFixed         LineType = "fixed_line"
	LineMobile        LineType = "mobile"
	LineFixedOrMobile LineType = "fixed_line_or_mobile"
	LineTollFree      LineType = "toll_free"
	LinePremiumRate   LineType = "premium_rate"
	LineSharedCost    LineType = "shared_cost"
	LineVoIP          LineType = "voip"
	LinePersonal      LineType = "personal_number"
	LinePager         LineType = "pager"
	LineUAN           LineType = "uan"
	LineVoicemail     LineType = "voicemail"
	LineUnknown       LineType = "unknown"
)

var lineTypes = map[phonenumbers.PhoneNumberType]LineType{
	phonenumbers.FIXED_LINE: LineFixed, phonenumbers.MOBILE: LineMobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: LineFixedOrMobile, phonenumbers.TOLL_FREE: LineTollFree,
	phonenumbers.PREMIUM_RATE: LinePremiumRate, phonenumbers.SHARED_COST: LineSharedCost,
	phonenumbers.VOIP: LineVoIP, phonenumbers.PERSONAL_NUMBER: LinePersonal, phonenumbers.PAGER: LinePager,
	phonenumbers.UAN: LineUAN, phonenumbers.VOICEMAIL: LineVoicemail,
}

// Fictional says e164 is in a range reserved for drama and testing, never
// assigned to anyone (Ofcom's: +44 20 7946 0xxx, +44 113 496 0xxx, +44 7700
// 900xxx; the NANP's 555-01xx), which the simulator uses for its phones.
func Fictional(e164 string) bool {
	for _, p := range []string{"+442079460", "+441134960", "+447700900"} {
		if strings.HasPrefix(e164, p) && len(e164) == len(p)+3 {
			return true
		}
	}
	return len(e164) == 12 && strings.HasPrefix(e164, "+1") && e164[5:10] == "55501"
}

// Error says why a string is not a usable phone number. Reason is stable and
// machine-readable; the message is for people.
type Error struct {
	Reason string // "empty", "too_long", "not_a_number", "missing_country", "too_short", "invalid_country", "invalid_number"
	msg    string
}

func (e *Error) Error() string { return e.msg }

func fail(reason, format string, args ...any) error {
	return &Error{Reason: reason, msg: fmt.Sprintf(format, args...)}
}

// Parse normalises raw to E.164. raw is either international ("+44 20 7946
// 0000", "0044…" is not accepted without a country) or national, in which case
// country (ISO alpha-2, any case) says where it is from. The number must be
// valid for its region, not merely possible: a verification to a number no
// carrier could route costs money and proves nothing.
func Parse(raw, country string) (Number, error) {
	n, err := parse(raw, country)
	if err != nil {
		return Number{}, err
	}
	if !phonenumbers.IsValidNumber(n) {
		return Number{}, invalidReason(strings.TrimSpace(raw), n)
	}
	line, ok := lineTypes[phonenumbers.GetNumberType(n)]
	if !ok {
		line = LineUnknown
	}
	return Number{
		E164:    phonenumbers.Format(n, phonenumbers.E164),
		Country: phonenumbers.GetRegionCodeForNumber(n),
		Line:    line,
	}, nil
}

// E164 is the number raw names, in E.164, without Parse's checks that it
// is a valid, assigned number and of which line type: for caller IDs,
// which are only compared with numbers Parse accepted (a number formats
// to a valid one's E.164 only if it is that number), and whose validation
// was most of an inbound call's allocations (libphonenumber matches each
// number type's patterns). Whatever Parse accepts, E164 gives the same
// E164 (FuzzParse checks it); what Parse refuses as invalid, E164 may
// still format. Parse's errors when raw does not parse at all.
func E164(raw, country string) (string, error) {
	n, err := parse(raw, country)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// parse is what Parse and E164 share: the input's checks, then
// libphonenumber's parse in country (international form only without one).
func parse(raw, country string) (*phonenumbers.PhoneNumber, error) {
	raw = strings.TrimSpace(raw)
	country = strings.ToUpper(strings.TrimSpace(country))
	switch {
	case raw == "":
		return nil, fail("empty", "phone number is empty")
	case len(raw) > MaxInputLen || !utf8.ValidString(raw):
		return nil, fail("too_long", "phone number is longer than %d characters", MaxInputLen)
	}
	if country != "" && !validRegion(country) {
		return nil, fail("invalid_country", "unknown country code %q (want ISO 3166-1 alpha-2, such as \"GB\")", country)
	}
	if !strings.HasPrefix(raw, "+") && country == "" {
		return nil, fail("missing_country", "phone number %q is not in international form (+…); give a country to read it as a national number", raw)
	}
	region := country
	if region == "" {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return nil, parseError(raw, err)
	}
	return n, nil
}

// ParseE164 accepts only a number already in international form, as carriers
// and the simulator deliver them. A bare national number is refused rather
// than guessed.
func ParseE164(raw string) (Number, error) { return Parse(raw, "") }

func parseError(raw string, err error) error {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return fail("invalid_country", "phone number %q has no valid country calling code", raw)
	case errors.Is(err, phonenumbers.ErrNotANumber):
		return fail("not_a_number", "%q is not a phone number", raw)
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return fail("too_short", "phone number %q is too short", raw)
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return fail("too_long", "phone number %q is too long", raw)
	default:
		return fail("not_a_number", "%q is not a phone number: %v", raw, err)
	}
}

func invalidReason(raw string, n *phonenumbers.PhoneNumber) error {
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.TOO_SHORT:
		return fail("too_short", "phone number %q is too short", raw)
	case phonenumbers.TOO_LONG:
		return fail("too_long", "phone number %q is too long", raw)
	case phonenumbers.INVALID_COUNTRY_CODE:
		return fail("invalid_country", "phone number %q has no valid country calling code", raw)
	}
	return fail("invalid_number", "phone number %q is not a valid number in %s", raw, regionName(n))
}

func regionName(n *phonenumbers.PhoneNumber) string {
	if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != "ZZ" {
		return r
	}
	return fmt.Sprintf("country code +%d", n.GetCountryCode())
}

func validRegion(r string) bool {
	return phonenumbers.GetCountryCodeForRegion(r) != 0
}

// ValidCountry reports whether c is an ISO region libphonenumber knows.
func ValidCountry(c string) bool { return validRegion(strings.ToUpper(c)) }

// Mask hides all but the country code and the last two digits, for pages that
// must show which number is being verified without disclosing it:
// "+442079460018" → "+44 ••••••••18".
func Mask(e164 string) string {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil || len(e164) < 4 {
		return "••••"
	}
	cc := fmt.Sprintf("+%d", n.GetCountryCode())
	rest := strings.TrimPrefix(e164, cc)
	if len(rest) <= 2 {
		return cc + " " + rest
	}
	return cc + " " + strings.Repeat("•", len(rest)-2) + rest[len(rest)-2:]
}

// Display is how to show e164 for reading aloud: National is the national
// format of its country ("020 7946 0018"), International the international
// one with spaces only ("+44 20 7946 0018"), Country its region. Both are
// "" for a string that is not a number.
type Display struct {
	National      string
	International string
	Country       string
}

// DisplayOf formats e164 for people (libphonenumber's groupings).
func DisplayOf(e164 string) Display {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return Display{}
	}
	intl := strings.NewReplacer("-", " ", "(", "", ")", "").Replace(phonenumbers.Format(n, phonenumbers.INTERNATIONAL))
	return Display{
		National:      phonenumbers.Format(n, phonenumbers.NATIONAL),
		International: intl,
		Country:       phonenumbers.GetRegionCodeForNumber(n),
	}
}
