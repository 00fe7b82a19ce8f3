package filters

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestStrptimeRubyFixture compares parse_date's Strptime with
// ActiveSupport's TimeZone#strptime (testdata/gen_strptime.rb).
func TestStrptimeRubyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/strptime_ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][]string
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2021, 1, 4, 14, 6, 0, 0, loc)
	for _, c := range cases {
		got := "ERR"
		if tm, ok := Strptime(c[0], c[1], loc, now); ok {
			got = ISO8601(tm)
		}
		if got != c[2] {
			t.Errorf("strptime(%q, %q) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}
