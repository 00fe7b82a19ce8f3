# Generates strptime_ruby.json: ActiveSupport 6.1 TimeZone#strptime results in
# Australia/Sydney (now 2021-01-04 14:06). Run: ruby gen_strptime.rb > strptime_ruby.json
require "active_support"; require "active_support/core_ext"; require "json"
Time.zone = "Australia/Sydney"
cases = [
 ["2021-05-19 10:30", "%Y-%m-%d"], ["2021-05-19", "%Y-%m-%d %H:%M"], ["2021-05-19T10:30:00", "%Y-%m-%dT%H:%M:%S"], ["2021-5-9", "%Y-%m-%d"],
 ["19/05/2021", "%d/%m/%Y"], ["05/19/2021", "%d/%m/%Y"], ["2021-05-19T10:30:00Z", "%Y-%m-%dT%H:%M:%S%z"], ["2021-05-19T10:30:00+02:00", "%Y-%m-%dT%H:%M:%S%z"],
 ["May 19 2021", "%B %d %Y"], ["may 19 2021", "%b %d %Y"], ["Wednesday May 19 2021", "%A %B %d %Y"], ["10:30 pm", "%I:%M %p"], ["13:30 pm", "%I:%M %p"],
 ["2021-05-19 10:30:15.250", "%Y-%m-%d %H:%M:%S.%L"], ["21-05-19", "%y-%m-%d"], ["70-01-01", "%y-%m-%d"], ["2021 139", "%Y %j"], ["  2021-05-19", "%Y-%m-%d"],
 ["2021-05-19", " %Y-%m-%d"], ["2021-05-19x", "%Y-%m-%d"], ["", "%Y-%m-%d"], ["abc", "%Y"], ["2021-05-19 EST", "%Y-%m-%d %Z"], ["1621440000", "%s"],
 ["2021-02-31", "%Y-%m-%d"], ["2021-02-32", "%Y-%m-%d"], ["2021-05-19 25:00", "%Y-%m-%d %H:%M"], ["2021-05-19 24:00", "%Y-%m-%d %H:%M"], ["2021-5-19", "%F"], ["10:30:00", "%T"], ["12/31/21", "%D"],
 ["05", "%m"], ["2021", "%Y"], ["Tue", "%a"], ["19", "%d"],
]
now = Time.zone.local(2021, 1, 4, 14, 6)
out = cases.map do |s, f|
  r = begin
    Time.zone.strptime(s, f, now).iso8601
  rescue ArgumentError => e
    "ERR"
  end
  [s, f, r]
end
puts JSON.generate(out)
