package filters

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// TestCSVRubyFixture compares csv and parse_csv (with and without headers)
// with Ruby 3.1's CSV library on the random rows of testdata/gen_csv.rb.
func TestCSVRubyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/csv_ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []json.RawMessage
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	c := newCtx(t, "UTC")
	bad := 0
	for _, raw := range cases {
		v, err := value.FromJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		cs := v.([]any)
		rows, sep, text := cs[0], cs[1].(string), cs[2].(string)
		got, err := call(t, c, "csv", rows, []any{sep}, nil)
		if err != nil || got != text {
			bad++
			t.Errorf("csv %s sep %q\n got %q (%v)\nwant %q", toJSON(t, rows), sep, got, err, text)
			continue
		}
		p, err := call(t, c, "parse_csv", text, nil, kw("delimiter", sep))
		want := toJSON(t, cs[3])
		if err != nil && want != `"ERR"` || err == nil && toJSON(t, p) != want {
			bad++
			t.Errorf("parse_csv %q sep %q\n got %v (%v)\nwant %s", text, sep, p, err, want)
		}
		h, err := call(t, c, "parse_csv", text, nil, kw("delimiter", sep, "headers", true))
		wantH := cs[4]
		if err != nil {
			if toJSON(t, wantH) != `"ERR"` {
				bad++
				t.Errorf("headers %q: %v", text, err)
			}
			continue
		}
		var pairs []any
		for _, m := range h.([]any) {
			var ps []any
			m.(*value.Map).Each(func(k string, v any) bool { ps = append(ps, []any{k, v}); return true })
			if ps == nil {
				ps = []any{}
			}
			pairs = append(pairs, ps)
		}
		if pairs == nil {
			pairs = []any{}
		}
		// "" and nil headers are distinct in Ruby but one key here: keep the first.
		var dedup []any
		rowsH, _ := wantH.([]any)
		for _, row := range rowsH {
			seen := map[string]bool{}
			ps := []any{}
			for _, kv := range row.([]any) {
				k := kv.([]any)[0].(string)
				if !seen[k] {
					seen[k] = true
					ps = append(ps, kv)
				}
			}
			dedup = append(dedup, ps)
		}
		if dedup == nil {
			dedup = []any{}
		}
		wantH = dedup
		if toJSON(t, pairs) != toJSON(t, wantH) {
			bad++
			t.Errorf("headers %q sep %q\n got %s\nwant %s", text, sep, toJSON(t, pairs), toJSON(t, wantH))
		}
	}
	if bad > 0 {
		t.Logf("%d/%d differ", bad, len(cases))
	}
}
