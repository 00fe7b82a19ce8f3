package filter

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateParts is what the date string parser found, as Ruby's Date._parse
// hash: nil fields were not present.
type dateParts struct {
	year, yday, mon, mday, hour, min, sec *int64
	secFraction                           *big.Rat
	zone                                  *string
	wday                                  *int64
	bc                                    bool
	comp                                  bool
}

func ip(v int64) *int64 { return &v }

// atoi64 parses an optionally signed decimal, saturating on overflow.
func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return 0
		}
		if b.Sign() < 0 {
			return -1 << 62
		}
		return 1 << 62
	}
	return n
}

const abbrMonths = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"

var (
	reNonDate = regexp.MustCompile(`[^-+',./:@\p{L}\p{N}\[\]]+`)
	reDay     = regexp.MustCompile(`(?i)\b(sun|mon|tue|wed|thu|fri|sat)[^-/\d\s]*`)
	reTime    = regexp.MustCompile(`(?i)((?:\d+\s*:\s*\d+(?:\s*:\s*\d+(?:[,.]\d*)?)?|\d+\s*h(?:\s*\d+m?(?:\s*\d+s?)?)?)(?:\s*[ap](?:m\b|\.m\.))?|\d+\s*[ap](?:m\b|\.m\.))(?:\s*((?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?|(?-i:[[:alpha:].\s]+)(?:standard|daylight)\stime\b|(?-i:[[:alpha:]]+)(?:\sdst)?\b))?`)
	reTime2   = regexp.MustCompile(`(?i)\A(\d+)h?(?:\s*:?\s*(\d+)m?(?:\s*:?\s*(\d+)(?:[,.](\d+))?s?)?)?(?:\s*([ap])(?:m\b|\.m\.))?`)
	reEU      = regexp.MustCompile(`(?i)('?\d+)[^-\d\s]*\s*(` + abbrMonths + `)[^-\d\s']*(?:\s*(c(?:e|\.e\.)|b(?:ce|\.c\.e\.)|a(?:d|\.d\.)|b(?:c|\.c\.))?\s*('?-?\d+(?:(?:st|nd|rd|th)\b)?))?`)
	reUS      = regexp.MustCompile(`(?i)\b(` + abbrMonths + `)[^-\d\s']*\s*('?\d+)[^-\d\s']*(?:\s*,?\s*(c(?:e|\.e\.)|b(?:ce|\.c\.e\.)|a(?:d|\.d\.)|b(?:c|\.c\.))?\s*('?-?\d+))?`)
	reISO     = regexp.MustCompile(`('?[-+]?\d+)-(\d+)-('?-?\d+)`)
	reJIS     = regexp.MustCompile(`(?i)\b([mtsh])(\d+)\.(\d+)\.(\d+)`)
	reVMS11   = regexp.MustCompile(`(?i)('?-?\d+)-(` + abbrMonths + `)[^-/.]*-('?-?\d+)`)
	reVMS12   = regexp.MustCompile(`(?i)\b(` + abbrMonths + `)[^-/.]*-('?-?\d+)(?:-('?-?\d+))?`)
	reSla     = regexp.MustCompile(`(?i)('?-?\d+)/\s*('?\d+)(?:\D\s*('?-?\d+))?`)
	reDot     = regexp.MustCompile(`(?i)('?-?\d+)\.\s*('?\d+)\.\s*('?-?\d+)`)
	reISO21   = regexp.MustCompile(`(?i)\b(\d{2}|\d{4})?-?w(\d{2})(?:-?(\d))?\b`)
	reISO22   = regexp.MustCompile(`(?i)-w-(\d)\b`)
	reISO23   = regexp.MustCompile(`--(\d{2})?-(\d{2})\b`)
	reISO24   = regexp.MustCompile(`--(\d{2})(\d{2})?\b`)
	reISO25a  = regexp.MustCompile(`[,.](\d{2}|\d{4})-\d{3}\b`)
	reISO25   = regexp.MustCompile(`\b(\d{2}|\d{4})-(\d{3})\b`)
	reISO26a  = regexp.MustCompile(`\d-\d{3}\b`)
	reISO26   = regexp.MustCompile(`\b-(\d{3})\b`)
	reYear    = regexp.MustCompile(`'(\d+)\b`)
	reMon     = regexp.MustCompile(`(?i)\b(` + abbrMonths + `)\S*`)
	reMday    = regexp.MustCompile(`(?i)(\d+)(st|nd|rd|th)\b`)
	reDDD     = regexp.MustCompile(`(?i)([-+]?)(\d{2,14})(?:\s*t?\s*(\d{2,6})?(?:[,.](\d*))?)?(?:\s*(z\b|[-+]\d{1,4}\b|\[[-+]?\d[^\]]*\]))?`)
	reBC      = regexp.MustCompile(`(?i)\b(bc\b|bce\b|b\.c\.|b\.c\.e\.)`)
	reFrag    = regexp.MustCompile(`(?i)\A\s*(\d{1,2})\s*\z`)
)

