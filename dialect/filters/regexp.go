package filters

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// RegexpTimeout bounds the time one match or a whole scan may spend
// matching (less when the render's deadline is nearer).
const RegexpTimeout = time.Second

// maxScanMatches bounds the number of matches scan returns.
const maxScanMatches = 100000

// MatchData is the result of the match and scan filters, like Ruby's
// MatchData: it outputs as the matched text and offers captures,
// named_captures, pre_match, post_match, size and indexed groups.
type MatchData struct {
	text   string
	in     []rune // the whole input, shared by all matches of one scan
	start  int    // rune offset of the match in in
	end    int    // rune offset after the match
	groups []any  // group 0 first; nil for groups that did not take part
	names  []string
	named  *value.Map
}

// Get looks up a property of the match.
func (m *MatchData) Get(key string) (any, bool) {
	switch key {
	case "captures":
		return append([]any{}, m.groups[1:]...), true
	case "named_captures":
		return m.named.Clone(), true
	case "pre_match":
		return string(m.in[:m.start]), true
	case "post_match":
		return string(m.in[m.end:]), true
	case "to_s", "match":
		return m.text, true
	case "size", "length":
		return int64(len(m.groups)), true
	case "names":
		out := make([]any, len(m.names))
		for i, n := range m.names {
			out[i] = n
		}
		return out, true
	case "first":
		return m.groups[0], true
	case "last":
		return m.groups[len(m.groups)-1], true
	}
	if i, err := strconv.Atoi(key); err == nil {
		if i < 0 {
			i += len(m.groups)
		}
		if i >= 0 && i < len(m.groups) {
			return m.groups[i], true
		}
		return nil, false
	}
	return m.named.Get(key)
}

// LiquidString returns the matched text.
func (m *MatchData) LiquidString() string { return m.text }

// MarshalJSON encodes the match as its matched text.
func (m *MatchData) MarshalJSON() ([]byte, error) { return json.Marshal(m.text) }

// matchFilter returns the first match of a Ruby regular expression, or nil.
func matchFilter(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	re, s, err := regexpArgs(c, "match", input, args)
	if err != nil {
		return nil, err
	}
	m, err := re.FindStringMatch(s)
	if err != nil {
		return nil, wrapErr("match", err)
	}
	if m == nil {
		return nil, nil
	}
	return newMatchData([]rune(s), m), nil
}

// scanFilter returns every non-overlapping match of a Ruby regular
// expression.
func scanFilter(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	re, s, err := regexpArgs(c, "scan", input, args)
	if err != nil {
		return nil, err
	}
	out := []any{}
	in := []rune(s)
	// The whole scan shares one time budget.
	budget := re.MatchTimeout
	start := time.Now()
	m, err := re.FindRunesMatch(in)
	for err == nil && m != nil {
		left := budget - time.Since(start)
		if left <= 0 {
			return nil, errorf("scan: match timeout")
		}
		re.MatchTimeout = left
		if len(out) >= maxScanMatches {
			return nil, errorf("scan: more than %d matches", maxScanMatches)
		}
		if c != nil {
			if cerr := c.Context().Err(); cerr != nil {
				return nil, wrapErr("scan", cerr)
			}
		}
		out = append(out, newMatchData(in, m))
		m, err = re.FindNextMatch(m)
	}
	if err != nil {
		return nil, wrapErr("scan", err)
	}
	return out, nil
}

func regexpArgs(c filter.Context, name string, input any, args []any) (*regexp2.Regexp, string, error) {
	if err := arity(name, args, 1, 1); err != nil {
		return nil, "", err
	}
	s, err := str(name, input)
	if err != nil {
		return nil, "", err
	}
	pat, ok := args[0].(string)
	if !ok {
		return nil, "", errorf("%s: pattern must be a string, got %s", name, value.TypeName(args[0]))
	}
	re, err := CompileRuby(pat)
	if err != nil {
		return nil, "", wrapErr(name, err)
	}
	re.MatchTimeout = RegexpTimeout
	if c != nil {
		if dl, ok := c.Context().Deadline(); ok {
			if left := time.Until(dl); left < re.MatchTimeout {
				if left <= 0 {
					return nil, "", errorf("%s: deadline exceeded", name)
				}
				re.MatchTimeout = left
			}
		}
	}
	return re, s, nil
}

func newMatchData(in []rune, m *regexp2.Match) *MatchData {
	md := &MatchData{text: m.String(), in: in, named: value.NewMap(0)}
	if m.Index >= 0 && m.Index+m.Length <= len(in) {
		md.start, md.end = m.Index, m.Index+m.Length
	}
	for i, g := range m.Groups() {
		var v any
		if i == 0 {
			v = m.String()
		} else if len(g.Captures) > 0 {
			v = g.String()
		}
		md.groups = append(md.groups, v)
		if i > 0 {
			if _, err := strconv.Atoi(g.Name); err != nil {
				md.names = append(md.names, g.Name)
				md.named.Set(g.Name, v)
			}
		}
	}
	return md
}

