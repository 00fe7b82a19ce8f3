# Reads JSONL cases {"in":..., "f":name, "args":[...], "kw":{...}} and writes
# each case with "out" (tagged value) or "err" (message).
require 'liquid'
require 'json'
NOW = Time.at(1795000000, 123456789, :nsec)
class << Time
  def now; NOW.dup; end
end

def dec(v)
  case v
  when Hash
    if v.key?("$f") then Float(v["$f"]) == 0 && v["$f"].start_with?("-") ? -0.0 : v["$f"].to_f
    elsif v.key?("$fs") then {"nan"=>Float::NAN,"inf"=>Float::INFINITY,"-inf"=>-Float::INFINITY}[v["$fs"]]
    elsif v.key?("$i") then Integer(v["$i"])
    elsif v.key?("$range") then (v["$range"][0]..v["$range"][1])
    elsif v.key?("$time") then Time.at(v["$time"][0]).getlocal(v["$time"][1])
    elsif v.key?("$utc") then Time.at(v["$utc"]).utc
    else v.transform_values { |x| dec(x) }
    end
  when Array then v.map { |x| dec(x) }
  else v
  end
end

def estr(s)
  u = s.dup.force_encoding("UTF-8")
  u.valid_encoding? ? u : {"bin" => s.unpack1("H*")}
end

def enc(v)
  case v
  when nil, true, false then v
  when String then estr(v)
  when Integer then {"i" => v.to_s}
  when Float then {"f" => v.to_s}
  when Array then v.map { |x| enc(x) }
  when Hash then {"h" => v.map { |k, x| [k.to_s, enc(x)] }}
  when Time then {"t" => v.strftime('%Y-%m-%d %H:%M:%S.%N %z') + "|" + v.zone.to_s}
  when Range then {"r" => v.to_s}
  else {"other" => v.inspect}
  end
end

ctx = Liquid::Context.new
STDIN.each_line do |l|
  c = JSON.parse(l)
  args = dec(c["args"] || [])
  args = args + [dec(c["kw"])] if c["kw"]
  begin
    r = ctx.invoke(c["f"], dec(c["in"]), *args)
    c["out"] = enc(r)
    c["s"] = estr(r.is_a?(Array) ? r.join : r.to_s)  # rendered form
  rescue Liquid::Error => e
    c["err"] = e.message.sub(/\ALiquid error: /, '')
  rescue => e
    c["err"] = "internal"
  end
  puts JSON.generate(c)
end
