package filters

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// storeLocation is the shop's time zone: the render's shop.iana_timezone
// when the context exposes variables and it names a zone, else the zone of
// the render's clock.
func storeLocation(c filter.Context) *time.Location {
	if c == nil {
		return time.UTC
	}
	if name := shopField(c, "iana_timezone"); name != "" {
		if l, err := loadZone(name); err == nil {
			return l
		}
	}
	return c.Now().Location()
}

func now(c filter.Context) time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c.Now()
}

// ISO8601 renders t as Ruby's Time#iso8601: "Z" for UTC, else the offset.
func ISO8601(t time.Time) string {
	if t.Location() == time.UTC {
		return t.Format("2006-01-02T15:04:05Z")
	}
	if name, off := t.Zone(); off == 0 && (name == "UTC" || t.Location().String() == "Etc/UTC" || t.Location().String() == "UTC") {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05-07:00")
}

var nowExpr = regexp.MustCompile(`(?i)^\s*now\s*(?:([+-])\s*(.+?))?\s*$`)

// dateFilter is Mechanic's date filter: Shopify's date with an optional
// format (ISO 8601 by default), "now" arithmetic, and the tz,
// beginning_of_*/end_of_*/middle_of_day and advance options, applied in
// that order.
func dateFilter(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("date", args, 0, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("date", kwargs, "tz", "beginning_of_year", "end_of_year",
		"beginning_of_quarter", "end_of_quarter", "beginning_of_month", "end_of_month",
		"beginning_of_week", "end_of_week", "beginning_of_day", "middle_of_day", "end_of_day",
		"advance", "format"); err != nil {
		return nil, err
	}
	format := ""
	if len(args) == 1 && args[0] != nil {
		f, ok := args[0].(string)
		if !ok {
			return nil, errorf("date: format must be a string, got %s", value.TypeName(args[0]))
		}
		format = f
	}
	if f, ok := kwarg(kwargs, "format"); ok && f != nil {
		format = value.ToS(f)
	}
	loc := storeLocation(c)
	t, ok, err := toTime(c, input, loc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return input, nil
	}
	t, err = applyDateOptions(t, kwargs)
	if err != nil {
		return nil, err
	}
	if format == "" {
		return ISO8601(t), nil
	}
	return Strftime(t, format)
}

func applyDateOptions(t time.Time, kwargs *value.Map) (time.Time, error) {
	if kwargs == nil {
		return t, nil
	}
	if tz, ok := kwarg(kwargs, "tz"); ok && tz != nil {
		name := value.ToS(tz)
		l, err := loadZone(name)
		if err != nil {
			return t, err
		}
		t = t.In(l)
	}
	on := func(k string) bool { return kwBool(kwargs, k, false) }
	y, m, d := t.Date()
	loc := t.Location()
	endOfDay := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 23, 59, 59, 999999999, loc)
	}
	switch {
	case on("beginning_of_year"):
		t = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	case on("end_of_year"):
		t = endOfDay(time.Date(y, 12, 31, 0, 0, 0, 0, loc))
	}
	y, m, d = t.Date()
	q := time.Month((int(m)-1)/3*3 + 1)
	switch {
	case on("beginning_of_quarter"):
		t = time.Date(y, q, 1, 0, 0, 0, 0, loc)
	case on("end_of_quarter"):
		t = endOfDay(time.Date(y, q+3, 0, 0, 0, 0, 0, loc))
	}
	y, m, d = t.Date()
	switch {
	case on("beginning_of_month"):
		t = time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case on("end_of_month"):
		t = endOfDay(time.Date(y, m+1, 0, 0, 0, 0, 0, loc))
	}
	for _, opt := range []string{"beginning_of_week", "end_of_week"} {
		v, ok := kwarg(kwargs, opt)
		if !ok || !value.Truthy(v) {
			continue
		}
		start := time.Monday
		if s, isStr := v.(string); isStr {
			wd, known := weekdays[strings.ToLower(strings.TrimSpace(s))]
			if !known {
				return t, errorf("date: %s must name a weekday, got %s", opt, value.InspectString(s))
			}
			start = wd
		}
		y, m, d = t.Date()
		back := (int(t.Weekday()) - int(start) + 7) % 7
		if opt == "beginning_of_week" {
			t = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		} else {
			t = endOfDay(time.Date(y, m, d-back+6, 0, 0, 0, 0, loc))
		}
		break
	}
	y, m, d = t.Date()
	switch {
	case on("beginning_of_day"):
		t = time.Date(y, m, d, 0, 0, 0, 0, loc)
	case on("middle_of_day"):
		t = time.Date(y, m, d, 12, 0, 0, 0, loc)
	case on("end_of_day"):
		t = endOfDay(t)
	}
	if adv, ok := kwarg(kwargs, "advance"); ok && adv != nil {
		var err error
		if t, err = advance(t, value.ToS(adv)); err != nil {
			return t, err
		}
	}
	return t, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func loadZone(name string) (*time.Location, error) {
	if name == "" || strings.Contains(name, "..") {
		return nil, errorf("date: invalid time zone %s", value.InspectString(name))
	}
	if strings.EqualFold(name, "UTC") || name == "Etc/UTC" {
		return time.UTC, nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, errorf("date: invalid time zone %s", value.InspectString(name))
	}
	return l, nil
}

var advanceTerm = regexp.MustCompile(`(?i)^([+-]?)\s*(\d+)\s*(years?|months?|weeks?|days?|hours?|minutes?|seconds?)\b`)

// maxAdvance bounds each advance amount so dates stay representable.
const maxAdvance = 1_000_000

// advance moves t by a duration such as "1 year 6 months" or "-3 hours, +2
// minutes": terms apply left to right; years, months, weeks and days follow
// the calendar in t's zone, and shorter units are exact.
func advance(t time.Time, spec string) (time.Time, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return t, errorf("date: invalid advance %s", value.InspectString(spec))
	}
	for s != "" {
		m := advanceTerm.FindStringSubmatch(s)
		if m == nil {
			return t, errorf("date: invalid advance %s", value.InspectString(spec))
		}
		n, err := strconv.Atoi(m[2])
		if err != nil || n > maxAdvance {
			return t, errorf("date: advance amount out of range in %s", value.InspectString(spec))
		}
		if m[1] == "-" {
			n = -n
		}
		t = advanceBy(t, n, strings.TrimSuffix(strings.ToLower(m[3]), "s"))
		s = strings.TrimLeft(s[len(m[0]):], " \t\n,")
	}
	return t, nil
}

