# Generates strftime_ruby.json: random times, zones and formats with Ruby's
# Time#strftime output. Run: ruby gen_strftime.rb > strftime_ruby.json
srand(11)
zones = %w(America/Chicago Asia/Kolkata UTC Australia/Sydney America/St_Johns)
dirs = %w(Y C y m B b h d e j H k I l P p M S L N z Z A a u w U W G g V s n t % c D F T R r v x X)
flags = ["", "-", "_", "0", "^", "#"]
out = []
500.times do
  z = zones.sample
  ENV["TZ"] = z
  t = Time.at(rand(-2_000_000_000..4_000_000_000), rand(0..999_999_999), :nsec)
  f = (1..4).map { "%" + flags.sample + (rand < 0.2 ? rand(1..12).to_s : "") + (rand < 0.05 ? ":" : "") + dirs.sample }.join(" ")
  s = (t.strftime(f) rescue next)
  out << [z, t.to_i, t.nsec, f, s]
end
require "json"
puts JSON.generate(out)
