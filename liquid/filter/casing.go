package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Upcase converts s to upper case with Ruby's full Unicode mapping
// ("ß" becomes "SS"). A string that is not valid UTF-8 is treated as
// binary, as Ruby treats decoded base64: only ASCII letters change.
func Upcase(s string) string {
	return mapCase(s, upperSpecial, unicode.ToUpper, nil, nil)
}

// Downcase converts s to lower case with Ruby's full Unicode mapping.
func Downcase(s string) string {
	return mapCase(s, lowerSpecial, unicode.ToLower, nil, nil)
}

// Capitalize converts the first character of s to title case and the rest
// to lower case, as Ruby's String#capitalize does.
func Capitalize(s string) string {
	return mapCase(s, lowerSpecial, unicode.ToLower, titleSpecial, unicode.ToTitle)
}

// mapCase maps every rune with (special, simple), except the first, which
// uses (firstSpecial, firstSimple) when they are given.
func mapCase(s string, special map[rune]string, simple func(rune) rune, firstSpecial map[rune]string, firstSimple func(rune) rune) string {
	if !utf8.ValidString(s) || isASCII(s) {
		// Invalid strings come from base64_decode, which Ruby tags as
		// binary: only ASCII letters change case. ASCII strings have no
		// special mappings, so the byte loop gives the same result faster.
		return mapASCII(s, simple, firstSimple)
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
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// mapASCII changes the case of ASCII letters only.
func mapASCII(s string, simple, firstSimple func(rune) rune) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 {
			continue
		}
		fn := simple
		if i == 0 && firstSimple != nil {
			fn = firstSimple
		}
		b[i] = byte(fn(rune(c)))
	}
	return string(b)
}
