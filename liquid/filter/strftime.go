package filter

import (
	"math"
	"strconv"
	"strings"
	"time"
)

var (
	weekdayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames   = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

// strftimeSpec is the state of one conversion being parsed: Ruby's
// precision (width), flags, padding character and colons.
type strftimeSpec struct {
	width   int  // -1 when not given
	left    bool // '-': no padding for numbers and text
	upper   bool // '^', or set by a conversion
	lower   bool // set by a conversion
	chcase  bool // '#'
	padChar byte // ' ' for '_', '0' for '0', 0 when neither (or reset by '-')
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
		next, err := conversionAt(t, format, i, &b)
		if err != nil {
			return "", err
		}
		if b.Len() > maxStrftimeOutput {
			return "", Errorf("Memory limits exceeded")
		}
		i = next
	}
	return b.String(), nil
}

// maxStrftimeOutput bounds the text Strftime produces and maxFieldWidth
// the width of one field; Ruby would build such strings, but they only
// serve to exhaust memory.
const (
	maxStrftimeOutput = 1 << 20
	maxFieldWidth     = 1 << 16
)

// sub formats one of the fixed composite conversions (%c, %F …), whose
// formats are always valid.
func sub(t time.Time, format string) string {
	s, _ := Strftime(t, format)
	return s
}

// conversionAt formats the conversion whose '%' is at format[i] into b and
// returns the index after it; it fails when the format ends inside the
// conversion or asks for a field wider than maxFieldWidth. A conversion Ruby does not understand is copied, up to and
// including the character that stopped it, and formatting resumes after
// that character.
func conversionAt(t time.Time, format string, i int, b *strings.Builder) (next int, err error) {
	s := strftimeSpec{width: -1}
	j := i
	unknown := func() (int, error) {
		b.WriteString(format[i : j+1])
		return j + 1, nil
	}
	for {
		j++
		if j >= len(format) {
			return 0, Errorf("invalid format: %s", format)
		}
		c := format[j]
		switch c {
		case '-', '^', '#', '_':
			if s.width > 0 {
				return unknown()
			}
			switch c {
			case '-':
				s.left, s.padChar, s.width = true, 0, 0
			case '^':
				s.upper = true
			case '#':
				s.chcase = true
			case '_':
				s.padChar = ' '
			}
			continue
		case ':':
			n := 1
			for ; n <= 3; n++ {
				if j+n >= len(format) {
					return unknown()
				}
				if format[j+n] == 'z' {
					break
				}
				if format[j+n] != ':' {
					return unknown()
				}
			}
			s.colons = n
			j += n - 1
			continue
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if c == '0' {
				s.padChar = '0'
			}
			k := j
			w := 0
			for k < len(format) && isDigit(format[k]) {
				if w > math.MaxInt32/10 {
					return unknown()
				}
				w = w*10 + int(format[k]-'0')
				k++
			}
			if w > math.MaxInt32 {
				return unknown()
			}
			if w > maxFieldWidth {
				return 0, Errorf("Memory limits exceeded")
			}
			s.width = w
			j = k - 1
			continue
		case 'E', 'O':
			set := "cCxXyY"
			if c == 'O' {
				set = "deHkIlmMSuUVwWy"
			}
			if j+1 < len(format) && strings.IndexByte(set, format[j+1]) >= 0 {
				continue
			}
			return unknown()
		case 'z':
			out, ok := s.zone(t)
			if !ok {
				// Ruby backs up and copies the conversion without the z.
				j--
				return unknown()
			}
			b.WriteString(out)
			return j + 1, nil
		}
		out, known := convert(t, c, s)
		if !known {
			return unknown()
		}
		b.WriteString(out)
		return j + 1, nil
	}
}