func advanceBy(t time.Time, n int, unit string) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	loc := t.Location()
	switch unit {
	case "year":
		return addMonths(t, 12*n)
	case "month":
		return addMonths(t, n)
	case "week":
		return time.Date(y, mo, d+7*n, h, mi, sec, t.Nanosecond(), loc)
	case "day":
		return time.Date(y, mo, d+n, h, mi, sec, t.Nanosecond(), loc)
	case "hour":
		return t.Add(time.Duration(n) * time.Hour)
	case "minute":
		return t.Add(time.Duration(n) * time.Minute)
	}
	return t.Add(time.Duration(n) * time.Second)
}

// addMonths adds calendar months, clamping the day to the target month's
// length as Rails does (Jan 31 + 1 month = Feb 28 or 29).
func addMonths(t time.Time, n int) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	total := int(mo) - 1 + n
	ny := y + floorDiv(total, 12)
	nm := time.Month(total - floorDiv(total, 12)*12 + 1)
	last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(ny, nm, min(d, last), h, mi, sec, t.Nanosecond(), t.Location())
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// toTime converts a date filter input to a time in loc. ok is false when
// the input is not a date (the filter then returns it unchanged).
func toTime(c filter.Context, input any, loc *time.Location) (time.Time, bool, error) {
	switch x := input.(type) {
	case time.Time:
		return x.In(loc), true, nil
	case int64:
		return time.Unix(x, 0).In(loc), true, nil
	case *big.Int:
		return time.Time{}, false, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			return time.Time{}, false, nil
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)).In(loc), true, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, false, nil
		}
		if m := nowExpr.FindStringSubmatch(s); m != nil {
			t := now(c).In(loc)
			if m[1] != "" {
				spec := m[2]
				if m[1] == "-" {
					spec = "-" + spec
				}
				var err error
				if t, err = advance(t, spec); err != nil {
					return t, false, err
				}
			}
			return t, true, nil
		}
		if strings.EqualFold(s, "today") {
			return now(c).In(loc), true, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) != 8 {
			return time.Unix(n, 0).In(loc), true, nil
		}
		if t, ok := ParseTime(s, loc, now(c)); ok {
			return t.In(loc), true, nil
		}
	}
	return time.Time{}, false, nil
}

var (
	reTimeOfDay = `(?:[T\s]+(?:at\s+)?(\d{1,2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?)?\s*([ap]\.?m\.?)?)?`
	reZone      = `\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2}|[A-Z]{3,4})?`
	reISO       = regexp.MustCompile(`(?i)^(\d{4})[-/](\d{1,2})[-/](\d{1,2})` + reTimeOfDay + reZone + `$`)
	reCompact   = regexp.MustCompile(`(?i)^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?` + reZone + `$`)
	reDMY       = regexp.MustCompile(`(?i)^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})` + reTimeOfDay + reZone + `$`)
	reMonthDY   = regexp.MustCompile(`(?i)^(?:[a-z]+,?\s+)??([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})` + reTimeOfDay + reZone + `$`)
	reDMonthY   = regexp.MustCompile(`(?i)^(?:[a-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]{3,9})\.?[\s-]+(\d{4})` + reTimeOfDay + reZone + `$`)
	reMonthY    = regexp.MustCompile(`(?i)^([a-z]{3,9})\s+(\d{4})$`)
	reTimeOnly  = regexp.MustCompile(`(?i)^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?\s*([ap]\.?m\.?)?` + reZone + `$`)
	reHourAmPm  = regexp.MustCompile(`(?i)^(\d{1,2})\s*([ap]\.?m\.?)$`)
	reCtime     = regexp.MustCompile(`(?i)^[a-z]{3}\s+([a-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$`)
)