// parser holds the string being consumed by Date._parse's sub-parsers.
type parser struct {
	s string
	h dateParts
}

// group returns submatch n of m in p.s, and whether it took part.
func group(s string, m []int, n int) (string, bool) {
	if m[2*n] < 0 {
		return "", false
	}
	return s[m[2*n]:m[2*n+1]], true
}

func optGroup(s string, m []int, n int) *string {
	g, ok := group(s, m, n)
	if !ok {
		return nil
	}
	return &g
}

// sub finds re in the string; on a match it calls cb with the match and
// replaces the matched text with one space, as Ruby's subx does.
func (p *parser) sub(re *regexp.Regexp, cb func(s string, m []int) bool) bool {
	m := re.FindStringSubmatchIndex(p.s)
	if m == nil {
		return false
	}
	s := p.s
	p.s = s[:m[0]] + " " + s[m[1]:]
	return cb(s, m) || true
}

const (
	haveAlpha = 1 << iota
	haveDigit
	haveDash
	haveDot
	haveSlash
)

func (p *parser) have(flags int) bool {
	got := 0
	for i := 0; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			got |= haveAlpha
		case c >= '0' && c <= '9':
			got |= haveDigit
		case c == '-':
			got |= haveDash
		case c == '.':
			got |= haveDot
		case c == '/':
			got |= haveSlash
		}
	}
	return got&flags == flags
}

func monNum(s string) int64 {
	s = strings.ToLower(s)
	for i, m := range strings.Split(abbrMonths, "|") {
		if strings.HasPrefix(s, m) {
			return int64(i + 1)
		}
	}
	return 13
}

func dayNum(s string) int64 {
	s = strings.ToLower(s)
	for i, d := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
		if strings.HasPrefix(s, d) {
			return int64(i)
		}
	}
	return 7
}