// num formats a number as Ruby's FMT does: the '-' flag drops padding,
// otherwise the width (or the default) is filled with zeros or spaces.
func (s strftimeSpec) num(v int64, defWidth int, defPad byte) string {
	width := defWidth
	switch {
	case s.left:
		width = 1
	case s.width > 0:
		width = s.width
	}
	digits := strconv.FormatInt(v, 10)
	if len(digits) >= width {
		return digits
	}
	if s.padChar == '0' || s.padChar == 0 && defPad == '0' {
		if v < 0 {
			return "-" + strings.Repeat("0", width-len(digits)) + digits[1:]
		}
		return strings.Repeat("0", width-len(digits)) + digits
	}
	return strings.Repeat(" ", width-len(digits)) + digits
}

// caseConv applies the case flags to a conversion's text.
func (s strftimeSpec) caseConv(v string) string {
	switch {
	case s.upper && !s.lower:
		return strings.ToUpper(v)
	case s.lower && !s.upper:
		return strings.ToLower(v)
	}
	return v
}

// pad fills a textual field to the width unless '-' was given.
func (s strftimeSpec) pad(v string) string {
	if s.left || s.width <= len(v) {
		return v
	}
	p := byte(' ')
	if s.padChar != 0 {
		p = s.padChar
	}
	return strings.Repeat(string(p), s.width-len(v)) + v
}

// text formats a name (weekday, month, AM/PM, zone).
func (s strftimeSpec) text(v string) string {
	if v == "" {
		return ""
	}
	return s.pad(s.caseConv(v))
}

// composite formats a fixed sub-format (%c, %D …): case flags apply, and
// the width pads even with the '-' flag, as in Ruby.
func (s strftimeSpec) composite(t time.Time, format string) string {
	v := s.caseConv(sub(t, format))
	if s.width <= len(v) {
		return v
	}
	p := byte(' ')
	if s.padChar != 0 {
		p = s.padChar
	}
	return strings.Repeat(string(p), s.width-len(v)) + v
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
	case 'Z':
		if s.chcase {
			s.upper, s.chcase, s.lower = false, false, true
		}
		if t.Location() == time.UTC {
			return s.text("UTC"), true
		}
		name, _ := t.Zone()
		return s.text(name), true
	case 'A', 'a':
		if s.chcase {
			s.lower, s.chcase, s.upper = false, false, true
		}
		name := weekdayNames[t.Weekday()]
		if c == 'a' {
			name = name[:3]
		}
		return s.text(name), true
	case 'B', 'b', 'h':
		if s.chcase {
			s.lower, s.chcase, s.upper = false, false, true
		}
		name := monthNames[t.Month()-1]
		if c != 'B' {
			name = name[:3]
		}
		return s.text(name), true
	case 'p', 'P':
		if c == 'p' && s.chcase || c == 'P' && !s.chcase && !s.upper {
			s.upper, s.chcase, s.lower = false, false, true
		}
		v := "AM"
		if t.Hour() >= 12 {
			v = "PM"
		}
		return s.text(v), true
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
		return s.pad("\n"), true
	case 't':
		return s.pad("\t"), true
	case '%':
		return s.pad("%"), true
	case 'c':
		return s.composite(t, "%a %b %e %H:%M:%S %Y"), true
	case 'D', 'x':
		return s.composite(t, "%m/%d/%y"), true
	case 'F':
		return s.composite(t, "%Y-%m-%d"), true
	case 'T', 'X':
		return s.composite(t, "%H:%M:%S"), true
	case 'R':
		return s.composite(t, "%H:%M"), true
	case 'r':
		return s.composite(t, "%I:%M:%S %p"), true
	case 'v':
		return s.composite(t, "%e-%^b-%4Y"), true
	}
	return "", false
}

// zone formats the UTC offset for %z, %:z, %::z and %:::z; a width pads
// the hours, with zeros unless the '_' flag asks for spaces. ok is false
// for more colons than Ruby knows.
func (s strftimeSpec) zone(t time.Time) (string, bool) {
	_, off := t.Zone()
	neg := off < 0 || t.Location() == time.UTC && s.left
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
