package liquid

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The Ruby Liquid regexps the hand-written matchers stand for.
var (
	reIfSyntax         = regexp.MustCompile(`(` + reQuotedFragment + `)\s*([=!<>a-z_]+)?\s*(` + reQuotedFragment + `)?`)
	reJustTagAttribute = regexp.MustCompile(`\A(\w[\w-]*)\s*\:\s*(` + reQuotedFragment + `)\z`)
	reTagAttributes    = regexp.MustCompile(`(\w[\w-]*)\s*\:\s*(` + reQuotedFragment + `)`)
	reAssign           = regexp.MustCompile(`(?s)((?:\(?[\w\-\.\[\]]\)?)+)\s*=\s*(.*)\s*`)
	reWhenSyntax       = regexp.MustCompile(`(?s)(` + reQuotedFragment + `)(?:(?:\s+or\s+|\s*\,\s*)((?:` + reQuotedFragment + `).*))?`)
	reForSyntax        = regexp.MustCompile(`\A([\w\-]+)\s+in\s+((?:` + reQuotedFragment + `)+)\s*(reversed)?`)
)

func syntaxSamples() []string {
	samples := []string{
		"", " ", "a", "a == b", "a==b", "'a' == \"b\"", `"a"b`, "a b c", "a contains 'x y'", "x.y[0] >= 3 ", "  a  ", "'unterminated",
		"a,b", "a|b", "== b", "a =", "x = 1", "x=1", "a.b = c | f: 1", "(x) = 1", "a(=", "a) = 1", "x[0] = y", " = 1", "= 1", "x\n=\n5",
		"x == \"a b\" and", "'a''b' != c", "a<>b", "not a", "a _b c",
		"x in arr", "x in arr reversed", "x in (1..3) limit: 2 offset:1", "x  in  a.b[0] reversed", "x in", "x-y in 'a','b'", "in in in",
		"x in arr limit:2 reversed", "1 or 2", "1, 2,3", "'a' or 'b' or c", "a or", "a ,", "a orb", "a or  b", "x:1 y : 2 z: 'a b', w:",
		"a-b: c", "-a: b", `k: "a"b`, `k: 'a' `, "k:v", "k :  v", "k: a,b", "k: 'a,b'", `k: "x`,
	}
	alphabet := []byte("ab =!<>'\"(),|.[]_-\n\t1xinorevsd:")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		b := make([]byte, r.IntN(14))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		samples = append(samples, string(b), "x in "+string(b))
	}
	return samples
}

// TestHandWrittenSyntaxMatchesRegexps checks the hand-written matchers of
// syntax.go against the Ruby Liquid regexps they stand for.
func TestHandWrittenSyntaxMatchesRegexps(t *testing.T) {
	for _, s := range syntaxSamples() {
		m := reIfSyntax.FindStringSubmatchIndex(s)
		left, op, right, hasOp, hasRight, ok := matchIfSyntax(s)
		if ok != (m != nil) {
			t.Fatalf("if %q: ok %v, regexp %v", s, ok, m)
		}
		if ok {
			if left != s[m[2]:m[3]] || hasOp != (m[4] >= 0) || hasRight != (m[6] >= 0) ||
				hasOp && op != s[m[4]:m[5]] || hasRight && right != s[m[6]:m[7]] {
				t.Fatalf("if %q: got (%q %q %q), regexp %v", s, left, op, right, m)
			}
		}
		wm := reWhenSyntax.FindStringSubmatchIndex(s)
		first, rest, hasRest, ok := matchWhenSyntax(s)
		if ok != (wm != nil) || ok && (first != s[wm[2]:wm[3]] || hasRest != (wm[4] >= 0) || hasRest && rest != s[wm[4]:wm[5]]) {
			t.Fatalf("when %q: got (%q, %q, %v, %v), regexp %v", s, first, rest, hasRest, ok, wm)
		}
		fm := reForSyntax.FindStringSubmatch(s)
		v, coll, rev, ok := matchForSyntax(s)
		if ok != (fm != nil) || ok && (v != fm[1] || coll != fm[2] || rev != (fm[3] != "")) {
			t.Fatalf("for %q: got (%q, %q, %v, %v), regexp %q", s, v, coll, rev, ok, fm)
		}
		var want [][2]string
		for _, m := range reTagAttributes.FindAllStringSubmatch(s, -1) {
			want = append(want, [2]string{m[1], m[2]})
		}
		got := scanTagAttributes(s)
		if len(got) != len(want) {
			t.Fatalf("attributes %q: got %q, regexp %q", s, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("attributes %q: got %q, regexp %q", s, got, want)
			}
		}
		jm := reJustTagAttribute.FindStringSubmatch(s)
		jk, jv, ok := matchJustTagAttribute(s)
		if ok != (jm != nil) || ok && (jk != jm[1] || jv != jm[2]) {
			t.Fatalf("attribute %q: got (%q, %q, %v), regexp %q", s, jk, jv, ok, jm)
		}
		am := reAssign.FindStringSubmatch(s)
		to, from, ok := matchAssignSyntax(s)
		if ok != (am != nil) || ok && (to != am[1] || from != am[2]) {
			t.Fatalf("assign %q: got (%q, %q, %v), regexp %q", s, to, from, ok, am)
		}
	}
}
