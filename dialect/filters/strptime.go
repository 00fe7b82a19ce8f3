package filters

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// parseDate parses a string with a strptime format in the shop's time zone
// and returns it as an ISO 8601 string, or nil when it does not match.
// Missing upper components come from the current time, as with
// ActiveSupport's TimeZone#strptime.
func parseDate(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("parse_date", args, 1, 1); err != nil {
		return nil, err
	}
	format, ok := args[0].(string)
	if !ok {
		return nil, errorf("parse_date: format must be a string, got %s", value.TypeName(args[0]))
	}
	if input == nil {
		return nil, nil
	}
	s, err := str("parse_date", input)
	if err != nil {
		return nil, err
	}
	t, ok := Strptime(s, format, storeLocation(c), now(c))
	if !ok {
		return nil, nil
	}
	return ISO8601(t), nil
}

type dateParts struct {
	year, mon, mday, hour, min, sec, nsec int
	hasYear, hasMon, hasMday              bool
	pm, hasPM                             bool
	offset                                int
	hasOffset, utc                        bool
	unix                                  int64
	hasUnix                               bool
	yday                                  int
}

// Strptime parses s with a Ruby strptime format. Times without a zone are
// in loc; missing year, month and day come from now.
func Strptime(s, format string, loc *time.Location, now time.Time) (time.Time, bool) {
	var p dateParts
	if !strptimeInto(&p, s, format, 0) {
		return time.Time{}, false
	}
	if p.hasUnix {
		return time.Unix(p.unix, 0).In(loc), true
	}
	now = now.In(loc)
	if !p.hasYear {
		p.year = now.Year()
	}
	if !p.hasMon {
		if p.hasYear {
			p.mon = 1
		} else {
			p.mon = int(now.Month())
		}
	}
	if !p.hasMday {
		if p.hasYear || p.hasMon {
			p.mday = 1
		} else {
			p.mday = now.Day()
		}
	}
	if p.hasPM {
		if p.hour < 1 || p.hour > 12 {
			return time.Time{}, false
		}
		p.hour %= 12
		if p.pm {
			p.hour += 12
		}
	}
	// Like Ruby's Time.new, a day past the month's end (up to 31) rolls over.
	if p.mon < 1 || p.mon > 12 || p.mday < 1 || p.mday > 31 ||
		p.hour > 24 || p.min > 59 || p.sec > 60 {
		return time.Time{}, false
	}
	zone := loc
	if p.hasOffset {
		zone = time.FixedZone("", p.offset)
		if p.utc {
			zone = time.UTC
		}
	}
	t := time.Date(p.year, time.Month(p.mon), p.mday, p.hour, p.min, p.sec, p.nsec, zone)
	return t.In(loc), true
}

