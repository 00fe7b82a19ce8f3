# Generates dates_ruby.json: ActiveSupport 6.1 Time.zone.parse results in
# America/Chicago (now 2026-11-23 10:00). Run: ruby gen_dates.rb > dates_ruby.json
require "active_support"; require "active_support/core_ext"; require "json"
Time.zone = "America/Chicago"
ins = ["2021-05-19T12:00:00-04:00", "2021-05-19T12:00:00.123-04:00", "2021-05-19 12:00:00 UTC", "2021-05-19 12:00:00 +0000", "2021-05-19", "2021/05/19", "2021/5/9", "19/05/2021", "5/19/2021", "05-19-2021", "19-05-2021", "19.05.2021", "May 19, 2021", "May 19 2021", "19 May 2021", "19-May-2021", "Wed, 19 May 2021 12:00:00 GMT", "Wednesday, May 19, 2021", "May 2021", "2021-05-19T12:00Z", "2021-05-19T12:00", "2021-05-19 3:45pm", "2021-05-19 3:45 PM", "12:30", "3pm", "2021", "20210519", "20210519T120000Z", "May 19th, 2021", "Sept 5, 2021", "2021-05-19T12:00:00+05:30", "Thu Jan  7 10:00:00 2021", "2021-05-19 12:00:00 EST", "2021-05-19 12:00:00 PDT", "2021-02-29", "2021-04-31", "0000-00-00", "", "   ", "tomorrow", "2021-05-19T24:00:00Z", "1621440000"]
now = Time.zone.local(2026, 11, 23, 10)
out = ins.map { |s| t = (Time.zone.parse(s, now) rescue "ERR"); [s, t.is_a?(String) ? t : t&.iso8601] }
puts JSON.generate(out)
