package filters

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMatchAndScan(t *testing.T) {
	c := newCtx(t, "UTC")
	const day = "It's a lovely day!"
	type want struct {
		text     string // JSON of the match (its text), or "null"
		captures string // JSON of .captures
		named    string // JSON of .named_captures
	}
	cases := []struct {
		name, input, pattern string
		want                 want
	}{
		// platform/liquid/filters/README.md "match" examples.
		{"lookaround", day, `(?<=a ).*(?= day)`, want{`"lovely"`, `[]`, `{}`}},
		{"captures", day, `a (bucolic|lovely) day`, want{`"a lovely day"`, `["lovely"]`, `{}`}},
		{"named captures", day, `a (?<adjective>bucolic|lovely) day`, want{`"a lovely day"`, `["lovely"]`, `{"adjective":"lovely"}`}},
		{"inline flag group", day, `a (?i:LOVELY) day`, want{`"a lovely day"`, `[]`, `{}`}},
		// Ruby semantics checked with ruby -e.
		{"no match", day, `sunny`, want{`null`, ``, ``}},
		{"(?m) is dot-all", "a\nb", `(?m)a.b`, want{`"a\nb"`, `[]`, `{}`}},
		{"dot stops at newline", "a\nb", `a.b`, want{`null`, ``, ``}},
		{"plain groups do not capture beside named ones", "ab12", `(?<l>[a-z]+)(\d+)`, want{`"ab12"`, `["ab"]`, `{"l":"ab"}`}},
		{"unmatched group is nil", "x", `(a)|x`, want{`"x"`, `[null]`, `{}`}},
		{"hex class", "DEADbeef xyz", `\h+`, want{`"DEADbeef"`, `[]`, `{}`}},
		{"library pattern", "12.5", `^(\d+\.?\d*|\.\d+)$`, want{`"12.5"`, `["12.5"]`, `{}`}},
		{"library named pattern", "foo-bar.baz", `(?<namespace>[\w-]{3,})\.(?<key>[\w-]{3,})`, want{`"foo-bar.baz"`, `["foo-bar","baz"]`, `{"namespace":"foo-bar","key":"baz"}`}},
		{"anchors", "x\nab", `\Aab\z`, want{`null`, ``, ``}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := call(t, c, "match", tc.input, []any{tc.pattern}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if g := toJSON(t, got); g != tc.want.text {
				t.Fatalf("match = %s, want %s", g, tc.want.text)
			}
			if got == nil {
				return
			}
			md := got.(*MatchData)
			caps, _ := md.Get("captures")
			named, _ := md.Get("named_captures")
			if g := toJSON(t, caps); g != tc.want.captures {
				t.Errorf("captures = %s, want %s", g, tc.want.captures)
			}
			if g := toJSON(t, named); g != tc.want.named {
				t.Errorf("named_captures = %s, want %s", g, tc.want.named)
			}
		})
	}

	scans := []struct {
		name, input, pattern, want, prop string
	}{
		// platform/liquid/filters/README.md "scan" examples.
		{"words", day, `[\w']+`, `["It's","a","lovely","day"]`, ""},
		{"captures", day, `(bucolic|lovely|day)`, `[["lovely"],["day"]]`, "captures"},
		{"posix punct", day, `(?<punctuation>[[:punct:]])`, `[{"punctuation":"'"},{"punctuation":"!"}]`, "named_captures"},
		// ruby -e: ^ and $ are line anchors; \w is ASCII.
		{"line anchors", "line1\nline2", `^line\d$`, `["line1","line2"]`, ""},
		{"ascii word", "été 42", `\w+`, `["t","42"]`, ""},
		// POSIX brackets are Unicode-aware in Ruby (ruby -e).
		{"posix alpha", "été 42 ½ x_y", `[[:alpha:]]+`, `["été","x","y"]`, ""},
		{"posix digit", "été 42 ٣", `[[:digit:]]+`, `["42","٣"]`, ""},
		{"posix punct", "a—b!", `[[:punct:]]`, `["—","!"]`, ""},
		{"posix space", "a b\u00a0c", `[[:space:]]`, "[\" \",\"\u00a0\"]", ""},
		{"posix negated", "é1", `[[:^alpha:]]`, `["1"]`, ""},
		{"posix in a larger class", "é1_-", `[[:alnum:]_]+`, `["é1_"]`, ""},
		{"property alpha", "Ünïcode 12 x_y", `\p{Alpha}+`, `["Ünïcode","x","y"]`, ""},
		{"property alnum in class", "Ünï 12", `[\p{Alnum}]+`, `["Ünï","12"]`, ""},
		{"negated property", "ab12", `\P{Digit}+`, `["ab"]`, ""},
		{"property in negated class", "Ab1", `[^\p{Alpha}]`, `["1"]`, ""},
		{"linebreak escape", "a\r\nb\nc", `\R`, `["\r\n","\n"]`, ""},
		{"pre_match", "a1b2", `\d`, `["a","a1b"]`, "pre_match"},
	}
	for _, tc := range scans {
		t.Run("scan "+tc.name, func(t *testing.T) {
			got, err := call(t, c, "scan", tc.input, []any{tc.pattern}, nil)
			if err != nil {
				t.Fatal(err)
			}
			list := got.([]any)
			if tc.prop != "" {
				for i, m := range list {
					list[i], _ = m.(*MatchData).Get(tc.prop)
				}
			}
			if g := toJSON(t, list); g != tc.want {
				t.Fatalf("scan = %s, want %s", g, tc.want)
			}
		})
	}

	errs := []struct{ name, filter, pattern, err string }{
		{"bad pattern", "match", `(`, "invalid regular expression"},
		{"bad posix class", "scan", `[[:nope:]]`, "invalid POSIX bracket type"},
	}
	for _, tc := range errs {
		if _, err := call(t, c, tc.filter, "x", []any{tc.pattern}, nil); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: want error %q, got %v", tc.name, tc.err, err)
		}
	}
	if _, err := call(t, c, "match", "x", []any{int64(1)}, nil); err == nil || !strings.Contains(err.Error(), "pattern must be a string") {
		t.Errorf("non-string pattern: %v", err)
	}
	if _, err := call(t, c, "match", "x", nil, nil); err == nil || !strings.Contains(err.Error(), "wrong number of arguments") {
		t.Errorf("missing pattern: %v", err)
	}
}