func isSign(c byte) bool { return c == '-' || c == '+' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitSpan(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// s3e assigns year, month and day from three ambiguous fields the way
// Ruby's date parser does.
func (p *parser) s3e(y, m, d *string, bc bool) {
	if y != nil && m != nil && d == nil {
		y, m, d = nil, y, m
	}
	if y == nil {
		if d != nil && len(*d) > 2 {
			y, d = d, nil
		}
		if d != nil && len(*d) > 0 && (*d)[0] == '\'' {
			y, d = d, nil
		}
	}
	if y != nil {
		s := *y
		i := 0
		for i < len(s) && !isSign(s[i]) && !isDigit(s[i]) {
			i++
		}
		if i < len(s) {
			bp := i
			if isSign(s[i]) {
				i++
			}
			ep := i + digitSpan(s[i:])
			if ep < len(s) {
				num := s[bp:ep]
				y, d = d, &num
			}
		}
	}
	if m != nil && ((*m) != "" && (*m)[0] == '\'' || len(*m) > 2) {
		y, m, d = m, d, y
	}
	if d != nil && ((*d) != "" && (*d)[0] == '\'' || len(*d) > 2) {
		y, d = d, y
	}
	comp := true
	if y != nil {
		s := *y
		i := 0
		for i < len(s) && !isSign(s[i]) && !isDigit(s[i]) {
			i++
		}
		if i < len(s) {
			bp := i
			if isSign(s[i]) {
				i++
				comp = false
			}
			l := digitSpan(s[i:])
			if l > 2 {
				comp = false
			}
			p.h.year = ip(atoi64(s[bp : i+l]))
		}
	}
	if bc {
		p.h.bc = true
	}
	digitsOf := func(s string) *int64 {
		i := 0
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		if i >= len(s) {
			return nil
		}
		return ip(atoi64(s[i : i+digitSpan(s[i:])]))
	}
	if m != nil {
		if v := digitsOf(*m); v != nil {
			p.h.mon = v
		}
	}
	if d != nil {
		if v := digitsOf(*d); v != nil {
			p.h.mday = v
		}
	}
	if !comp {
		p.h.comp = false
	}
}

func isBC(b *string) bool {
	return b != nil && *b != "" && (*b)[0] == 'b' || b != nil && *b != "" && (*b)[0] == 'B'
}

// dateParse is Ruby's Date._parse(str, true) for the fields Time.parse uses.
func dateParse(str string) dateParts {
	p := &parser{s: reNonDate.ReplaceAllString(str, " ")}
	p.h.comp = true
	if p.have(haveAlpha) {
		p.sub(reDay, func(s string, m []int) bool {
			g, _ := group(s, m, 1)
			p.h.wday = ip(dayNum(g))
			return true
		})
	}
	if p.have(haveDigit) {
		p.sub(reTime, func(s string, m []int) bool {
			t, _ := group(s, m, 1)
			p.h.zone = optGroup(s, m, 2)
			tm := reTime2.FindStringSubmatchIndex(t)
			if tm == nil {
				return false
			}
			hs, _ := group(t, tm, 1)
			h := atoi64(hs)
			if ap, ok := group(t, tm, 5); ok {
				h %= 12
				if ap == "p" || ap == "P" {
					h += 12
				}
			}
			p.h.hour = ip(h)
			if v, ok := group(t, tm, 2); ok {
				p.h.min = ip(atoi64(v))
			}
			if v, ok := group(t, tm, 3); ok {
				p.h.sec = ip(atoi64(v))
			}
			if v, ok := group(t, tm, 4); ok {
				p.h.secFraction = fraction(v)
			}
			return true
		})
	}
	p.dateFields()
	if p.have(haveAlpha) {
		p.sub(reBC, func(string, []int) bool { p.h.bc = true; return true })
	}
	if p.have(haveDigit) {
		p.sub(reFrag, func(s string, m []int) bool {
			g, _ := group(s, m, 1)
			n := atoi64(g)
			if p.h.hour != nil && p.h.mday == nil && n >= 1 && n <= 31 {
				p.h.mday = ip(n)
			}
			if p.h.mday != nil && p.h.hour == nil && n >= 0 && n <= 24 {
				p.h.hour = ip(n)
			}
			return true
		})
	}
	if p.h.bc && p.h.year != nil {
		p.h.year = ip(-*p.h.year + 1)
	}
	if p.h.comp && p.h.year != nil && *p.h.year >= 0 && *p.h.year <= 99 {
		if *p.h.year >= 69 {
			*p.h.year += 1900
		} else {
			*p.h.year += 2000
		}
	}
	return p.h
}

func fraction(digits string) *big.Rat {
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		n = new(big.Int)
	}
	return new(big.Rat).SetFrac(n, pow10(len(digits)))
}

// dateFields runs the date sub-parsers in Ruby's order until one matches.
func (p *parser) dateFields() {
	s3 := func(yi, mi, di, bi int, monthName bool) func(string, []int) bool {
		return func(s string, m []int) bool {
			y, mo, d := optGroup(s, m, yi), optGroup(s, m, mi), optGroup(s, m, di)
			var b *string
			if bi > 0 {
				b = optGroup(s, m, bi)
			}
			if monthName && mo != nil {
				n := strconv.FormatInt(monNum(*mo), 10)
				mo = &n
			}
			p.s3e(y, mo, d, isBC(b))
			return true
		}
	}
	if p.have(haveAlpha | haveDigit) {
		if p.sub(reEU, s3(4, 2, 1, 3, true)) {
			return
		}
		if p.sub(reUS, s3(4, 1, 2, 3, true)) {
			return
		}
	}
	if p.have(haveDigit|haveDash) && p.sub(reISO, s3(1, 2, 3, 0, false)) {
		return
	}
	if p.have(haveDigit|haveDot) && p.sub(reJIS, func(s string, m []int) bool {
		e, _ := group(s, m, 1)
		y, _ := group(s, m, 2)
		mo, _ := group(s, m, 3)
		d, _ := group(s, m, 4)
		era := map[byte]int64{'m': 1867, 't': 1911, 's': 1925, 'h': 1988}[strings.ToLower(e)[0]]
		p.h.year = ip(atoi64(y) + era)
		p.h.mon = ip(atoi64(mo))
		p.h.mday = ip(atoi64(d))
		return true
	}) {
		return
	}
	if p.have(haveAlpha | haveDigit | haveDash) {
		if p.sub(reVMS11, s3(3, 2, 1, 0, true)) {
			return
		}
		if p.sub(reVMS12, s3(3, 1, 2, 0, true)) {
			return
		}
	}
	if p.have(haveDigit|haveSlash) && p.sub(reSla, s3(1, 2, 3, 0, false)) {
		return
	}
	if p.have(haveDigit|haveDot) && p.sub(reDot, s3(1, 2, 3, 0, false)) {
		return
	}
	if p.have(haveDigit) && p.iso2() {
		return
	}
	if p.have(haveDigit) && p.sub(reYear, func(s string, m []int) bool {
		g, _ := group(s, m, 1)
		p.h.year = ip(atoi64(g))
		return true
	}) {
		return
	}
	if p.have(haveAlpha) && p.sub(reMon, func(s string, m []int) bool {
		g, _ := group(s, m, 1)
		p.h.mon = ip(monNum(g))
		return true
	}) {
		return
	}
	if p.have(haveDigit) && p.sub(reMday, func(s string, m []int) bool {
		g, _ := group(s, m, 1)
		p.h.mday = ip(atoi64(g))
		return true
	}) {
		return
	}
	if p.have(haveDigit) {
		p.sub(reDDD, p.ddd)
	}
}

func (p *parser) iso2() bool {
	if p.sub(reISO21, func(string, []int) bool { return true }) {
		return true
	}
	if p.sub(reISO22, func(string, []int) bool { return true }) {
		return true
	}
	if p.sub(reISO23, func(s string, m []int) bool {
		if v, ok := group(s, m, 1); ok {
			p.h.mon = ip(atoi64(v))
		}
		v, _ := group(s, m, 2)
		p.h.mday = ip(atoi64(v))
		return true
	}) {
		return true
	}
	if p.sub(reISO24, func(s string, m []int) bool {
		v, _ := group(s, m, 1)
		p.h.mon = ip(atoi64(v))
		if v, ok := group(s, m, 2); ok {
			p.h.mday = ip(atoi64(v))
		}
		return true
	}) {
		return true
	}
	if !reISO25a.MatchString(p.s) && p.sub(reISO25, func(s string, m []int) bool {
		y, _ := group(s, m, 1)
		d, _ := group(s, m, 2)
		p.h.year = ip(atoi64(y))
		p.h.yday = ip(atoi64(d))
		return true
	}) {
		return true
	}
	if !reISO26a.MatchString(p.s) && p.sub(reISO26, func(s string, m []int) bool {
		d, _ := group(s, m, 1)
		p.h.yday = ip(atoi64(d))
		return true
	}) {
		return true
	}
	return false
}

// ddd reads runs of digits such as 20240105 or 20240105T103000.
func (p *parser) ddd(s string, m []int) bool {
	sign, _ := group(s, m, 1)
	s2, _ := group(s, m, 2)
	s3, has3 := group(s, m, 3)
	s4, has4 := group(s, m, 4)
	two := func(str string, from, width int) *int64 { return ip(atoi64(str[from : from+width])) }
	signed := func(v *int64) *int64 {
		if sign == "-" {
			return ip(-*v)
		}
		return v
	}
	timeOnly := !has3 && has4
	l2 := len(s2)
	switch l2 {
	case 2:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
		} else {
			p.h.mday = two(s2, 0, 2)
		}
	case 4:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-4, 2)
		} else {
			p.h.mon = two(s2, 0, 2)
			p.h.mday = two(s2, 2, 2)
		}
	case 6:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-4, 2)
			p.h.hour = two(s2, l2-6, 2)
		} else {
			p.h.year = signed(two(s2, 0, 2))
			p.h.mon = two(s2, 2, 2)
			p.h.mday = two(s2, 4, 2)
		}
	case 8, 10, 12, 14:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-4, 2)
			p.h.hour = two(s2, l2-6, 2)
			p.h.mday = two(s2, l2-8, 2)
			if l2 >= 10 {
				p.h.mon = two(s2, l2-10, 2)
			}
			if l2 == 12 {
				p.h.year = signed(two(s2, l2-12, 2))
			}
			if l2 == 14 {
				p.h.year = signed(two(s2, l2-14, 4))
				p.h.comp = false
			}
		} else {
			p.h.year = signed(two(s2, 0, 4))
			p.h.mon = two(s2, 4, 2)
			p.h.mday = two(s2, 6, 2)
			if l2 >= 10 {
				p.h.hour = two(s2, 8, 2)
			}
			if l2 >= 12 {
				p.h.min = two(s2, 10, 2)
			}
			if l2 >= 14 {
				p.h.sec = two(s2, 12, 2)
			}
			p.h.comp = false
		}
	case 3:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-3, 1)
		} else {
			p.h.yday = two(s2, 0, 3)
		}
	case 5:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-4, 2)
			p.h.hour = two(s2, l2-5, 1)
		} else {
			p.h.year = signed(two(s2, 0, 2))
			p.h.yday = two(s2, 2, 3)
		}
	case 7:
		if timeOnly {
			p.h.sec = two(s2, l2-2, 2)
			p.h.min = two(s2, l2-4, 2)
			p.h.hour = two(s2, l2-6, 2)
			p.h.mday = two(s2, l2-7, 1)
		} else {
			p.h.year = signed(two(s2, 0, 4))
			p.h.yday = two(s2, 4, 3)
		}
	}
	if has3 {
		l3 := len(s3)
		if has4 {
			switch l3 {
			case 2, 4, 6:
				p.h.sec = two(s3, l3-2, 2)
				if l3 >= 4 {
					p.h.min = two(s3, l3-4, 2)
				}
				if l3 >= 6 {
					p.h.hour = two(s3, l3-6, 2)
				}
			}
		} else {
			switch l3 {
			case 2, 4, 6:
				p.h.hour = two(s3, 0, 2)
				if l3 >= 4 {
					p.h.min = two(s3, 2, 2)
				}
				if l3 >= 6 {
					p.h.sec = two(s3, 4, 2)
				}
			}
		}
	}
	if has4 {
		p.h.secFraction = fraction(s4)
	}
	if z, ok := group(s, m, 5); ok {
		if strings.HasPrefix(z, "[") {
			inner := strings.TrimSuffix(strings.TrimPrefix(z, "["), "]")
			if i := strings.IndexByte(inner, ':'); i >= 0 {
				inner = inner[i+1:]
			}
			z = inner
		}
		p.h.zone = &z
	}
	return true
}

