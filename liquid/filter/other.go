package filter

import (
	"math/big"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// defaultFilter returns its argument when the input is nil, false or empty;
// with allow_false: true only nil and empty inputs are replaced.
func defaultFilter(_ Context, input any, args []any) (any, error) {
	def := arg(args, 0, "")
	allowFalse := false
	if opts, ok := arg(args, 1, nil).(*value.Map); ok {
		v, _ := opts.Get("allow_false")
		allowFalse = value.Truthy(v)
	}
	replace := !value.Truthy(input)
	if allowFalse {
		replace = input == nil
	}
	if replace || value.IsEmpty(input) {
		return def, nil
	}
	return input, nil
}

// ToTime converts a date filter input to a time as Liquid's Utils.to_date
// does: times pass through, "now" and "today" (any case) are now, integers
// and strings of digits are Unix timestamps in now's location, and other
// strings are parsed like Ruby's Time.parse. ok is false when the input
// is not a date.
func ToTime(input any, now time.Time) (time.Time, bool) {
	switch x := input.(type) {
	case time.Time:
		return x, true
	case int64:
		return time.Unix(x, 0).In(now.Location()), true
	case *big.Int:
		return time.Time{}, false
	case string:
		if x == "" {
			return time.Time{}, false
		}
		s := Downcase(x)
		if s == "now" || s == "today" {
			return now, true
		}
		if allDigits(s) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(n, 0).In(now.Location()), true
		}
		return ParseTime(s, now)
	}
	return time.Time{}, false
}

func date(c Context, input any, args []any) (any, error) {
	format := toS(args[0])
	if format == "" {
		return input, nil
	}
	t, ok := ToTime(input, c.Now())
	if !ok {
		return input, nil
	}
	out, err := Strftime(t, format)
	if err != nil {
		return nil, err
	}
	return out, nil
}
