package filters

import (
	"encoding/json"
	"os"
	"testing"
)

// TestRegexpRubyFixture compares scan (matches, captures, named captures)
// with Ruby 3.1's String#scan on the patterns and inputs of
// testdata/gen_regexp.rb.
func TestRegexpRubyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/regexp_ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][]any
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	c := newCtx(t, "UTC")
	bad := 0
	for _, cs := range cases {
		pat, in := cs[0].(string), cs[1].(string)
		want, _ := json.Marshal(cs[2])
		got, err := call(t, c, "scan", in, []any{pat}, nil)
		var rows []any
		if err == nil {
			for _, m := range got.([]any) {
				md := m.(*MatchData)
				caps, _ := md.Get("captures")
				named, _ := md.Get("named_captures")
				nj, _ := named.(interface{ MarshalJSON() ([]byte, error) }).MarshalJSON()
				var nv any
				if err := json.Unmarshal(nj, &nv); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, []any{md.text, caps, nv})
			}
		}
		if rows == nil {
			rows = []any{}
		}
		g, _ := json.Marshal(rows)
		if err != nil || string(g) != string(want) {
			bad++
			if bad < 30 {
				t.Errorf("/%s/ on %q\n got %s (%v)\nwant %s", pat, in, g, err, want)
			}
		}
	}
	if bad > 0 {
		t.Logf("%d/%d differ", bad, len(cases))
	}
}