// namedZones are the zone names Ruby's Time.parse knows (including the
// military letters), with their offsets in hours.
var namedZones = map[string]int{
	"UTC": 0, "Z": 0, "UT": 0, "GMT": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8, "I": 9, "K": 10, "L": 11, "M": 12,
	"N": -1, "O": -2, "P": -3, "Q": -4, "R": -5, "S": -6, "T": -7, "U": -8, "V": -9, "W": -10, "X": -11, "Y": -12,
}

var reZoneUTC = regexp.MustCompile(`(?i)\A(?:-00:00|-0000|-00|UTC|Z|UT)\z`)

// numericZone reads "+hh:mm", "+hhmm", "+hh:mm:ss", "+hhmmss" or "+hh".
func numericZone(z string) (int, bool) {
	if len(z) < 3 || !isSign(z[0]) || !isDigit(z[1]) || !isDigit(z[2]) {
		return 0, false
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	h := int(z[1]-'0')*10 + int(z[2]-'0')
	rest := z[3:]
	if rest == "" {
		return sign * h * 3600, true
	}
	sep := ""
	if rest[0] == ':' {
		sep, rest = ":", rest[1:]
	}
	two := func(s string) (int, bool) {
		if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
			return 0, false
		}
		return int(s[0]-'0')*10 + int(s[1]-'0'), true
	}
	m, ok := two(rest)
	if !ok {
		return 0, false
	}
	rest = rest[2:]
	sec := 0
	if rest != "" {
		if !strings.HasPrefix(rest, sep) {
			return 0, false
		}
		rest = rest[len(sep):]
		if sec, ok = two(rest); !ok || len(rest) != 2 {
			return 0, false
		}
	}
	return sign * ((h*60+m)*60 + sec), true
}

