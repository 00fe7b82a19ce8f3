package filters

import (
	"strconv"
	"strings"
	"time"
)

// Strftime formats t as Ruby's Time#strftime does, including the flags
// - _ 0 ^ # and field widths.
func Strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		start := i
		i++
		var flags []byte
		for i < len(format) && strings.IndexByte("-_0^#", format[i]) >= 0 {
			flags = append(flags, format[i])
			i++
		}
		width := -1
		ws := i
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			i++
		}
		if i > ws {
			width, _ = strconv.Atoi(format[ws:i])
			width = min(width, 1024)
		}
		colons := 0
		for i < len(format) && format[i] == ':' {
			colons++
			i++
		}
		if i >= len(format) {
			b.WriteString(format[start:])
			break
		}
		out, ok := "", colons == 0 || format[i] == 'z'
		if ok {
			out, ok = strftimeDirective(t, format[i], flags, width, colons)
		}
		if !ok {
			b.WriteString(format[start : i+1])
			continue
		}
		b.WriteString(out)
	}
	return b.String()
}

func hasFlag(flags []byte, f byte) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// pad renders s padded to width with the flags' padding (default def).
func pad(s string, flags []byte, width int, def byte) string {
	if hasFlag(flags, '-') {
		return s
	}
	p := def
	if hasFlag(flags, '_') {
		p = ' '
	} else if hasFlag(flags, '0') {
		p = '0'
	}
	if width < 0 || len(s) >= width {
		return s
	}
	neg := strings.HasPrefix(s, "-") && p == '0'
	if neg {
		s = s[1:]
		width--
	}
	s = strings.Repeat(string(p), width-len(s)) + s
	if neg {
		s = "-" + s
	}
	return s
}

func num(n int, flags []byte, width, defWidth int, def byte) string {
	if width < 0 {
		width = defWidth
	}
	return pad(strconv.Itoa(n), flags, width, def)
}

func text(s string, flags []byte, width int) string {
	if hasFlag(flags, '^') {
		s = strings.ToUpper(s)
	} else if hasFlag(flags, '#') {
		if strings.ToUpper(s) == s {
			s = strings.ToLower(s)
		} else {
			s = strings.ToUpper(s)
		}
	}
	return pad(s, flags, width, ' ')
}

// composite renders a combined directive (%c, %T, …) as Ruby does: ^
// upcases, # and - are ignored, and the width pads with spaces (zeros with
// the 0 flag).
func composite(s string, flags []byte, width int) string {
	if hasFlag(flags, '^') {
		s = strings.ToUpper(s)
	}
	p := " "
	if hasFlag(flags, '0') {
		p = "0"
	}
	if width > len(s) {
		s = strings.Repeat(p, width-len(s)) + s
	}
	return s
}

func zoneOffset(t time.Time, colons int, flags []byte, width int) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	h, m, s := off/3600, off/60%60, off%60
	var out string
	switch colons {
	case 0:
		out = pad2(h) + pad2(m)
	case 1:
		out = pad2(h) + ":" + pad2(m)
	default:
		out = pad2(h) + ":" + pad2(m) + ":" + pad2(s)
	}
	if hasFlag(flags, '_') {
		full := len(out) + 1
		out = string(sign) + strconv.Itoa(h) + out[2:]
		if w := max(width, full); w > len(out) {
			out = strings.Repeat(" ", w-len(out)) + out
		}
		return out
	}
	out = string(sign) + out
	if width > len(out) {
		out = string(sign) + strings.Repeat("0", width-len(out)) + out[1:]
	}
	return out
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func zoneName(t time.Time) string {
	name, _ := t.Zone()
	if t.Location() == time.UTC || name == "" {
		if _, off := t.Zone(); off == 0 {
			return "UTC"
		}
	}
	return name
}

