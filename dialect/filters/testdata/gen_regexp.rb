# Generates regexp_ruby.json: Ruby's String#scan results (match, captures,
# named captures) for patterns × inputs. Run: ruby gen_regexp.rb > regexp_ruby.json
require "json"
pats = ['\d+', '\w+', '\s+', '^\w', '\w$', '(?i)abc', 'a.c', '(?m)a.c', '\Aab', 'c\z', 'c\Z', '[[:upper:]][[:lower:]]+', '\bfoo\b', '(?<y>\d{4})-(?<m>\d{2})', '(\d+)(?:px|em)?', 'x*', '(a|b)+', '[^,]+', '\h{2}', '(?=\d)\d', '(?<!\$)\d+', '[\w.+-]+@[\w-]+\.[\w.]+', '#(\d+)', '\p{Upper}', '[a-z&&[^aeiou]]+', '(?x) a b # comment', '\$\d+\.\d{2}', '(\w)\1', '\\\\', '\.', '[\]]', '[-a]', '\u00e9', 'é+', '\R', '(?i:É)', 'a{2,}', '[[:alpha:]&&[^a]]+', 'a++', '(?>a+)b', '(?<n>a)\k<n>', '\x41', '\u{e9}', '[[:^digit:]]+', 'a+?', '(?i)é', '\Gab', '\h+\H', '[\d\s]+', '[^\d]+']
inputs = ["abc ABC aBc 123 foo_bar foo-bar", "a\nb\nc\nabc\n", "2021-05 and 1999-12", "Price: $12.99, 14.50, 3px 4em", "Élan été ÉTÉ Ünï", "x@y.com, a.b+c@d-e.org", "#123 #45 aa bb cc", "a\\b.c]d-e", "ab\r\ncd\nef", "aaa ab a"]
out = []
pats.each do |p|
  re = (Regexp.new(p) rescue next)
  inputs.each do |s|
    ms = []
    s.scan(re) { m = Regexp.last_match; ms << [m.to_s, m.captures, m.named_captures] }
    out << [p, s, ms]
  end
end
puts JSON.generate(out)
