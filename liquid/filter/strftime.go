package filter

import (
	"strconv"
	"strings"
	"time"
)

var (
	weekdayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames   = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

// strftimeSpec is one parsed conversion: its flags, width and colons.
type strftimeSpec struct {
	noPad   bool // '-' (Ruby's LEFT flag: no padding for numbers and text)
	padChar byte // ' ' for '_', '0' for '0', 0 when neither (or reset by '-')
	upper   bool // '^'
	swap    bool // '#'
	width   int  // -1 when not given
	colons  int
}

// Strftime formats t as Ruby's Time#strftime does, including the flags
// - _ 0 ^ #, field widths and the colon forms of %z. Unknown conversions are
// copied through unchanged; a format ending inside a conversion is an
// error ("invalid format: …"), as in Ruby. A time whose location is
// time.UTC is a Ruby UTC time (its %-z is "-0000"); any other location,
// even one named "UTC", is a local time.
func Strftime(t time.Time, format string) (string, error) {
	var b strings.Builder
	b.Grow(len(format) + 16)
	for i := 0; i < len(format); {
		if format[i] != '%' {
			b.WriteByte(format[i])
			i++
			continue
		}
		next, ok := conversionAt(t, format, i, &b)
		if !ok {
			return "", Errorf("invalid format: %s", format)
		}
		i = next
	}
	return b.String(), nil
}

// conversionAt formats the conversion starting with the '%' at format[i]
// into b and returns the index after it; ok is false when the format ends
// inside the conversion. Unknown conversions are copied, up to and
// including the character that is not understood, as Ruby does.
func conversionAt(t time.Time, format string, i int, b *strings.Builder) (next int, ok bool) {
	spec := strftimeSpec{width: -1}
	j := i + 1
	for {
		if j >= len(format) {
			return 0, false
		}
		c := format[j]
		switch {
		case c == '-':
			spec.noPad = true
			spec.padChar = 0
		case c == '_':
			spec.padChar = ' '
		case c == '0':
			spec.padChar = '0'
		case c == '^':
			spec.upper = true
		case c == '#':
			spec.swap = true
		case c >= '1' && c <= '9':
			w := 0
			for j < len(format) && isDigit(format[j]) {
				if w < 1<<20 {
					w = w*10 + int(format[j]-'0')
				}
				j++
			}
			spec.width = w
			continue
		case c == ':':
			n := 1
			for n < 3 && j+n < len(format) && format[j+n] == ':' {
				n++
			}
			if j+n >= len(format) || format[j+n] != 'z' {
				b.WriteString(format[i : j+1])
				return j + 1, true
			}
			spec.colons = n
			j += n
			continue
		case c == 'E' && j+1 < len(format) && strings.IndexByte("cCxXyY", format[j+1]) >= 0,
			c == 'O' && j+1 < len(format) && strings.IndexByte("deHkIlmMSuUVwWy", format[j+1]) >= 0:
		default:
			out, known := convert(t, c, spec)
			if !known {
				out = format[i : j+1]
			}
			b.WriteString(out)
			return j + 1, true
		}
		j++
	}
}

// sub formats one of the fixed composite conversions (%c, %F …), whose
// formats are always valid.
func sub(t time.Time, format string) string {
	s, _ := Strftime(t, format)
	return s
}

// num formats a number with a default width and padding character.
func (s strftimeSpec) num(v int64, defWidth int, defPad byte) string {
	digits := strconv.FormatInt(v, 10)
	if s.noPad {
		return digits
	}
	width := defWidth
	if s.width >= 0 {
		width = s.width
	}
	pad := defPad
	if s.padChar != 0 {
		pad = s.padChar
	}
	if len(digits) >= width {
		return digits
	}
	if pad == '0' && v < 0 {
		return "-" + strings.Repeat("0", width-len(digits)) + digits[1:]
	}
	return strings.Repeat(string(pad), width-len(digits)) + digits
}

// str pads a textual field to the requested width.
func (s strftimeSpec) str(v string) string {
	if s.upper {
		v = strings.ToUpper(v)
	}
	if s.noPad || s.width < 0 {
		return v
	}
	n := charLen(v)
	if n >= s.width {
		return v
	}
	pad := " "
	if s.padChar == '0' {
		pad = "0"
	}
	return strings.Repeat(pad, s.width-n) + v
}

func convert(t time.Time, c byte, s strftimeSpec) (string, bool) {
	switch c {
	case 'Y':
		y := int64(t.Year())
		if y < 0 {
			return s.num(y, 5, '0'), true
		}
		return s.num(y, 4, '0'), true
	case 'C':
		return s.num(floorDiv(int64(t.Year()), 100), 2, '0'), true
	case 'y':
		return s.num(floorMod(int64(t.Year()), 100), 2, '0'), true
	case 'm':
		return s.num(int64(t.Month()), 2, '0'), true
	case 'd':
		return s.num(int64(t.Day()), 2, '0'), true
	case 'e':
		return s.num(int64(t.Day()), 2, ' '), true
	case 'j':
		return s.num(int64(t.YearDay()), 3, '0'), true
	case 'H':
		return s.num(int64(t.Hour()), 2, '0'), true
	case 'k':
		return s.num(int64(t.Hour()), 2, ' '), true
	case 'I', 'l':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		if c == 'I' {
			return s.num(int64(h), 2, '0'), true
		}
		return s.num(int64(h), 2, ' '), true
	case 'M':
		return s.num(int64(t.Minute()), 2, '0'), true
	case 'S':
		return s.num(int64(t.Second()), 2, '0'), true
	case 'L', 'N':
		digits := 9
		if c == 'L' {
			digits = 3
		}
		if s.width > 0 {
			digits = s.width
		}
		frac := strconv.Itoa(t.Nanosecond())
		frac = strings.Repeat("0", 9-len(frac)) + frac
		if digits <= 9 {
			return frac[:digits], true
		}
		return frac + strings.Repeat("0", digits-9), true
	case 'z':
		return s.zone(t)
	case 'Z':
		name, _ := t.Zone()
		if name == "" {
			return "", true
		}
		if s.swap {
			name = strings.ToLower(name)
		}
		return s.str(name), true
	case 'A', 'a':
		name := weekdayNames[t.Weekday()]
		if c == 'a' {
			name = name[:3]
		}
		if s.swap {
			name = strings.ToUpper(name)
		}
		return s.str(name), true
	case 'B', 'b', 'h':
		name := monthNames[t.Month()-1]
		if c != 'B' {
			name = name[:3]
		}
		if s.swap {
			name = strings.ToUpper(name)
		}
		return s.str(name), true
	case 'p', 'P':
		v := "AM"
		if t.Hour() >= 12 {
			v = "PM"
		}
		if c == 'p' && s.swap || c == 'P' && !s.swap {
			v = strings.ToLower(v)
		}
		return s.str(v), true
	case 'u':
		wd := int64(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return s.num(wd, 1, '0'), true
	case 'w':
		return s.num(int64(t.Weekday()), 1, '0'), true
	case 'U':
		return s.num(int64((t.YearDay()+6-int(t.Weekday()))/7), 2, '0'), true
	case 'W':
		wd := (int(t.Weekday()) + 6) % 7
		return s.num(int64((t.YearDay()+6-wd)/7), 2, '0'), true
	case 'G':
		y, _ := t.ISOWeek()
		if y < 0 {
			return s.num(int64(y), 5, '0'), true
		}
		return s.num(int64(y), 4, '0'), true
	case 'g':
		y, _ := t.ISOWeek()
		return s.num(floorMod(int64(y), 100), 2, '0'), true
	case 'V':
		_, w := t.ISOWeek()
		return s.num(int64(w), 2, '0'), true
	case 's':
		return s.num(t.Unix(), 1, '0'), true
	case 'n':
		return s.str("\n"), true
	case 't':
		return s.str("\t"), true
	case '%':
		return s.str("%"), true
	case 'c':
		return s.str(sub(t, "%a %b %e %H:%M:%S %Y")), true
	case 'D', 'x':
		return s.str(sub(t, "%m/%d/%y")), true
	case 'F':
		return s.str(sub(t, "%Y-%m-%d")), true
	case 'T', 'X':
		return s.str(sub(t, "%H:%M:%S")), true
	case 'R':
		return s.str(sub(t, "%H:%M")), true
	case 'r':
		return s.str(sub(t, "%I:%M:%S %p")), true
	case 'v':
		return s.str(sub(t, "%e-%^b-%4Y")), true
	}
	return "", false
}

// zone formats the UTC offset for %z, %:z, %::z and %:::z; a width pads
// the hours, with zeros unless the '_' flag asks for spaces.
func (s strftimeSpec) zone(t time.Time) (string, bool) {
	_, off := t.Zone()
	neg := off < 0 || t.Location() == time.UTC && s.noPad
	aoff := off
	if aoff < 0 {
		aoff = -aoff
	}
	two := func(v int) string {
		if v < 10 {
			return "0" + strconv.Itoa(v)
		}
		return strconv.Itoa(v)
	}
	mm, ss := two(aoff/60%60), two(aoff%60)
	prec := s.width
	hoursWidth := func(limit, extra int) int {
		if prec <= limit {
			return 2
		}
		return prec - extra
	}
	var width int
	var tail string
	switch s.colons {
	case 0:
		width, tail = hoursWidth(5, 3), mm
	case 1:
		width, tail = hoursWidth(6, 4), ":"+mm
	case 2:
		width, tail = hoursWidth(9, 7), ":"+mm+":"+ss
	case 3:
		switch {
		case aoff%3600 == 0:
			width = hoursWidth(3, 1)
		case aoff%60 == 0:
			width, tail = hoursWidth(6, 4), ":"+mm
		default:
			width, tail = hoursWidth(9, 7), ":"+mm+":"+ss
		}
	default:
		return "", false
	}
	sign := "+"
	if neg {
		sign = "-"
	}
	hours := strconv.Itoa(aoff / 3600)
	if s.padChar == ' ' {
		field := sign + hours
		if len(field) < width+1 {
			field = strings.Repeat(" ", width+1-len(field)) + field
		}
		return field + tail, true
	}
	if len(hours) < width {
		hours = strings.Repeat("0", width-len(hours)) + hours
	}
	return sign + hours + tail, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	return a - floorDiv(a, b)*b
}
