package filters

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestParseTimeRubyFixture compares ParseTime with ActiveSupport's
// Time.zone.parse (testdata/gen_dates.rb); Ruby's errors count as
// unparseable.
func TestParseTimeRubyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/dates_ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][]any
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, loc)
	for _, c := range cases {
		in := c[0].(string)
		want, _ := c[1].(string)
		if want == "" || want == "ERR" {
			want = "unparseable"
		}
		got := "unparseable"
		if tm, ok := ParseTime(in, loc, now); ok {
			got = ISO8601(tm.In(loc))
		}
		if got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
}
