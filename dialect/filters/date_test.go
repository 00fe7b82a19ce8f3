package filters

import (
	"testing"
	"time"
)

func TestStrftimeMatchesRuby(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	// Expected strings printed by Ruby 3.1 Time#strftime with TZ=America/Chicago.
	cases := []struct {
		t      time.Time
		format string
		want   string
	}{
		{time.Date(2006, 1, 2, 15, 4, 5, 123456789, chicago),
			"%-m/%e/%y %l %P %^a %10A %-10A|%010d %_5H %:z %::z %j %U %W %V %G %u %w %s %L %N %3N %9N %C %D %x %X %c %r %R %T %F %h %+ %^B %#p %#a %-d %k %I %Z",
			"1/ 2/06  3 pm MON     Monday Monday|0000000002    15 -06:00 -06:00:00 002 01 01 01 2006 1 1 1136235845 123 123456789 123 123456789 20 01/02/06 01/02/06 15:04:05 Mon Jan  2 15:04:05 2006 03:04:05 PM 15:04 15:04:05 2006-01-02 Jan %+ JANUARY pm MON 2 15 03 CST"},
		{time.Date(2021, 12, 31, 0, 0, 0, 0, chicago), "%U %W %V %G %g %j", "52 52 52 2021 21 365"},
		{time.Date(2021, 1, 3, 9, 0, 0, 0, chicago), "%U %W %V %G %g %j %a", "01 00 53 2020 20 003 Sun"},
	}
	for _, tc := range cases {
		if got, _ := Strftime(tc.t, tc.format); got != tc.want {
			t.Errorf("Strftime(%q)\n got %q\nwant %q", tc.format, got, tc.want)
		}
	}
}

