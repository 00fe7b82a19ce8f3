# Generates csv_ruby.json: random rows, Ruby's CSV.generate text, CSV.parse
# rows and CSV.parse(headers: true) pairs. Run: ruby gen_csv.rb > csv_ruby.json
require "csv"; require "json"
srand(5)
atoms = ["a", "", nil, "x,y", "q\"q", "l\nb", " s ", "1", "é", "\r", "a;b", "\"", "tab\there"]
out = []
200.times do
  rows = (0..rand(0..3)).map { (0..rand(0..3)).map { atoms.sample } }
  sep = [",", ";", "\t"].sample
  text = CSV.generate(col_sep: sep) { |c| rows.each { |r| c << r } }
  parsed = (CSV.parse(text, col_sep: sep) rescue "ERR")
  hdr = (CSV.parse(text, col_sep: sep, headers: true).map(&:to_h) rescue "ERR")
  hdr = hdr.map { |h| h.map { |k, v| [k.to_s, v] } } unless hdr == "ERR"
  out << [rows, sep, text, parsed, hdr]
end
puts JSON.generate(out)