// CompileRuby compiles a Ruby (Onigmo) regular expression: ^ and $ match at
// line boundaries, (?m) makes the dot match newlines, \d \w \s \h are ASCII
// classes, POSIX bracket classes are supported, and when named groups are
// present plain parentheses do not capture.
func CompileRuby(pat string) (*regexp2.Regexp, error) {
	tr, named, err := translateRuby(pat)
	if err != nil {
		return nil, err
	}
	var opts regexp2.RegexOptions = regexp2.Multiline
	if named {
		opts |= regexp2.ExplicitCapture
	}
	re, err := regexp2.Compile(tr, opts)
	if err != nil {
		return nil, errorf("invalid regular expression /%s/: %s", pat, err.Error())
	}
	return re, nil
}

// posixClasses maps POSIX bracket names to .NET class contents; like
// Onigmo on UTF-8 strings they are Unicode-aware, except xdigit.
var posixClasses = map[string]string{
	"alpha":  `\p{L}\p{M}`,
	"digit":  `\p{Nd}`,
	"alnum":  `\p{L}\p{M}\p{Nd}`,
	"upper":  `\p{Lu}`,
	"lower":  `\p{Ll}`,
	"space":  `\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000`,
	"blank":  ` \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000`,
	"punct":  `\p{P}$+<=>\^` + "`" + `|~`,
	"xdigit": `0-9a-fA-F`,
	"word":   `\p{L}\p{M}\p{Nd}\p{Pc}`,
	"cntrl":  `\p{Cc}`,
	"graph":  `\p{L}\p{M}\p{N}\p{P}\p{S}`,
	"print":  `\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}`,
	"ascii":  `\x00-\x7f`,
}

// unicodeProps maps Onigmo property names that .NET lacks to .NET classes.
var unicodeProps = map[string]string{
	"alpha": `\p{L}\p{M}`, "digit": `\p{Nd}`, "upper": `\p{Lu}`, "lower": `\p{Ll}`,
	"punct": `\p{P}`, "alnum": `\p{L}\p{M}\p{Nd}`, "word": `\p{L}\p{M}\p{Nd}\p{Pc}`,
	"space": ` \t\r\n\v\f\u0085\u00a0\u2028\u2029`, "blank": ` \t`, "cntrl": `\p{Cc}`,
	"xdigit": `0-9a-fA-F`, "letter": `\p{L}`,
}

var asciiEscapes = map[byte]string{
	'd': `0-9`,
	'w': `a-zA-Z0-9_`,
	's': ` \t\r\n\f\v`,
	'h': `0-9a-fA-F`,
}

// outBuf is the translated pattern being built.
type outBuf struct{ b []byte }

func (o *outBuf) WriteString(s string) { o.b = append(o.b, s...) }
func (o *outBuf) addByte(c byte)       { o.b = append(o.b, c) }
func (o *outBuf) Len() int             { return len(o.b) }
func (o *outBuf) String() string       { return string(o.b) }

// insert puts s at offset at.
func (o *outBuf) insert(at int, s string) {
	o.b = append(o.b[:at], append([]byte(s), o.b[at:]...)...)
}

