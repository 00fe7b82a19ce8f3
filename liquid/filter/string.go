package filter

import (
	"encoding/base64"
	"math"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// toS is Ruby's to_s of a filter input or argument.
func toS(v any) string { return value.ToS(v) }

func appendFilter(c Context, input any, args []any) (any, error) {
	a, b := toS(input), toS(args[0])
	if err := Charge(c, int64(len(a))+int64(len(b))); err != nil {
		return nil, err
	}
	return a + b, nil
}

func prependFilter(c Context, input any, args []any) (any, error) {
	a, b := toS(args[0]), toS(input)
	if err := Charge(c, int64(len(a))+int64(len(b))); err != nil {
		return nil, err
	}
	return a + b, nil
}

func caseFilter(f func(string) string) impl {
	return func(_ Context, input any, _ []any) (any, error) {
		return f(toS(input)), nil
	}
}

var (
	downcase   = caseFilter(Downcase)
	upcase     = caseFilter(Upcase)
	capitalize = caseFilter(Capitalize)
)

// EscapeHTML replaces &, <, >, " and ' with HTML entities, as Ruby's
// CGI.escapeHTML does.
func EscapeHTML(s string) string {
	if !strings.ContainsAny(s, "&<>\"'") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		if e := htmlEntity(s[i]); e != "" {
			b.WriteString(e)
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func htmlEntity(c byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '"':
		return "&quot;"
	case '\'':
		return "&#39;"
	}
	return ""
}

func escape(_ Context, input any, _ []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	return EscapeHTML(toS(input)), nil
}

// EscapeOnce is EscapeHTML except that an ampersand already starting an
// entity (&name; or &#digits;) is left alone.
func EscapeOnce(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '&' && startsEntity(s[i+1:]) {
			b.WriteByte(c)
			continue
		}
		if e := htmlEntity(c); e != "" {
			b.WriteString(e)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// startsEntity reports whether s begins with "name;" (ASCII letters) or
// "#digits;".
func startsEntity(s string) bool {
	i := 0
	if strings.HasPrefix(s, "#") {
		i = 1
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > 1 && i < len(s) && s[i] == ';'
	}
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ';'
}

func escapeOnce(_ Context, input any, _ []any) (any, error) {
	return EscapeOnce(toS(input)), nil
}

// URLEncode percent-encodes s as Ruby's CGI.escape does: letters, digits
// and "*-._~" except "*" stay, space becomes "+".
func URLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3 / 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// URLDecode reverses URLEncode as Ruby's CGI.unescape does: "+" is a space,
// malformed percent sequences are kept as they are, and decoding stops at
// a '%' with fewer than two characters after it.
func URLDecode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+3 > len(s):
			// Ruby stops decoding at a '%' too close to the end and
			// keeps the rest as it is, pluses included.
			b.WriteString(s[i:])
			return b.String()
		case c == '%' && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func urlEncode(_ Context, input any, _ []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	return URLEncode(toS(input)), nil
}

func urlDecode(_ Context, input any, _ []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	s := URLDecode(toS(input))
	if !utf8.ValidString(s) {
		return nil, Errorf("invalid byte sequence in UTF-8")
	}
	return s, nil
}

func base64Encode(_ Context, input any, _ []any) (any, error) {
	return base64.StdEncoding.EncodeToString([]byte(toS(input))), nil
}

func base64URLSafeEncode(_ Context, input any, _ []any) (any, error) {
	return base64.URLEncoding.EncodeToString([]byte(toS(input))), nil
}

// strictBase64 decodes standard, padded base64 and rejects line breaks,
// which Go's decoder would otherwise skip.
func strictBase64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

func base64Decode(_ Context, input any, _ []any) (any, error) {
	b, ok := strictBase64(toS(input))
	if !ok {
		return nil, Errorf("invalid base64 provided to base64_decode")
	}
	return string(b), nil
}

func base64URLSafeDecode(_ Context, input any, _ []any) (any, error) {
	s := toS(input)
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		s += strings.Repeat("=", 4-len(s)%4)
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	b, ok := strictBase64(s)
	if !ok {
		return nil, Errorf("invalid base64 provided to base64_url_safe_decode")
	}
	return string(b), nil
}

// charOffsets returns the byte offset of every character of s plus len(s);
// an invalid byte counts as one character, as in Ruby.
func charOffsets(s string) []int {
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		offs = append(offs, i)
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return append(offs, len(s))
}

// charLen counts the characters of s.
func charLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		n++
	}
	return n
}

// int64Arg converts an Integer argument for a Ruby method taking a C long;
// ok is false for Integers beyond int64 (Ruby raises RangeError).
func int64Arg(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

// sliceBounds applies Ruby's slice(offset, length) rules to a sequence of n
// elements; ok is false when Ruby returns nil.
func sliceBounds(n, offset, length int64) (from, to int64, ok bool) {
	if offset < 0 {
		offset += n
	}
	if offset < 0 || offset > n || length < 0 {
		return 0, 0, false
	}
	to = n
	if length < n-offset {
		to = offset + length
	}
	return offset, to, true
}

func slice(_ Context, input any, args []any) (any, error) {
	off, err := ToInteger(args[0])
	if err != nil {
		return nil, err
	}
	var length any = int64(1)
	if l := arg(args, 1, nil); value.Truthy(l) {
		if length, err = ToInteger(l); err != nil {
			return nil, err
		}
	}
	o, ok1 := int64Arg(off)
	l, ok2 := int64Arg(length)
	if !ok1 || !ok2 {
		return nil, errInternal()
	}
	if a, isArr := input.([]any); isArr {
		from, to, ok := sliceBounds(int64(len(a)), o, l)
		if !ok {
			return []any{}, nil
		}
		return append([]any{}, a[from:to]...), nil
	}
	s := toS(input)
	offs := charOffsets(s)
	from, to, ok := sliceBounds(int64(len(offs)-1), o, l)
	if !ok {
		return "", nil
	}
	return s[offs[from]:offs[to]], nil
}

func truncate(_ Context, input any, args []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	s := toS(input)
	lv, err := ToInteger(arg(args, 0, int64(50)))
	if err != nil {
		return nil, err
	}
	ellipsis := toS(arg(args, 1, "..."))
	length, ok := int64Arg(lv)
	if !ok {
		if lv.(*big.Int).Sign() > 0 {
			return s, nil
		}
		length = math.MinInt64 / 2
	}
	offs := charOffsets(s)
	n := int64(len(offs) - 1)
	if n <= length {
		return s, nil
	}
	keep := int64(0)
	if el := int64(charLen(ellipsis)); length > el {
		keep = length - el
	}
	if keep > n {
		keep = n
	}
	return s[:offs[keep]] + ellipsis, nil
}

// isSpace is the whitespace Ruby's awk-style split separates words on.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// splitWords splits s as Ruby's s.split(" ", limit) does: runs of ASCII
// whitespace separate fields and leading whitespace is ignored. With limit
// > 0 at most limit fields are returned, the last holding the remainder
// (possibly empty); with limit 0 trailing empty fields are dropped.
func splitWords(s string, limit int64) []string {
	if limit == 1 {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var out []string
	beg, end := 0, 0
	skip := true
	fields := int64(1)
	for p := 0; p < len(s); p++ {
		c := s[p]
		switch {
		case skip && isSpace(c):
			beg = p + 1
		case skip:
			end = p + 1
			skip = false
			if limit > 0 && limit <= fields {
				p = len(s) // stop: the rest is the last field
			}
		case isSpace(c):
			out = append(out, s[beg:end])
			skip = true
			beg = p + 1
			if limit > 0 {
				fields++
			}
		default:
			end = p + 1
		}
	}
	if len(s) > 0 && (limit > 0 || len(s) > beg) {
		out = append(out, s[beg:])
	}
	if limit == 0 {
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
	}
	return out
}

func truncatewords(_ Context, input any, args []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	s := toS(input)
	wv, err := ToInteger(arg(args, 0, int64(15)))
	if err != nil {
		return nil, err
	}
	words, ok := int64Arg(wv)
	if !ok && wv.(*big.Int).Sign() < 0 {
		words, ok = 1, true
	}
	if words <= 0 {
		words = 1
	}
	// Ruby's split takes the word limit as a C int.
	if !ok || words >= math.MaxInt32 {
		return nil, Errorf("integer %s too big for truncatewords", toS(wv))
	}
	list := splitWords(s, words+1)
	if int64(len(list)) <= words {
		return s, nil
	}
	list = list[:len(list)-1]
	return strings.Join(list, " ") + toS(arg(args, 1, "...")), nil
}

// RubySplit splits s on sep as Ruby's String#split(String) does: a single
// space splits on whitespace runs ignoring leading whitespace, an empty
// separator splits into characters, and trailing empty strings are dropped.
func RubySplit(s, sep string) []string {
	var out []string
	switch sep {
	case " ":
		return splitWords(s, 0)
	case "":
		offs := charOffsets(s)
		for i := 0; i+1 < len(offs); i++ {
			out = append(out, s[offs[i]:offs[i+1]])
		}
		return out
	}
	out = strings.Split(s, sep)
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// splitSlotBytes is what one part of a split costs: its slot in the
// array, its string header and the boxed header the slot points to (the
// bytes are the input's, shared).
const splitSlotBytes = 48

// maxSplitParts bounds the parts split may return: a 16 MiB string of
// separators, the largest a render may build, splits into fewer.
func maxSplitParts(s, sep string) int64 {
	switch sep {
	case "":
		return int64(utf8.RuneCountInString(s))
	case " ":
		n := int64(1)
		for i := 0; i < len(s); i++ {
			if isSpace(s[i]) {
				n++
			}
		}
		return n
	}
	return int64(strings.Count(s, sep)) + 1
}

func split(c Context, input any, args []any) (any, error) {
	str, sep := toS(input), toS(args[0])
	if err := Charge(c, splitSlotBytes*maxSplitParts(str, sep)); err != nil {
		return nil, err
	}
	parts := RubySplit(str, sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func strip(_ Context, input any, _ []any) (any, error) {
	return strings.Trim(toS(input), rubyWhitespace), nil
}

func lstrip(_ Context, input any, _ []any) (any, error) {
	return strings.TrimLeft(toS(input), rubyWhitespace), nil
}

func rstrip(_ Context, input any, _ []any) (any, error) {
	return strings.TrimRight(toS(input), rubyWhitespace), nil
}

var squishSpace = regexp.MustCompile(`[\t\n\v\f\r ]+`)

func squish(_ Context, input any, _ []any) (any, error) {
	if input == nil {
		return nil, nil
	}
	s := strings.Trim(toS(input), rubyWhitespace)
	return squishSpace.ReplaceAllLiteralString(s, " "), nil
}

var (
	htmlBlocks = regexp.MustCompile(`(?s)<script.*?</script>|<!--.*?-->|<style.*?</style>`)
	htmlTags   = regexp.MustCompile(`(?s)<.*?>`)
)

// StripHTML removes script and style elements, comments and then every
// tag from s, as Liquid's strip_html does.
func StripHTML(s string) string {
	s = htmlBlocks.ReplaceAllLiteralString(s, "")
	return htmlTags.ReplaceAllLiteralString(s, "")
}

func stripHTML(_ Context, input any, _ []any) (any, error) {
	return StripHTML(toS(input)), nil
}

func stripNewlines(_ Context, input any, _ []any) (any, error) {
	s := toS(input)
	s = strings.ReplaceAll(s, "\r\n", "")
	return strings.ReplaceAll(s, "\n", ""), nil
}

func newlineToBr(_ Context, input any, _ []any) (any, error) {
	s := toS(input)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "<br />\n"), nil
}

// expandReplacement expands the backslash sequences Ruby's sub and gsub
// honour in a replacement string when the pattern is a plain string: \0
// and \& are the match, \` and \' the text before and after it, \1…\9 and
// \+ (groups; a string pattern has none) are empty, \\ is a backslash;
// anything else stays as written.
func expandReplacement(repl, s string, start, end int) (string, error) {
	if !strings.Contains(repl, `\`) {
		return repl, nil
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d == '0' || d == '&':
			b.WriteString(s[start:end])
		case d == '`':
			b.WriteString(s[:start])
		case d == '\'':
			b.WriteString(s[end:])
		case d >= '1' && d <= '9', d == '+':
		case d == '\\':
			b.WriteByte('\\')
		case d == 'k' && i+1 < len(repl) && repl[i+1] == '<' && strings.IndexByte(repl[i+1:], '>') > 1:
			return "", errInternal()
		default:
			b.WriteByte('\\')
			b.WriteByte(d)
		}
	}
	return b.String(), nil
}

// RubyGsub replaces every occurrence of the string pat in s as Ruby's
// String#gsub(String, String) does, including the replacement's backslash
// sequences. An empty pattern matches between all characters.
func RubyGsub(s, pat, repl string, firstOnly bool) (string, error) {
	var b strings.Builder
	pos := 0
	offs := []int(nil)
	if pat == "" {
		offs = charOffsets(s)
	}
	for k := 0; ; k++ {
		var start int
		if pat == "" {
			if k >= len(offs) {
				break
			}
			start = offs[k]
		} else {
			i := strings.Index(s[pos:], pat)
			if i < 0 {
				break
			}
			start = pos + i
		}
		end := start + len(pat)
		r, err := expandReplacement(repl, s, start, end)
		if err != nil {
			return "", err
		}
		b.WriteString(s[pos:start])
		b.WriteString(r)
		pos = end
		if firstOnly {
			break
		}
	}
	b.WriteString(s[pos:])
	return b.String(), nil
}

// chargeGsub charges the estimated size of replacing pat with repl in s
// (every occurrence, or the first): the input plus a copy of repl per
// match.
func chargeGsub(c Context, s, pat, repl string, firstOnly bool) error {
	n := int64(1)
	if !firstOnly {
		if pat == "" {
			n = int64(utf8.RuneCountInString(s)) + 1
		} else {
			n = int64(strings.Count(s, pat))
		}
	}
	return Charge(c, int64(len(s))+n*int64(len(repl)))
}

func replace(c Context, input any, args []any) (any, error) {
	s, pat, repl := toS(input), toS(args[0]), toS(arg(args, 1, ""))
	if err := chargeGsub(c, s, pat, repl, false); err != nil {
		return nil, err
	}
	return RubyGsub(s, pat, repl, false)
}

func replaceFirst(c Context, input any, args []any) (any, error) {
	s, pat, repl := toS(input), toS(args[0]), toS(arg(args, 1, ""))
	if err := chargeGsub(c, s, pat, repl, true); err != nil {
		return nil, err
	}
	return RubyGsub(s, pat, repl, true)
}

func replaceLast(_ Context, input any, args []any) (any, error) {
	s, pat, repl := toS(input), toS(args[0]), toS(args[1])
	i := strings.LastIndex(s, pat)
	if i < 0 {
		return s, nil
	}
	return s[:i] + repl + s[i+len(pat):], nil
}

func remove(c Context, input any, args []any) (any, error) {
	return replace(c, input, []any{args[0], ""})
}

func removeFirst(c Context, input any, args []any) (any, error) {
	return replaceFirst(c, input, []any{args[0], ""})
}

func removeLast(c Context, input any, args []any) (any, error) {
	return replaceLast(c, input, []any{args[0], ""})
}