// monthNames maps English month names and abbreviations to months.
var monthNames = func() map[string]time.Month {
	names := map[string]time.Month{"sept": time.September}
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		names[name] = m
		names[name[:3]] = m
	}
	return names
}()

var zoneAbbrevs = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
	"MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
	"BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "JST": 9, "AEST": 10, "AEDT": 11,
}

// ParseTime reads the date and time formats Ruby's Time.parse commonly
// meets: ISO 8601 and its variants, yyyy/mm/dd, dd/mm/yyyy, RFC 2822,
// "January 2, 2006", "2 January 2006", "March 2021", a time of day (today)
// and Ruby's Time#to_s.
// Times without a zone are in loc.
func ParseTime(s string, loc *time.Location, now time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	var y, mo, d int
	var tod []string
	var zone string
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	switch {
	case reISO.MatchString(s):
		m := reISO.FindStringSubmatch(s)
		y, mo, d, tod, zone = atoi(m[1]), atoi(m[2]), atoi(m[3]), m[4:9], m[9]
	case reCompact.MatchString(s):
		m := reCompact.FindStringSubmatch(s)
		y, mo, d, zone = atoi(m[1]), atoi(m[2]), atoi(m[3]), m[7]
		tod = []string{m[4], m[5], m[6], "", ""}
	case reDMY.MatchString(s):
		m := reDMY.FindStringSubmatch(s)
		d, mo, y, tod, zone = atoi(m[1]), atoi(m[2]), atoi(m[3]), m[4:9], m[9]
	case reMonthDY.MatchString(s):
		m := reMonthDY.FindStringSubmatch(s)
		month, ok := monthNames[strings.ToLower(m[1])]
		if !ok {
			return time.Time{}, false
		}
		mo, d, y, tod, zone = int(month), atoi(m[2]), atoi(m[3]), m[4:9], m[9]
	case reDMonthY.MatchString(s):
		m := reDMonthY.FindStringSubmatch(s)
		month, ok := monthNames[strings.ToLower(m[2])]
		if !ok {
			return time.Time{}, false
		}
		d, mo, y, tod, zone = atoi(m[1]), int(month), atoi(m[3]), m[4:9], m[9]
	case reMonthY.MatchString(s):
		m := reMonthY.FindStringSubmatch(s)
		month, ok := monthNames[strings.ToLower(m[1])]
		if !ok {
			return time.Time{}, false
		}
		mo, d, y = int(month), 1, atoi(m[2])
	case reTimeOnly.MatchString(s):
		m := reTimeOnly.FindStringSubmatch(s)
		today := now.In(loc)
		y, mo, d = today.Year(), int(today.Month()), today.Day()
		tod, zone = m[1:6], m[6]
	case reHourAmPm.MatchString(s):
		m := reHourAmPm.FindStringSubmatch(s)
		today := now.In(loc)
		y, mo, d = today.Year(), int(today.Month()), today.Day()
		tod = []string{m[1], "", "", "", m[2]}
	case reCtime.MatchString(s):
		m := reCtime.FindStringSubmatch(s)
		month, ok := monthNames[strings.ToLower(m[1])]
		if !ok {
			return time.Time{}, false
		}
		mo, d, y = int(month), atoi(m[2]), atoi(m[6])
		tod = []string{m[3], m[4], m[5], "", ""}
	default:
		return time.Time{}, false
	}
	h, mi, sec, ns := 0, 0, 0, 0
	if len(tod) == 5 && tod[0] != "" {
		h, mi, sec = atoi(tod[0]), atoi(tod[1]), atoi(tod[2])
		if tod[3] != "" {
			frac := tod[3] + strings.Repeat("0", 9-len(tod[3]))
			ns = atoi(frac)
		}
		if ap := strings.ToLower(strings.ReplaceAll(tod[4], ".", "")); ap != "" {
			if h < 1 || h > 12 {
				return time.Time{}, false
			}
			if ap == "pm" && h != 12 {
				h += 12
			} else if ap == "am" && h == 12 {
				h = 0
			}
		}
	}
	// As in Ruby, a day past the month's end (up to 31) rolls over.
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	if zone != "" {
		off, ok := parseOffset(zone)
		if !ok {
			return time.Time{}, false
		}
		if off == 0 && strings.EqualFold(zone, "UTC") || zone == "Z" || strings.EqualFold(zone, "GMT") {
			return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.FixedZone("", off)), true
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), true
}

// parseOffset reads a zone: Z, a known abbreviation, or ±hh[:mm].
func parseOffset(z string) (int, bool) {
	if h, ok := zoneAbbrevs[strings.ToUpper(z)]; ok {
		return h * 3600, true
	}
	if len(z) < 3 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	digits := strings.ReplaceAll(z[1:], ":", "")
	h, err := strconv.Atoi(digits[:2])
	if err != nil {
		return 0, false
	}
	m := 0
	if len(digits) >= 4 {
		if m, err = strconv.Atoi(digits[2:4]); err != nil {
			return 0, false
		}
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}
