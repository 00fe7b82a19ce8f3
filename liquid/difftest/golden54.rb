# frozen_string_literal: true
#
# Runs the golden-liquid cases through the installed Ruby Liquid (5.4) and
# prints, one JSON object a line, every case Ruby Liquid itself fails:
#   {"name": ..., "want": ..., "got": ...}
# followed by a summary line on stderr. Used to justify entries of
# liquid/testdata/golden_skip.txt.
#
# Usage: TZ=UTC ruby liquid/difftest/golden54.rb [path/to/golden_liquid.json]

require 'json'
require 'liquid'

# Partials served from a hash, as the golden cases give them.
class GoldenFS
  def initialize(templates)
    @templates = templates || {}
  end

  def read_template_file(path)
    @templates.fetch(path) { raise Liquid::FileSystemError, "No such template '#{path}'" }
  end
end

path = ARGV[0] || '/work/shared/corpus/liquid/golden-liquid/golden_liquid.json'
cases = JSON.parse(File.read(path))['tests']
failed = 0
cases.each do |c|
  tags = c['tags'] || []
  mode = (tags.include?('strict') || tags.include?('strict2')) ? :strict : :lax
  Liquid::Template.file_system = GoldenFS.new(c['templates'])
  got = nil
  ok = false
  if c['invalid']
    begin
      tpl = Liquid::Template.parse(c['template'], error_mode: mode)
      got = tpl.render!(c['data'] || {}, strict_variables: false)
    rescue StandardError => e
      ok = true
      got = "#{e.class}: #{e.message}"
    end
  else
    begin
      tpl = Liquid::Template.parse(c['template'], error_mode: mode)
      got = tpl.render(c['data'] || {})
      want = c.key?('results') ? c['results'] : [c['result']]
      ok = want.include?(got)
    rescue StandardError => e
      got = "#{e.class}: #{e.message}"
    end
  end
  next if ok

  failed += 1
  want = c['invalid'] ? '<error>' : (c['results'] || c['result'])
  puts JSON.generate({ 'name' => c['name'], 'want' => want, 'got' => got })
end
warn "ruby liquid #{Liquid::VERSION}: #{cases.size - failed}/#{cases.size} golden cases passed"
