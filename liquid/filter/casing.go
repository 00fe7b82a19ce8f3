package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Upcase converts s to upper case with Ruby's full Unicode mapping
// ("ß" becomes "SS"). ok is false for invalid UTF-8, which Ruby rejects.
func Upcase(s string) (string, bool) {
	return mapCase(s, upperSpecial, unicode.ToUpper, nil, nil)
}

// Downcase converts s to lower case with Ruby's full Unicode mapping.
func Downcase(s string) (string, bool) {
	return mapCase(s, lowerSpecial, unicode.ToLower, nil, nil)
}

// Capitalize converts the first character of s to title case and the rest
// to lower case, as Ruby's String#capitalize does.
func Capitalize(s string) (string, bool) {
	return mapCase(s, lowerSpecial, unicode.ToLower, titleSpecial, unicode.ToTitle)
}

// mapCase maps every rune with (special, simple), except the first, which
// uses (firstSpecial, firstSimple) when they are given.
func mapCase(s string, special map[rune]string, simple func(rune) rune, firstSpecial map[rune]string, firstSimple func(rune) rune) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		sp, fn := special, simple
		if i == 0 && firstSimple != nil {
			sp, fn = firstSpecial, firstSimple
		}
		if m, ok := sp[r]; ok {
			b.WriteString(m)
			continue
		}
		b.WriteRune(fn(r))
	}
	return b.String(), true
}
