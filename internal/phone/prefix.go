package phone

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Prefix is the start of an E.164 number that fraud controls count by: "+",
// the country calling code, and the next digits national digits ("+44791"
// for a UK mobile range with digits 3). It is "" for a string that is not a
// number in E.164 form.
func Prefix(e164 string, digits int) string {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil || !strings.HasPrefix(e164, "+") {
		return ""
	}
	cc := strconv.Itoa(int(n.GetCountryCode()))
	rest := strings.TrimPrefix(e164[1:], cc)
	if len(rest) == len(e164)-1 { // the calling code is not where E.164 puts it
		return ""
	}
	return "+" + cc + rest[:min(digits, len(rest))]
}