func TestMatchDataProperties(t *testing.T) {
	c := newCtx(t, "UTC")
	got, err := call(t, c, "match", "Order #1234 shipped", []any{`#(?<number>\d+)`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := got.(*MatchData)
	// Ruby MatchData: pre_match, post_match, size, names, [i], [name].
	props := []struct {
		key  string
		want string
	}{
		{"pre_match", `"Order "`}, {"post_match", `" shipped"`}, {"size", `2`}, {"names", `["number"]`},
		{"0", `"#1234"`}, {"1", `"1234"`}, {"-1", `"1234"`}, {"number", `"1234"`}, {"first", `"#1234"`},
		{"last", `"1234"`}, {"to_s", `"#1234"`}, {"captures", `["1234"]`},
	}
	for _, p := range props {
		v, ok := md.Get(p.key)
		if !ok || toJSON(t, v) != p.want {
			t.Errorf("match[%q] = %v (%v), want %s", p.key, toJSON(t, v), ok, p.want)
		}
	}
	if _, ok := md.Get("5"); ok {
		t.Error("group 5 should not exist")
	}
	if _, ok := md.Get("nope"); ok {
		t.Error("unknown property should not exist")
	}
	if md.LiquidString() != "#1234" || toJSON(t, md) != `"#1234"` {
		t.Errorf("match text = %q / %s", md.LiquidString(), toJSON(t, md))
	}
}

func TestRegexpIsBounded(t *testing.T) {
	// Catastrophic backtracking must stop at the render's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c := newCtx(t, "UTC")
	c.ctx = ctx
	input := strings.Repeat("a", 40) + "!"
	_, err := call(t, c, "match", input, []any{`^(a+)+$`}, nil)
	if err == nil || !strings.Contains(err.Error(), "match:") {
		t.Fatalf("want timeout error, got %v", err)
	}
}