// zoneOffset is Ruby's Time.zone_offset: the offset in seconds of a zone
// written as +hh:mm, +hhmm, +hh or a known name; ok is false otherwise.
func zoneOffset(zone string, year int, loc *time.Location) (int, bool) {
	z := strings.ToUpper(zone)
	if off, ok := numericZone(z); ok {
		return off, true
	}
	if h, ok := namedZones[z]; ok {
		return h * 3600, true
	}
	for _, month := range []time.Month{time.January, time.July} {
		t := time.Date(year, month, 1, 0, 0, 0, 0, loc)
		if name, off := t.Zone(); strings.ToUpper(name) == z {
			return off, true
		}
	}
	return 0, false
}

// ParseTime reads s as Ruby's Time.parse(s, now) does for the formats its
// date parser understands (ISO 8601, RFC 2822, "Jan 5, 2024", "5 Jan
// 2024", "2024/01/05", times with am/pm and zones …). Missing leading parts
// come from now; a time without a zone is in now's location. ok is false
// where Ruby raises ArgumentError.
func ParseTime(s string, now time.Time) (time.Time, bool) {
	h, ok := isoParse(s)
	if !ok {
		h = dateParse(s)
	}
	if h.year == nil && h.yday == nil && h.mon == nil && h.mday == nil &&
		h.hour == nil && h.min == nil && h.sec == nil && h.secFraction == nil {
		return time.Time{}, false
	}
	loc := now.Location()
	var off int
	hasOff := false
	if h.zone != nil {
		y := now.Year()
		if h.year != nil {
			y = int(*h.year)
		}
		off, hasOff = zoneOffset(*h.zone, y, loc)
	}
	if h.yday != nil {
		if *h.yday < 1 || *h.yday > 366 {
			return time.Time{}, false
		}
	}
	if hasOff {
		now = now.In(time.FixedZone("", off))
	}
	year, mon, day, hour, min, sec := h.year, h.mon, h.mday, h.hour, h.min, h.sec
	var nsec int64
	if h.secFraction != nil {
		ns := new(big.Rat).Mul(h.secFraction, big.NewRat(1e9, 1))
		nsec = ratFloor(ns).Int64()
	}
	if h.yday != nil {
		mon, day = nil, nil
	}
	switch {
	case year != nil:
	default:
		year = ip(int64(now.Year()))
		if mon != nil || h.yday != nil {
			break
		}
		mon = ip(int64(now.Month()))
		if day != nil {
			break
		}
		day = ip(int64(now.Day()))
		if hour != nil {
			break
		}
		hour = ip(int64(now.Hour()))
		if min != nil {
			break
		}
		min = ip(int64(now.Minute()))
		if sec != nil {
			break
		}
		sec = ip(int64(now.Second()))
		if h.secFraction != nil {
			break
		}
		nsec = int64(now.Nanosecond() / 1000 * 1000)
	}
	get := func(p *int64, def int64) int64 {
		if p == nil {
			return def
		}
		return *p
	}
	Y, M, D := get(year, 1970), get(mon, 1), get(day, 1)
	hh, mm, ss := get(hour, 0), get(min, 0), get(sec, 0)
	if Y < -1e9 || Y > 1e9 {
		return time.Time{}, false
	}
	if h.yday != nil {
		jan1 := time.Date(int(Y), time.January, 1, 0, 0, 0, 0, time.UTC)
		d := jan1.AddDate(0, 0, int(*h.yday-1))
		M, D = int64(d.Month()), int64(d.Day())
	}
	if hasOff {
		Y, M, D, hh, mm, ss = applyOffset(Y, M, D, hh, mm, ss, int64(off))
	}
	// Time.utc and Time.local accept these ranges and roll a day past the
	// end of its month over into the next month.
	if M < 1 || M > 12 || D < 1 || D > 31 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
		(hh == 24 && (mm != 0 || ss != 0)) {
		return time.Time{}, false
	}
	if !hasOff {
		return rubyLocal(int(Y), time.Month(M), int(D), int(hh), int(mm), int(ss), int(nsec), loc), true
	}
	t := time.Date(int(Y), time.Month(M), int(D), int(hh), int(mm), int(ss), int(nsec), time.UTC)
	if reZoneUTC.MatchString(*h.zone) {
		return t, true
	}
	if local := t.In(loc); func() bool { _, o := local.Zone(); return o == off }() {
		return local, true
	}
	return t.In(time.FixedZone("", off)), true
}

