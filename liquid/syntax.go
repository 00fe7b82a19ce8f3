package liquid

import "strings"

// Hand-written equivalents of the hottest lax-mode regexps; syntax_test.go
// checks them against the regexps they replace.

// matchIfSyntax is If::Syntax, (QF)\s*([=!<>a-z_]+)?\s*(QF)?, unanchored.
// Missing groups are returned as "" with their flag false.
func matchIfSyntax(s string) (left, op, right string, hasOp, hasRight, ok bool) {
	i, e := 0, -1
	for ; i < len(s); i++ {
		if e = matchQuotedFragment(s, i); e > i {
			break
		}
	}
	if e <= i {
		return "", "", "", false, false, false
	}
	left = s[i:e]
	j := skipSpaces(s, e)
	k := j
	for k < len(s) && isOpByte(s[k]) {
		k++
	}
	if k > j {
		op, hasOp = s[j:k], true
		j = skipSpaces(s, k)
	}
	if r := matchQuotedFragment(s, j); r > j {
		right, hasRight = s[j:r], true
	}
	return left, op, right, hasOp, hasRight, true
}

func isOpByte(c byte) bool {
	return c == '=' || c == '!' || c == '<' || c == '>' || c == '_' || c >= 'a' && c <= 'z'
}

func isSignatureByte(c byte) bool {
	return isWordByte(c) || c == '-' || c == '.' || c == '[' || c == ']'
}

// signatureRun matches (\(?[\w\-\.\[\]]\)?)+ greedily at i, returning its
// end, or i when there is no match.
func signatureRun(s string, i int) int {
	j := i
	for {
		k := j
		if k < len(s) && s[k] == '(' {
			k++
		}
		if k < len(s) && isSignatureByte(s[k]) {
			k++
			if k < len(s) && s[k] == ')' {
				k++
			}
			j = k
			continue
		}
		return j
	}
}

// matchAssignSyntax is Assign::Syntax, (VariableSignature+)\s*=\s*(.*)\s*
// with /m, unanchored.
func matchAssignSyntax(s string) (to, from string, ok bool) {
	for i := 0; i < len(s); i++ {
		e := signatureRun(s, i)
		if e == i {
			continue
		}
		j := skipSpaces(s, e)
		if j < len(s) && s[j] == '=' {
			return s[i:e], s[skipSpaces(s, j+1):], true
		}
	}
	return "", "", false
}

// firstQuotedFragment finds the leftmost QuotedFragment in s.
func firstQuotedFragment(s string, from int) (start, end int, ok bool) {
	for i := from; i < len(s); i++ {
		if e := matchQuotedFragment(s, i); e > i {
			return i, e, true
		}
	}
	return 0, 0, false
}

// matchWhenSyntax is Case::WhenSyntax,
// (QF)(?:(?:\s+or\s+|\s*\,\s*)(QF.*))? with /m, unanchored.
func matchWhenSyntax(s string) (first, rest string, hasRest, ok bool) {
	i, e, ok := firstQuotedFragment(s, 0)
	if !ok {
		return "", "", false, false
	}
	first = s[i:e]
	// \s+or\s+
	if j := skipSpaces(s, e); j > e && j+2 < len(s) && s[j] == 'o' && s[j+1] == 'r' {
		if k := skipSpaces(s, j+2); k > j+2 && matchQuotedFragment(s, k) > k {
			return first, s[k:], true, true
		}
	}
	// \s*,\s*
	if j := skipSpaces(s, e); j < len(s) && s[j] == ',' {
		if k := skipSpaces(s, j+1); matchQuotedFragment(s, k) > k {
			return first, s[k:], true, true
		}
	}
	return first, "", false, true
}

func isVarSegByte(c byte) bool { return isWordByte(c) || c == '-' }

// matchForSyntax is For::Syntax,
// \A([\w\-]+)\s+in\s+((?:QF)+)\s*(reversed)?
func matchForSyntax(s string) (variable, collection string, reversed, ok bool) {
	i := 0
	for i < len(s) && isVarSegByte(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", false, false
	}
	j := skipSpaces(s, i)
	if j == i || !(j+2 < len(s) && s[j] == 'i' && s[j+1] == 'n') {
		return "", "", false, false
	}
	k := skipSpaces(s, j+2)
	if k == j+2 {
		return "", "", false, false
	}
	e := k
	for {
		n := matchQuotedFragment(s, e)
		if n <= e {
			break
		}
		e = n
	}
	if e == k {
		return "", "", false, false
	}
	r := skipSpaces(s, e)
	reversed = len(s)-r >= 8 && s[r:r+8] == "reversed"
	return s[:i], s[k:e], reversed, true
}

// scanTagAttributes is markup.scan(TagAttributes):
// (\w[\w-]*)\s*\:\s*(QF), returning key/value pairs.
func scanTagAttributes(s string) [][2]string {
	var out [][2]string
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		e := i + 1
		for e < len(s) && isVarSegByte(s[e]) {
			e++
		}
		j := skipSpaces(s, e)
		if j < len(s) && s[j] == ':' {
			k := skipSpaces(s, j+1)
			if v := matchQuotedFragment(s, k); v > k {
				out = append(out, [2]string{s[i:e], s[k:v]})
				i = v
				continue
			}
		}
		i++
	}
	return out
}

// matchQFAlt3 matches (?:[^\s,\|'"]|"[^"]*"|'[^']*')+ greedily at i.
func matchQFAlt3(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"' || c == '\'':
			k := strings.IndexByte(s[j+1:], c)
			if k < 0 {
				return j
			}
			j += k + 2
		case isSpace(c) || c == ',' || c == '|':
			return j
		default:
			j++
		}
	}
	return j
}

// matchJustTagAttribute is Variable::JustTagAttributes,
// \A(\w[\w-]*)\s*\:\s*(QF)\z.
func matchJustTagAttribute(s string) (key, val string, ok bool) {
	if s == "" || !isWordByte(s[0]) {
		return "", "", false
	}
	e := 1
	for e < len(s) && isVarSegByte(s[e]) {
		e++
	}
	j := skipSpaces(s, e)
	if j >= len(s) || s[j] != ':' {
		return "", "", false
	}
	k := skipSpaces(s, j+1)
	if k >= len(s) {
		return "", "", false
	}
	if matchQuotedFragment(s, k) == len(s) || matchQFAlt3(s, k) == len(s) {
		return s[:e], s[k:], true
	}
	return "", "", false
}