// readNum reads up to max digits (at least one) with an optional sign.
func readNum(s string, i, max int, signed bool) (int, int, bool) {
	start := i
	neg := false
	if signed && i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	ds := i
	for i < len(s) && i-ds < max && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == ds {
		return 0, start, false
	}
	n, err := strconv.Atoi(s[ds:i])
	if err != nil {
		return 0, start, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}

func readName(s string, i int, names []string) (int, int, bool) {
	rest := strings.ToLower(s[i:])
	best, bestLen := -1, 0
	for k, n := range names {
		n = strings.ToLower(n)
		for _, cand := range []string{n, n[:3]} {
			if strings.HasPrefix(rest, cand) && len(cand) > bestLen {
				best, bestLen = k, len(cand)
			}
		}
	}
	if best < 0 {
		return 0, i, false
	}
	return best, i + bestLen, true
}

var (
	monthList   = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	weekdayList = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

func strptimeInto(p *dateParts, s, format string, depth int) bool {
	_, ok := strptimeAt(p, s, 0, format, depth)
	return ok
}

// strptimeAt matches format against s from position i and returns the new
// position. Text left over after the format is allowed, as in Ruby.
func strptimeAt(p *dateParts, s string, i int, format string, depth int) (int, bool) {
	if depth > 4 {
		return i, false
	}
	for f := 0; f < len(format); f++ {
		c := format[f]
		if unicode.IsSpace(rune(c)) {
			for i < len(s) && unicode.IsSpace(rune(s[i])) {
				i++
			}
			continue
		}
		if c != '%' || f+1 >= len(format) {
			if i >= len(s) || s[i] != c {
				return i, false
			}
			i++
			continue
		}
		f++
		for f < len(format) && strings.IndexByte("-_0^#", format[f]) >= 0 {
			f++
		}
		colons := 0
		for f < len(format) && format[f] == ':' {
			colons++
			f++
		}
		if f >= len(format) {
			return i, false
		}
		var ok bool
		var n int
		switch format[f] {
		case 'Y':
			if n, i, ok = readNum(s, i, 5, true); ok {
				p.year, p.hasYear = n, true
			}
		case 'C':
			if n, i, ok = readNum(s, i, 2, true); ok {
				p.year, p.hasYear = n*100+p.year%100, true
			}
		case 'y':
			if n, i, ok = readNum(s, i, 2, false); ok {
				if n < 69 {
					n += 2000
				} else {
					n += 1900
				}
				p.year, p.hasYear = n, true
			}
		case 'm':
			if n, i, ok = readNum(s, i, 2, false); ok {
				p.mon, p.hasMon = n, true
			}
		case 'd', 'e':
			for format[f] == 'e' && i < len(s) && s[i] == ' ' {
				i++
			}
			if n, i, ok = readNum(s, i, 2, false); ok {
				p.mday, p.hasMday = n, true
			}
		case 'j':
			// Parsed but, as in ActiveSupport, not used to build the date.
			_, i, ok = readNum(s, i, 3, false)
		case 'H', 'k', 'I', 'l':
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if n, i, ok = readNum(s, i, 2, false); ok {
				p.hour = n
			}
		case 'M':
			if n, i, ok = readNum(s, i, 2, false); ok {
				p.min = n
			}
		case 'S':
			if n, i, ok = readNum(s, i, 2, false); ok {
				p.sec = n
			}
		case 'L', 'N':
			st := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			ok = i > st
			if ok {
				frac := s[st:i]
				if len(frac) > 9 {
					frac = frac[:9]
				}
				p.nsec, _ = strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			}
		case 'p', 'P':
			rest := strings.ToLower(s[i:])
			for _, cand := range []string{"a.m.", "p.m.", "am", "pm"} {
				if strings.HasPrefix(rest, cand) {
					p.hasPM, p.pm, ok = true, cand[0] == 'p', true
					i += len(cand)
					break
				}
			}
		case 'b', 'B', 'h':
			if n, i, ok = readName(s, i, monthList); ok {
				p.mon, p.hasMon = n+1, true
			}
		case 'a', 'A':
			_, i, ok = readName(s, i, weekdayList)
		case 'u', 'w':
			_, i, ok = readNum(s, i, 1, false)
		case 'z', 'Z':
			i, ok = readZone(p, s, i)
		case 's':
			var n64 int
			if n64, i, ok = readNum(s, i, 18, true); ok {
				p.unix, p.hasUnix = int64(n64), true
			}
		case 'n', 't':
			for i < len(s) && unicode.IsSpace(rune(s[i])) {
				i++
			}
			ok = true
		case '%':
			ok = i < len(s) && s[i] == '%'
			i++
		case 'F':
			i, ok = strptimeAt(p, s, i, "%Y-%m-%d", depth+1)
		case 'T', 'X':
			i, ok = strptimeAt(p, s, i, "%H:%M:%S", depth+1)
		case 'R':
			i, ok = strptimeAt(p, s, i, "%H:%M", depth+1)
		case 'D', 'x':
			i, ok = strptimeAt(p, s, i, "%m/%d/%y", depth+1)
		case 'r':
			i, ok = strptimeAt(p, s, i, "%I:%M:%S %p", depth+1)
		case 'c':
			i, ok = strptimeAt(p, s, i, "%a %b %e %H:%M:%S %Y", depth+1)
		default:
			return i, false
		}
		if !ok {
			return i, false
		}
		_ = colons
	}
	return i, true
}

func readZone(p *dateParts, s string, i int) (int, bool) {
	rest := s[i:]
	if strings.HasPrefix(rest, "Z") && (len(rest) == 1 || !unicode.IsLetter(rune(rest[1]))) {
		p.hasOffset, p.utc = true, true
		return i + 1, true
	}
	j := 0
	for j < len(rest) && unicode.IsLetter(rune(rest[j])) {
		j++
	}
	if j > 0 {
		off, ok := parseOffset(rest[:j])
		if !ok {
			return i, false
		}
		p.hasOffset, p.offset = true, off
		p.utc = off == 0
		return i + j, true
	}
	j = 1
	for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == ':') && j < 6 {
		j++
	}
	off, ok := parseOffset(rest[:j])
	if !ok {
		return i, false
	}
	p.hasOffset, p.offset = true, off
	return i + j, true
}