// monthDays is Ruby's Time.month_days: the length of month mon of year,
// where months 0 down to -11 index the table from its end (as a Ruby array
// does), and 0 for months out of the table.
func monthDays(year, mon int64) int64 {
	idx := mon - 1
	if idx < 0 {
		idx += 12
	}
	if idx < 0 || idx > 11 {
		return 0
	}
	return int64(time.Date(int(year), time.Month(idx+2), 0, 0, 0, 0, 0, time.UTC).Day())
}

// applyOffset turns a wall clock reading at UTC offset off (seconds) into
// UTC fields exactly as Ruby's Time.apply_offset does, including its
// lenient handling of out-of-range days and hours.
func applyOffset(year, mon, day, hour, min, sec, off int64) (int64, int64, int64, int64, int64, int64) {
	divmod := func(a, b int64) (int64, int64) { return floorDiv(a, b), floorMod(a, b) }
	var o int64
	switch {
	case off < 0:
		off = -off
		if off, o = divmod(off, 60); o != 0 {
			sec += o
			o, sec = divmod(sec, 60)
			off += o
		}
		if off, o = divmod(off, 60); o != 0 {
			min += o
			o, min = divmod(min, 60)
			off += o
		}
		if off, o = divmod(off, 24); o != 0 {
			hour += o
			o, hour = divmod(hour, 24)
			off += o
		}
		if off != 0 {
			day += off
			if days := monthDays(year, mon); days != 0 && days < day {
				mon++
				if mon > 12 {
					mon = 1
					year++
				}
				day = 1
			}
		}
	case off > 0:
		if off, o = divmod(off, 60); o != 0 {
			sec -= o
			o, sec = divmod(sec, 60)
			off -= o
		}
		if off, o = divmod(off, 60); o != 0 {
			min -= o
			o, min = divmod(min, 60)
			off -= o
		}
		if off, o = divmod(off, 24); o != 0 {
			hour -= o
			o, hour = divmod(hour, 24)
			off -= o
		}
		if off != 0 {
			day -= off
			if day < 1 {
				mon--
				if mon < 1 {
					year--
					mon = 12
				}
				day = monthDays(year, mon)
			}
		}
	}
	return year, mon, day, hour, min, sec
}

