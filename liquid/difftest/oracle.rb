# frozen_string_literal: true
#
# Ruby Liquid oracle for the differential tests: a long-lived process that
# reads one JSON request per line on stdin,
#   {"template": "...", "data": {...}, "partials": {...}, "strict": false}
# renders it with the installed Ruby Liquid (5.4) and writes one JSON line
# per request on stdout:
#   {"output": "..."}             the rendered text (lax: errors inline)
#   {"output_b64": "..."}         the same, base64, when not valid UTF-8
#   {"error": "..."}              parse failure, or any failure when strict
#
# Run it with TZ=UTC so that dates render the same on every machine.

require 'json'
require 'base64'
require 'liquid'

# Serves partials for include/render from the request's "partials" hash.
class OracleFS
  def initialize(templates)
    @templates = templates || {}
  end

  def read_template_file(path)
    @templates.fetch(path) { raise Liquid::FileSystemError, "No such template '#{path}'" }
  end
end

$stdout.sync = true

def oracle_render(req)
  Liquid::Template.file_system = OracleFS.new(req['partials'])
  strict = req['strict'] ? true : false
  tpl = Liquid::Template.parse(req['template'], error_mode: strict ? :strict : :lax)
  data = req['data'] || {}
  out = strict ? tpl.render!(data) : tpl.render(data)
  out = out.dup.force_encoding(Encoding::UTF_8)
  return { 'output' => out } if out.valid_encoding?

  { 'output_b64' => Base64.strict_encode64(out) }
rescue StandardError, SystemStackError, NoMemoryError => e
  { 'error' => e.message.to_s.dup.force_encoding(Encoding::UTF_8).scrub }
end

$stdin.each_line do |line|
  res = begin
    oracle_render(JSON.parse(line))
  rescue JSON::ParserError => e
    { 'error' => "oracle: bad request: #{e.message}" }
  end
  $stdout.write(JSON.generate(res) + "\n")
end
