package filter

import (
	"testing"
	"time"
)

// Expected values are Ruby 3.1's Time.parse and Time#strftime, and Ruby
// Liquid 5.4.0's date filter, run with TZ=UTC.
func TestParseTime(t *testing.T) {
	local := time.FixedZone("UTC", 0)
	now := time.Date(2026, 11, 23, 10, 55, 58, 0, local)
	const layout = "%Y-%m-%d %H:%M:%S.%N %z %Z"
	tests := []struct {
		in, want string
	}{
		{"2024-01-05", "2024-01-05 00:00:00.000000000 +0000 UTC"},
		{"2024-01-05t10:00:00z", "2024-01-05 10:00:00.000000000 +0000 UTC"},
		{"2024-01-05t10:00:00.123+05:30", "2024-01-05 10:00:00.123000000 +0530 "},
		{"2024-01-05 10:00:00 -0500", "2024-01-05 10:00:00.000000000 -0500 "},
		{"2024-01-05 10:00:00 gmt", "2024-01-05 10:00:00.000000000 +0000 UTC"},
		{"20240105", "2024-01-05 00:00:00.000000000 +0000 UTC"},
		{"jan 5, 2024", "2024-01-05 00:00:00.000000000 +0000 UTC"},
		{"january 5 2024 10:00 pm", "2024-01-05 22:00:00.000000000 +0000 UTC"},
		{"5 jan 2024", "2024-01-05 00:00:00.000000000 +0000 UTC"},
		{"fri, 05 jan 2024 10:00:00 +0000", "2024-01-05 10:00:00.000000000 +0000 UTC"},
		{"01/05/2024", "2024-05-01 00:00:00.000000000 +0000 UTC"},
		{"05/01/24", "2005-01-24 00:00:00.000000000 +0000 UTC"},
		{"10:00", "2026-11-23 10:00:00.000000000 +0000 UTC"},
		{"10pm", "2026-11-23 22:00:00.000000000 +0000 UTC"},
		{"12", "2026-11-12 00:00:00.000000000 +0000 UTC"},
		{"jan", "2026-01-01 00:00:00.000000000 +0000 UTC"},
		{"5th", "2026-11-05 00:00:00.000000000 +0000 UTC"},
		{"2024-02-30", "2024-03-01 00:00:00.000000000 +0000 UTC"},
		{"12:30:45.5", "2026-11-23 12:30:45.500000000 +0000 UTC"},
		{"2037/4/31t10 p.m. edt", "2037-04-30 22:00:00.000000000 -0400 "},
		{"-0058-09 22:45:58", "2025-12-31 22:45:58.000000000 -0900 "},
		{"abc", ""}, {"2024-13-45", ""}, {"tomorrow", ""}, {"monday", ""}, {"2024-01-05 25:00", ""},
	}
	for _, tc := range tests {
		got, ok := ParseTime(tc.in, now)
		if tc.want == "" {
			if ok {
				t.Errorf("ParseTime(%q) = %v, want failure", tc.in, got)
			}
			continue
		}
		if !ok {
			t.Errorf("ParseTime(%q) failed, want %s", tc.in, tc.want)
			continue
		}
		if s := sub(got, layout); s != tc.want {
			t.Errorf("ParseTime(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestStrftime(t *testing.T) {
	utc := time.Unix(1700000000, 0).UTC()
	ist := time.Unix(1700000000, 0).In(time.FixedZone("", 19800))
	pst := time.Unix(1700000000, 0).In(time.FixedZone("", -28800))
	tests := []struct {
		format        string
		utc, ist, pst string
		invalid       bool
	}{
		{format: "%Y-%m-%d %H:%M:%S", utc: "2023-11-14 22:13:20", ist: "2023-11-15 03:43:20", pst: "2023-11-14 14:13:20"},
		{format: "%z|%-z|%_z|%8z|%:z|%::z|%:::z", utc: "+0000|-0000| +000|+0000000|+00:00|+00:00:00|+00",
			ist: "+0530|+0530| +530|+0000530|+05:30|+05:30:00|+05:30", pst: "-0800|-0800| -800|-0000800|-08:00|-08:00:00|-08"},
		{format: "%Z|%^Z|%#Z|%5Z", utc: "UTC|UTC|utc|  UTC", ist: "|||", pst: "|||"},
		{format: "%a %A %^b %#B %h", utc: "Tue Tuesday NOV NOVEMBER Nov", ist: "Wed Wednesday NOV NOVEMBER Nov", pst: "Tue Tuesday NOV NOVEMBER Nov"},
		{format: "%p %P %#p %#P %^P", utc: "PM pm pm PM PM", ist: "AM am am AM AM", pst: "PM pm pm PM PM"},
		{format: "%e|%-d|%_m|%05d|%0_5d|%-l|%k", utc: "14|14|11|00014|   14|10|22", ist: "15|15|11|00015|   15|3| 3", pst: "14|14|11|00014|   14|2|14"},
		{format: "%j %U %W %u %w %G %g %V", utc: "318 46 46 2 2 2023 23 46", ist: "319 46 46 3 3 2023 23 46", pst: "318 46 46 2 2 2023 23 46"},
		{format: "%C %y %s %L %3N %12N", utc: "20 23 1700000000 000 000 000000000000", ist: "20 23 1700000000 000 000 000000000000", pst: "20 23 1700000000 000 000 000000000000"},
		{format: "%c|%D|%F|%T|%R|%r|%v", utc: "Tue Nov 14 22:13:20 2023|11/14/23|2023-11-14|22:13:20|22:13|10:13:20 PM|14-NOV-2023",
			ist: "Wed Nov 15 03:43:20 2023|11/15/23|2023-11-15|03:43:20|03:43|03:43:20 AM|15-NOV-2023",
			pst: "Tue Nov 14 14:13:20 2023|11/14/23|2023-11-14|14:13:20|14:13|02:13:20 PM|14-NOV-2023"},
		{format: "%-^20D|%10c", utc: "            11/14/23|Tue Nov 14 22:13:20 2023", ist: "            11/15/23|Wed Nov 15 03:43:20 2023", pst: "            11/14/23|Tue Nov 14 14:13:20 2023"},
		{format: "%%|%5%|%n|%Q|%+|%Ez|%:d|%1-|%::::S", utc: "%|    %|\n|%Q|%+|%Ez|%:d|%1-|20", ist: "%|    %|\n|%Q|%+|%Ez|%:d|%1-|20", pst: "%|    %|\n|%Q|%+|%Ez|%:d|%1-|20"},
		{format: "abc%", invalid: true},
		{format: "%-", invalid: true},
		{format: "%E%", invalid: true},
	}
	for _, tc := range tests {
		for _, c := range []struct {
			t    time.Time
			want string
		}{{utc, tc.utc}, {ist, tc.ist}, {pst, tc.pst}} {
			got, err := Strftime(c.t, tc.format)
			if tc.invalid {
				if err == nil || err.Error() != "invalid format: "+tc.format {
					t.Errorf("Strftime(%q) = %q, %v; want invalid format", tc.format, got, err)
				}
				continue
			}
			if err != nil || got != c.want {
				t.Errorf("Strftime(%v, %q) = %q, %v; want %q", c.t, tc.format, got, err, c.want)
			}
		}
	}
}

func TestDateFilter(t *testing.T) {
	runFilterCases(t, []filterCase{
		{name: "now", filter: "date", input: "now", args: []any{"%Y-%m-%d %H:%M:%S.%L %Z"}, want: "2026-11-18 11:06:40.123 UTC"},
		{name: "today any case", filter: "date", input: "ToDay", args: []any{"%F"}, want: "2026-11-18"},
		{name: "timestamp", filter: "date", input: 1700000000, args: []any{"%F %T"}, want: "2023-11-14 22:13:20"},
		{name: "timestamp string", filter: "date", input: "1700000000", args: []any{"%s"}, want: "1700000000"},
		{name: "iso string", filter: "date", input: "2021-03-04T05:06:07+02:00", args: []any{"%Y-%m-%dT%H:%M:%S%z"}, want: "2021-03-04T05:06:07+0200"},
		{name: "rfc 2822", filter: "date", input: "Tue, 05 Mar 2024 10:00:00 +0000", args: []any{"%a %d %b"}, want: "Tue 05 Mar"},
		{name: "float unchanged", filter: "date", input: 1.5, args: []any{"%F"}, want: "1.5"},
		{name: "unparseable unchanged", filter: "date", input: "soon", args: []any{"%F"}, want: "soon"},
		{name: "empty format", filter: "date", input: "now", args: []any{""}, want: "now"},
		{name: "nil format", filter: "date", input: 0, args: []any{nil}, want: "0"},
		{name: "invalid format", filter: "date", input: "now", args: []any{"%"}, err: "invalid format: %"},
		{name: "absurd width", filter: "date", input: "now", args: []any{"%999999999Y"}, err: "Memory limits exceeded"},
		{name: "missing format", filter: "date", input: "now", err: "wrong number of arguments (given 1, expected 2)"},
	})
}
