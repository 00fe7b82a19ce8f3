package filters

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestStrftimeRubyFixture compares Strftime with Ruby 3.1's Time#strftime
// on random times, zones, flags and widths (testdata/gen_strftime.rb).
func TestStrftimeRubyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/strftime_ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][]any
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("fixture has only %d cases", len(cases))
	}
	for _, c := range cases {
		loc, err := time.LoadLocation(c[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		tm := time.Unix(int64(c[1].(float64)), int64(c[2].(float64))).In(loc)
		if got, _ := Strftime(tm, c[3].(string)); got != c[4].(string) {
			t.Errorf("%s %v %q\n got %q\nwant %q", c[0], tm, c[3], got, c[4])
		}
	}
}