func TestDateFilter(t *testing.T) {
	chicago := newCtx(t, "America/Chicago")
	ny := newCtx(t, "America/New_York") // clock: 2021-01-04 14:06 -0500
	cases := []filterCase{
		// platform/liquid/filters/README.md "date, parse_date" › Format (store zone -06:00).
		{name: "format", filter: "date", input: "2000-01-01", args: []any{"%Y-%m-%d %H:%M %z"}, want: `"2000-01-01 00:00 -0600"`},
		{name: "default iso8601", filter: "date", input: "2000-01-01", want: `"2000-01-01T00:00:00-06:00"`},
		{name: "tz utc", filter: "date", input: "2000-01-01", kw: kw("tz", "UTC"), want: `"2000-01-01T06:00:00Z"`},
		// Same section › advance: calendar-aware months and years.
		{name: "advance year month", filter: "date", input: "2023-01-31", args: []any{"%F"}, kw: kw("advance", "1 year 1 month"), want: `"2024-02-29"`},
		{name: "advance mixed signs", filter: "date", input: "2000-01-01 12:00:00", args: []any{"%F %T"}, kw: kw("advance", "-3 hours, +2 minutes, -1 second"), want: `"2000-01-01 09:01:59"`},
		{name: "advance singular units", filter: "date", input: "2000-01-01 12:00:00", args: []any{"%F %T"}, kw: kw("advance", "-3 hour 2 minute -1 second"), want: `"2000-01-01 09:01:59"`},
		{name: "advance weeks and days", filter: "date", input: "2000-01-01", args: []any{"%F"}, kw: kw("advance", "2 weeks, -1 day"), want: `"2000-01-14"`},
		{name: "advance bad", filter: "date", input: "2000-01-01", kw: kw("advance", "1 fortnight"), err: "invalid advance"},
		// Calendar days keep wall time across DST; hours are exact (2021-03-14 is a DST change in Chicago).
		{name: "advance day over dst", filter: "date", input: "2021-03-13 12:00", args: []any{"%F %H:%M %z"}, kw: kw("advance", "1 day"), want: `"2021-03-14 12:00 -0500"`},
		{name: "advance 24 hours over dst", filter: "date", input: "2021-03-13 12:00", args: []any{"%F %H:%M %z"}, kw: kw("advance", "24 hours"), want: `"2021-03-14 13:00 -0500"`},
		// Boundaries, in the documented order.
		{name: "beginning_of_month", filter: "date", input: "2021-05-19 10:30", kw: kw("beginning_of_month", true), want: `"2021-05-01T00:00:00-05:00"`},
		{name: "end_of_month", filter: "date", input: "2021-02-10", args: []any{"%F %T.%L"}, kw: kw("end_of_month", true), want: `"2021-02-28 23:59:59.999"`},
		{name: "beginning_of_year", filter: "date", input: "2021-05-19", args: []any{"%F"}, kw: kw("beginning_of_year", true), want: `"2021-01-01"`},
		{name: "end_of_year", filter: "date", input: "2021-05-19", args: []any{"%F %T"}, kw: kw("end_of_year", true), want: `"2021-12-31 23:59:59"`},
		{name: "beginning_of_quarter", filter: "date", input: "2021-05-19", args: []any{"%F"}, kw: kw("beginning_of_quarter", true), want: `"2021-04-01"`},
		{name: "end_of_quarter", filter: "date", input: "2021-05-19", args: []any{"%F"}, kw: kw("end_of_quarter", true), want: `"2021-06-30"`},
		{name: "beginning_of_week monday", filter: "date", input: "2021-05-19", args: []any{"%F %a"}, kw: kw("beginning_of_week", "monday"), want: `"2021-05-17 Mon"`},
		{name: "beginning_of_week sunday", filter: "date", input: "2021-05-19", args: []any{"%F %a"}, kw: kw("beginning_of_week", "sunday"), want: `"2021-05-16 Sun"`},
		{name: "end_of_week sunday start", filter: "date", input: "2021-05-19", args: []any{"%F %a %T"}, kw: kw("end_of_week", "sunday"), want: `"2021-05-22 Sat 23:59:59"`},
		{name: "bad weekday", filter: "date", input: "2021-05-19", kw: kw("beginning_of_week", "someday"), err: "must name a weekday"},
		{name: "middle_of_day then advance", filter: "date", input: "2021-05-19 08:00", args: []any{"%F %H:%M"}, kw: kw("middle_of_day", true, "advance", "1 hour"), want: `"2021-05-19 13:00"`},
		{name: "tz before boundaries", filter: "date", input: "2021-05-19 22:00", args: []any{"%F %H:%M"}, kw: kw("tz", "Asia/Tokyo", "beginning_of_day", true), want: `"2021-05-20 00:00"`},
		{name: "bad tz", filter: "date", input: "2021-05-19", kw: kw("tz", "Mars/Olympus"), err: "invalid time zone"},
		// Input forms.
		{name: "offset input converted to store zone", filter: "date", input: "2021-05-19T12:00:00Z", want: `"2021-05-19T07:00:00-05:00"`},
		{name: "unix seconds", filter: "date", input: int64(0), args: []any{"%F %T %z"}, want: `"1969-12-31 18:00:00 -0600"`},
		{name: "unix string", filter: "date", input: "86400", args: []any{"%s"}, want: `"86400"`},
		{name: "month name input", filter: "date", input: "March 5, 2021", args: []any{"%F"}, want: `"2021-03-05"`},
		{name: "rfc2822 input", filter: "date", input: "Mon, 02 Jan 2006 15:04:05 -0700", args: []any{"%F %T %z"}, want: `"2006-01-02 16:04:05 -0600"`},
		// ActiveSupport 6.1 Time.zone.parse (ruby-activesupport) for the following inputs.
		{name: "compact date input", filter: "date", input: "20060102", want: `"2006-01-02T00:00:00-06:00"`},
		{name: "time only is today", filter: "date", input: "10:00", args: []any{"%F %H:%M"}, want: `"2021-01-04 10:00"`},
		{name: "fraction and Z", filter: "date", input: "2021-05-19T12:00:00.123456Z", args: []any{"%FT%T.%L%:z"}, want: `"2021-05-19T07:00:00.123-05:00"`},
		{name: "month 13 returns input", filter: "date", input: "2021-13-01", want: `"2021-13-01"`},
		{name: "ruby d/m/y input", filter: "date", input: "01/02/2006", args: []any{"%F"}, want: `"2006-02-01"`},
		{name: "unparseable returns input", filter: "date", input: "not a date", args: []any{"%F"}, want: `"not a date"`},
		{name: "nil returns nil", filter: "date", input: nil, args: []any{"%F"}, want: `null`},
		{name: "time value", filter: "date", input: time.Date(2021, 5, 19, 12, 0, 0, 0, time.UTC), args: []any{"%F %H:%M"}, want: `"2021-05-19 07:00"`},
		{name: "format not string", filter: "date", input: "2021-05-19", args: []any{int64(1)}, err: "format must be a string"},
	}
	runCases(t, chicago, cases)

	nowCases := []filterCase{
		// filters.md history "date, parse_date" › Using the current time (clock 2021-01-04 14:06 -0500).
		{name: "now", filter: "date", input: "now", args: []any{"%Y-%m-%d %H:%M %z"}, want: `"2021-01-04 14:06 -0500"`},
		{name: "now + 6 weeks", filter: "date", input: "now + 6 weeks", args: []any{"%Y-%m-%d %H:%M %z"}, want: `"2021-02-15 14:06 -0500"`},
		{name: "now + 3 months", filter: "date", input: "now + 3 months", args: []any{"%Y-%m-%d %H:%M %z"}, want: `"2021-04-04 14:06 -0400"`},
		{name: "now - 3 months", filter: "date", input: "now - 3 months", args: []any{"%Y-%m-%d %H:%M %z"}, want: `"2020-10-04 14:06 -0400"`},
		{name: "now tz utc", filter: "date", input: "now", args: []any{"%Y-%m-%d %H:%M %z"}, kw: kw("tz", "UTC"), want: `"2021-01-04 19:06 +0000"`},
		{name: "now epoch", filter: "date", input: "now", args: []any{"%s"}, want: `"1609787160"`},
		{name: "now bad offset", filter: "date", input: "now + soon", err: "invalid advance"},
	}
	runCases(t, ny, nowCases)
}

