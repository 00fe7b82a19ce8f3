package filters

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// unindent removes the indentation common to every non-blank line, as
// Rails' String#strip_heredoc does.
func unindent(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("unindent", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("unindent", input)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(s, "\n")
	indent, found := "", false
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		if strings.TrimFunc(trimmed, isSpaceRune) == "" {
			continue
		}
		ind := l[:len(l)-len(trimmed)]
		if !found || ind < indent {
			indent, found = ind, true
		}
	}
	if indent == "" {
		return s, nil
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimPrefix(l, indent))
	}
	return b.String(), nil
}

func isSpaceRune(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// countryCodes lists the ITU country calling codes.
var countryCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49
		51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
		211 212 213 216 218 290 291 297 298 299 420 421 423 670 800 808 850 852 853
		855 856 870 878 880 881 882 883 886 888 979 998`) {
		m[c] = true
	}
	ranges := [][2]int{{220, 258}, {260, 269}, {350, 359}, {370, 378}, {380, 383}, {385, 387}, {389, 389},
		{500, 509}, {590, 599}, {672, 683}, {685, 692}, {960, 968}, {970, 977}, {992, 996}}
	for _, r := range ranges {
		for i := r[0]; i <= r[1]; i++ {
			m[strconv.Itoa(i)] = true
		}
	}
	return m
}

// nationalLengths holds the shortest and longest national significant
// numbers of the most common calling codes.
var nationalLengths = map[string][2]int{
	"1": {10, 10}, "7": {10, 10}, "20": {8, 10}, "27": {9, 9}, "30": {10, 10}, "31": {9, 9},
	"32": {8, 9}, "33": {9, 9}, "34": {9, 9}, "36": {8, 9}, "39": {6, 11}, "40": {9, 9},
	"41": {9, 9}, "43": {4, 13}, "44": {9, 10}, "45": {8, 8}, "46": {7, 13}, "47": {8, 8},
	"48": {9, 9}, "49": {6, 13}, "51": {8, 9}, "52": {10, 10}, "53": {8, 8}, "54": {10, 11},
	"55": {10, 11}, "56": {9, 9}, "57": {10, 10}, "58": {10, 10}, "60": {8, 10}, "61": {9, 9},
	"62": {8, 12}, "63": {10, 10}, "64": {8, 10}, "65": {8, 8}, "66": {8, 9}, "81": {9, 10},
	"82": {8, 10}, "84": {9, 10}, "86": {10, 11}, "90": {10, 10}, "91": {10, 10}, "92": {9, 10},
	"93": {9, 9}, "94": {9, 9}, "95": {7, 10}, "98": {10, 10},
}

// e164 normalizes a phone number that includes its country code to E.164
// digits (without "+"), or nil when it does not look valid.
func e164(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("e164", args, 0, 0); err != nil {
		return nil, err
	}
	if input == nil {
		return nil, nil
	}
	s, err := str("e164", input)
	if err != nil {
		return nil, err
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case strings.IndexByte(" ()-.+/\t", c) >= 0:
		default:
			return nil, nil
		}
	}
	d := string(digits)
	d = strings.TrimPrefix(d, "00")
	if len(d) < 8 || len(d) > 15 {
		return nil, nil
	}
	codes := countryCodes()
	cc := ""
	for l := 1; l <= 3; l++ {
		if codes[d[:l]] {
			cc = d[:l]
			break
		}
	}
	if cc == "" {
		return nil, nil
	}
	national := d[len(cc):]
	if national == "" || national[0] == '0' && cc != "39" {
		return nil, nil
	}
	if cc == "1" && (len(national) != 10 || national[0] < '2' || national[3] < '2') {
		return nil, nil
	}
	lo, hi := 4, 15-len(cc)
	if l, ok := nationalLengths[cc]; ok {
		lo, hi = l[0], l[1]
	}
	if len(national) < lo || len(national) > hi {
		return nil, nil
	}
	return d, nil
}

// pluralize picks the singular argument for a count of one and the plural
// argument otherwise.
func pluralize(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("pluralize", args, 2, 2); err != nil {
		return nil, err
	}
	n := input
	if s, ok := input.(string); ok {
		if i, err := toInt("pluralize", s); err == nil {
			n = i
		}
	}
	if value.Equal(n, int64(1)) {
		return args[0], nil
	}
	return args[1], nil
}

// handleize turns a string into a Shopify handle: lowercase ASCII letters,
// digits and underscores, with dashes for everything else.
func handleize(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("handleize", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("handleize", input)
	if err != nil {
		return nil, err
	}
	s = strings.ToLower(s)
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case strings.ContainsRune(`'"()[]`, r):
			continue
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String(), nil
}

// urlEscape percent-encodes characters that may not appear in a URL,
// leaving reserved characters such as & / ? = as they are.
func urlEscape(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("url_escape", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("url_escape", input)
	if err != nil {
		return nil, err
	}
	return percentEncode(s, "-_.!~*'()"+";/?:@&=+$,[]#"), nil
}

// urlParamEscape percent-encodes a string for use as a URL query parameter
// value: everything but letters, digits and -_.!~*'() is escaped.
func urlParamEscape(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("url_param_escape", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("url_param_escape", input)
	if err != nil {
		return nil, err
	}
	return percentEncode(s, "-_.!~*'()"), nil
}

func percentEncode(s, keep string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// tagFilter returns add_tag(s) or remove_tag(s): they edit a Shopify tag
// list given as a comma-separated string (returning a string) or an array
// (returning an array). Adding sorts the tags unless sort: false.
func tagFilter(name string, add bool) filter.Func {
	return func(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if err := arity(name, args, 1, -1); err != nil {
			return nil, err
		}
		if err := checkKwargs(name, kwargs, "sort"); err != nil {
			return nil, err
		}
		var tags []string
		asString := true
		switch x := input.(type) {
		case nil:
		case string:
			tags = splitTags(x)
		case []any:
			asString = false
			for _, e := range x {
				tags = append(tags, splitTags(value.ToS(e))...)
			}
		default:
			return nil, errorf("%s: expected a tag string or array, got %s", name, value.TypeName(input))
		}
		var given []string
		for _, a := range args {
			if arr, ok := a.([]any); ok {
				for _, e := range arr {
					given = append(given, splitTags(value.ToS(e))...)
				}
				continue
			}
			given = append(given, splitTags(value.ToS(a))...)
		}
		tags = uniqStrings(tags)
		if add {
			tags = uniqStrings(append(tags, given...))
			if kwBool(kwargs, "sort", true) {
				slices.Sort(tags)
			}
		} else {
			tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(given, t) })
		}
		if asString {
			return strings.Join(tags, ", "), nil
		}
		out := make([]any, len(tags))
		for i, t := range tags {
			out[i] = t
		}
		return out, nil
	}
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func uniqStrings(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