// translateRuby rewrites a Ruby pattern into .NET syntax for regexp2.
// named reports whether the pattern has named groups.
func translateRuby(pat string) (string, bool, error) {
	b := &outBuf{}
	named := false
	inClass := 0
	atom := 0          // output offset where the last complete atom starts
	classStart := 0    // output offset of the open outermost class
	var groups []int   // output offsets of open groups
	lastQuant := false // the previous token was a quantifier (* + ?)
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		pos := b.Len()
		if inClass == 0 {
			switch c {
			case '(':
				groups = append(groups, pos)
			case ')':
				if len(groups) > 0 {
					atom = groups[len(groups)-1]
					groups = groups[:len(groups)-1]
				}
				b.addByte(')')
				lastQuant = false
				continue
			case '*', '+', '?':
				if c == '+' && lastQuant {
					// Possessive quantifier: an atomic group in .NET.
					b.insert(atom, "(?>")
					b.addByte(')')
					lastQuant = false
					continue
				}
				b.addByte(c)
				lastQuant = !(c == '?' && lastQuant)
				continue
			case '[':
				classStart = pos
			}
			lastQuant = false
			if c != '[' && c != '(' {
				atom = pos
			}
		}
		switch {
		case c == '\\' && i+1 < len(pat):
			n := pat[i+1]
			i++
			if cls, ok := asciiEscapes[n]; ok {
				if inClass > 0 {
					b.WriteString(cls)
				} else {
					b.WriteString("[" + cls + "]")
				}
				continue
			}
			if up := n + ('a' - 'A'); n >= 'A' && n <= 'Z' {
				if cls, ok := asciiEscapes[up]; ok && inClass == 0 {
					b.WriteString("[^" + cls + "]")
					continue
				}
				if n == 'H' {
					return "", false, errorf(`\H inside a character class is not supported`)
				}
			}
			if n == 'u' && strings.HasPrefix(pat[i+1:], "{") {
				end := strings.IndexByte(pat[i+1:], '}')
				if end > 0 {
					for _, h := range strings.Fields(pat[i+2 : i+1+end]) {
						r, err := strconv.ParseUint(h, 16, 32)
						if err != nil || r > 0x10FFFF {
							return "", false, errorf("invalid Unicode escape \\u{%s}", h)
						}
						b.WriteString(regexp2.Escape(string(rune(r))))
					}
					i += 1 + end
					continue
				}
			}
			if n == 'R' && inClass == 0 {
				b.WriteString(`(?:\r\n|[\n\v\f\r\u0085\u2028\u2029])`)
				continue
			}
			if (n == 'p' || n == 'P') && strings.HasPrefix(pat[i+1:], "{") {
				end := strings.IndexByte(pat[i+1:], '}')
				if end > 0 {
					prop := pat[i+2 : i+1+end]
					neg := n == 'P'
					if strings.HasPrefix(prop, "^") {
						prop, neg = prop[1:], !neg
					}
					if cls, ok := unicodeProps[strings.ToLower(prop)]; ok {
						letter := "p"
						if neg {
							letter = "P"
						}
						if strings.HasPrefix(cls, `\p{`) && strings.Count(cls, `\`) == 1 {
							b.WriteString(`\` + letter + cls[2:])
						} else if !neg {
							if inClass > 0 {
								b.WriteString(cls)
							} else {
								b.WriteString("[" + cls + "]")
							}
						} else if inClass == 0 {
							b.WriteString("[^" + cls + "]")
						} else {
							return "", false, errorf("unsupported negated property \\%c{%s} in a character class", n, prop)
						}
						i += 1 + end
						continue
					}
				}
			}
			b.addByte('\\')
			b.addByte(n)
		case c == '[':
			if inClass > 0 && strings.HasPrefix(pat[i:], "[:") {
				end := strings.Index(pat[i:], ":]")
				if end > 0 {
					name := pat[i+2 : i+end]
					neg := strings.HasPrefix(name, "^")
					name = strings.TrimPrefix(name, "^")
					cls, ok := posixClasses[name]
					if !ok {
						return "", false, errorf("invalid POSIX bracket type [:%s:]", name)
					}
					if neg {
						return "", false, errorf("negated POSIX bracket [:^%s:] is only supported as a whole class", name)
					}
					b.WriteString(cls)
					i += end + 1
					continue
				}
			}
			// A class made of one negated POSIX bracket: [[:^alpha:]].
			if inClass == 0 && strings.HasPrefix(pat[i:], "[[:^") {
				if end := strings.Index(pat[i:], ":]]"); end > 0 {
					if cls, ok := posixClasses[pat[i+4:i+end]]; ok {
						b.WriteString("[^" + cls + "]")
						atom = classStart
						i += end + 2
						continue
					}
				}
			}
			inClass++
			b.addByte('[')
			if i+1 < len(pat) && pat[i+1] == '^' {
				b.addByte('^')
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '&' && inClass > 0 && strings.HasPrefix(pat[i:], "&&"):
			// [X&&[^Y]] (X without Y) is .NET's class subtraction [X-[Y]].
			if strings.HasPrefix(pat[i:], "&&[^") {
				b.WriteString("-[")
				inClass++
				i += 3
				continue
			}
			return "", false, errorf("character class intersection is only supported as [X&&[^Y]]")
		case c == ']' && inClass > 0:
			inClass--
			b.addByte(']')
			if inClass == 0 {
				atom = classStart
			}
		case c == '(' && inClass == 0 && strings.HasPrefix(pat[i:], "(?"):
			rest := pat[i+2:]
			switch {
			case strings.HasPrefix(rest, "<") && !strings.HasPrefix(rest, "<=") && !strings.HasPrefix(rest, "<!"),
				strings.HasPrefix(rest, "'"), strings.HasPrefix(rest, "P<"):
				named = true
				b.WriteString("(?")
			default:
				// inline options: Ruby's m is .NET's s
				j := 0
				for j < len(rest) && strings.IndexByte("imx-", rest[j]) >= 0 {
					j++
				}
				if j > 0 && j < len(rest) && (rest[j] == ')' || rest[j] == ':') {
					b.WriteString("(?" + strings.ReplaceAll(rest[:j], "m", "s"))
					i += 1 + j
					continue
				}
				b.WriteString("(?")
			}
			i++
		default:
			b.addByte(c)
		}
	}
	return b.String(), named, nil
}