func TestParseDate(t *testing.T) {
	sydney := newCtx(t, "Australia/Sydney") // +11:00 in January
	cases := []filterCase{
		// platform/liquid/filters/README.md "date, parse_date" › Parsing dates.
		{name: "doc example", filter: "parse_date", input: "01-01-20", args: []any{"%m-%d-%y"}, want: `"2020-01-01T00:00:00+11:00"`},
		{name: "doc invalid", filter: "parse_date", input: "ab-cd-ef", args: []any{"%m-%d-%y"}, want: `null`},
		{name: "time with offset", filter: "parse_date", input: "2020-06-01 10:30:00 +0000", args: []any{"%Y-%m-%d %H:%M:%S %z"}, want: `"2020-06-01T20:30:00+10:00"`},
		{name: "month names and am/pm", filter: "parse_date", input: "Mar 5 2021 3:04 PM", args: []any{"%b %d %Y %I:%M %p"}, want: `"2021-03-05T15:04:00+11:00"`},
		{name: "missing day is first", filter: "parse_date", input: "2021/07", args: []any{"%Y/%m"}, want: `"2021-07-01T00:00:00+10:00"`},
		// Missing upper components come from now (2021-01-04 in the test clock).
		{name: "time only uses today", filter: "parse_date", input: "09:15", args: []any{"%H:%M"}, want: `"2021-01-04T09:15:00+11:00"`},
		// ActiveSupport 6.1 TimeZone#strptime (ruby-activesupport): day overflow rolls over, month 13 fails.
		{name: "day rolls over", filter: "parse_date", input: "2021-02-30", args: []any{"%Y-%m-%d"}, want: `"2021-03-02T00:00:00+11:00"`},
		{name: "invalid month", filter: "parse_date", input: "2021-13-01", args: []any{"%Y-%m-%d"}, want: `null`},
		{name: "leftover text allowed", filter: "parse_date", input: "2021-01-01x", args: []any{"%Y-%m-%d"}, want: `"2021-01-01T00:00:00+11:00"`},
		{name: "epoch", filter: "parse_date", input: "1609459200", args: []any{"%s"}, want: `"2021-01-01T11:00:00+11:00"`},
		{name: "nil", filter: "parse_date", input: nil, args: []any{"%F"}, want: `null`},
		{name: "no format", filter: "parse_date", input: "x", err: "wrong number of arguments"},
	}
	runCases(t, sydney, cases)
}

// Ruby rejects a format that ends inside a conversion
// (ruby -e 'Time.now.strftime("%Y %")' raises "invalid format: %Y %").
func TestStrftimeInvalidFormat(t *testing.T) {
	if _, err := Strftime(time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), "%Y %"); err == nil || err.Error() != "invalid format: %Y %" {
		t.Fatalf("err = %v", err)
	}
	got, err := Strftime(time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), "%-z %Z")
	if err != nil || got != "+0000 UTC" {
		t.Fatalf("UTC zone: %q, %v", got, err)
	}
}