// isoParse reads the common ISO 8601 shapes ("2024-01-05",
// "2024-01-05T10:00", "2024-01-05 10:00:00.123 +05:30", "…Z") directly,
// giving the fields the general parser would; ok is false for anything
// else, which then goes through dateParse.
func isoParse(s string) (dateParts, bool) {
	var h dateParts
	digits := func(from, n int) (int64, bool) {
		if from+n > len(s) {
			return 0, false
		}
		var v int64
		for i := from; i < from+n; i++ {
			if !isDigit(s[i]) {
				return 0, false
			}
			v = v*10 + int64(s[i]-'0')
		}
		return v, true
	}
	y, ok1 := digits(0, 4)
	m, ok2 := digits(5, 2)
	d, ok3 := digits(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return h, false
	}
	h.year, h.mon, h.mday = ip(y), ip(m), ip(d)
	i := 10
	if i == len(s) {
		return h, true
	}
	if s[i] != 't' && s[i] != 'T' && s[i] != ' ' {
		return h, false
	}
	hh, ok1 := digits(i+1, 2)
	mm, ok2 := digits(i+4, 2)
	if !ok1 || !ok2 || s[i+3] != ':' {
		return h, false
	}
	h.hour, h.min = ip(hh), ip(mm)
	i += 6
	if i < len(s) && s[i] == ':' {
		ss, ok := digits(i+1, 2)
		if !ok {
			return h, false
		}
		h.sec = ip(ss)
		i += 3
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && j-i <= 9 && isDigit(s[j]) {
				j++
			}
			if j == i+1 || j < len(s) && isDigit(s[j]) {
				return h, false
			}
			h.secFraction = fraction(s[i+1 : j])
			i = j
		}
	}
	if i == len(s) {
		return h, true
	}
	zone := s[i:]
	if zone[0] == ' ' {
		zone = zone[1:]
	}
	switch {
	case zone == "z" || zone == "Z":
	case len(zone) == 5 && isSign(zone[0]):
		if _, ok := digits(len(s)-4, 4); !ok {
			return h, false
		}
	case len(zone) == 6 && isSign(zone[0]) && zone[3] == ':':
		if _, ok := digits(len(s)-5, 2); !ok {
			return h, false
		}
		if _, ok := digits(len(s)-2, 2); !ok {
			return h, false
		}
	default:
		return h, false
	}
	h.zone = &zone
	return h, true
}

// rubyLocal is time.Date in loc with Ruby's Time.local choices around
// clock changes: a wall clock reading that occurs twice picks the later
// instant, and one that does not occur (clocks went forward) is read with
// the offset in force before the change, so it lands after the gap.
func rubyLocal(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	ref := time.Date(year, month, day, hour, min, sec, nsec, time.UTC)
	wall := ref.Unix()
	var best time.Time
	found := false
	var offsets [3]int
	for i, shift := range []int64{-86400, 0, 86400} {
		_, offsets[i] = time.Unix(wall+shift, 0).In(loc).Zone()
	}
	// First the readings of the wall clock that exist, else all.
	for _, needValid := range []bool{true, false} {
		for _, off := range offsets {
			c := time.Unix(wall-int64(off), int64(nsec)).In(loc)
			if needValid && !sameWallClock(c, ref) {
				continue
			}
			if !found || c.After(best) {
				best, found = c, true
			}
		}
		if found {
			return best
		}
	}
	return time.Date(year, month, day, hour, min, sec, nsec, loc)
}

// sameWallClock reports whether a and b show the same date and time of day.
func sameWallClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}