func strftimeDirective(t time.Time, c byte, flags []byte, width, colons int) (string, bool) {
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'Y':
		return num(t.Year(), flags, width, 1, '0'), true
	case 'C':
		return num(t.Year()/100, flags, width, 2, '0'), true
	case 'y':
		return num(t.Year()%100, flags, width, 2, '0'), true
	case 'm':
		return num(int(t.Month()), flags, width, 2, '0'), true
	case 'B':
		return text(t.Month().String(), flags, width), true
	case 'b', 'h':
		return text(t.Month().String()[:3], flags, width), true
	case 'd':
		return num(t.Day(), flags, width, 2, '0'), true
	case 'e':
		return num(t.Day(), flags, width, 2, ' '), true
	case 'j':
		return num(t.YearDay(), flags, width, 3, '0'), true
	case 'H':
		return num(t.Hour(), flags, width, 2, '0'), true
	case 'k':
		return num(t.Hour(), flags, width, 2, ' '), true
	case 'I':
		return num(hour12, flags, width, 2, '0'), true
	case 'l':
		return num(hour12, flags, width, 2, ' '), true
	case 'P':
		p := "am"
		if t.Hour() >= 12 {
			p = "pm"
		}
		return text(p, flags, width), true
	case 'p':
		p := "AM"
		if t.Hour() >= 12 {
			p = "PM"
		}
		if hasFlag(flags, '#') {
			return pad(strings.ToLower(p), flags, width, ' '), true
		}
		return text(p, flags, width), true
	case 'M':
		return num(t.Minute(), flags, width, 2, '0'), true
	case 'S':
		return num(t.Second(), flags, width, 2, '0'), true
	case 'L', 'N':
		digits := 3
		if c == 'N' {
			digits = 9
		}
		if width > 0 {
			digits = width
		}
		ns := strconv.Itoa(t.Nanosecond())
		ns = strings.Repeat("0", 9-len(ns)) + ns
		if digits <= 9 {
			return ns[:digits], true
		}
		return ns + strings.Repeat("0", digits-9), true
	case 'z':
		return zoneOffset(t, colons, flags, width), true
	case 'Z':
		return text(zoneName(t), flags, width), true
	case 'A':
		return text(t.Weekday().String(), flags, width), true
	case 'a':
		return text(t.Weekday().String()[:3], flags, width), true
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return num(wd, flags, width, 1, '0'), true
	case 'w':
		return num(int(t.Weekday()), flags, width, 1, '0'), true
	case 'U':
		return num((t.YearDay()-1+7-int(t.Weekday()))/7, flags, width, 2, '0'), true
	case 'W':
		return num((t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7, flags, width, 2, '0'), true
	case 'G':
		y, _ := t.ISOWeek()
		return num(y, flags, width, 1, '0'), true
	case 'g':
		y, _ := t.ISOWeek()
		return num(y%100, flags, width, 2, '0'), true
	case 'V':
		_, w := t.ISOWeek()
		return num(w, flags, width, 2, '0'), true
	case 's':
		return pad(strconv.FormatInt(t.Unix(), 10), flags, width, '0'), true
	case 'n', 't', '%':
		ws := map[byte]string{'n': "\n", 't': "\t", '%': "%"}[c]
		if hasFlag(flags, '-') {
			return ws, true
		}
		return composite(ws, flags, width), true
	case 'c':
		return composite(Strftime(t, "%a %b %e %H:%M:%S %Y"), flags, width), true
	case 'D', 'x':
		return composite(Strftime(t, "%m/%d/%y"), flags, width), true
	case 'F':
		return composite(Strftime(t, "%Y-%m-%d"), flags, width), true
	case 'T', 'X':
		return composite(Strftime(t, "%H:%M:%S"), flags, width), true
	case 'R':
		return composite(Strftime(t, "%H:%M"), flags, width), true
	case 'r':
		return composite(Strftime(t, "%I:%M:%S %p"), flags, width), true
	case 'v':
		return composite(Strftime(t, "%e-%^b-%Y"), flags, width), true
	}
	return "", false
}
