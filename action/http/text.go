package http

import (
	"strings"
	"unicode/utf8"
)

// windows1252 maps bytes 0x80–0x9F of Windows-1252 to runes; the other
// high bytes are the same as ISO-8859-1. Undefined positions are U+FFFD.
var windows1252 = [32]rune{
	'\u20ac', '\ufffd', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
	'\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\ufffd', '\u017d', '\ufffd',
	'\ufffd', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
	'\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\ufffd', '\u017e', '\u0178',
}

// decodeText converts a response body to a UTF-8 string, using the charset
// of its Content-Type. ISO-8859-1, US-ASCII and Windows-1252 are
// transcoded; everything else is read as UTF-8, with each run of invalid
// bytes replaced by U+FFFD, so that binary bodies still give a valid string
// (body_base64 keeps the original bytes).
func decodeText(data []byte, charset string) string {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		return decodeSingleByte(data, false)
	case "windows-1252", "cp1252", "x-cp1252":
		return decodeSingleByte(data, true)
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return strings.ToValidUTF8(string(data), "\ufffd")
}

func decodeSingleByte(data []byte, cp1252 bool) string {
	var b strings.Builder
	b.Grow(len(data) + len(data)/4)
	for _, c := range data {
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case cp1252 && c < 0xa0:
			b.WriteRune(windows1252[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
