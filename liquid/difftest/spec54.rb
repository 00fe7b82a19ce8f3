# frozen_string_literal: true
#
# Runs the portable cases of Shopify's liquid-spec (flattened to
# liquid_spec.jsonl) through the installed Ruby Liquid (5.4) and prints the
# key ("file/name", with "#2", "#3" … appended to repeated keys) of every
# selected case that Ruby Liquid 5.4 fails, one a line. The selection mirrors TestLiquidSpec in liquid/golden_test.go; the
# output is kept as liquid/difftest/testdata/liquid_spec_ruby54_failures.txt.
#
# Usage: TZ=UTC ruby liquid/difftest/spec54.rb [path/to/liquid_spec.jsonl]

require 'json'
require 'liquid'

FROZEN_NOW = Time.at(1_704_067_318).utc # 2024-01-01T00:01:58Z, as the spec records

# The spec's expectations were recorded with time frozen.
class << Time
  alias_method :spec_real_now, :now
  def now
    FROZEN_NOW
  end
end

# Partials of one case; names may be given with or without ".liquid".
class SpecFS
  def initialize(files)
    @files = files || {}
  end

  def read_template_file(path)
    @files[path] || @files["#{path}.liquid"] ||
      raise(Liquid::FileSystemError, "No such template '#{path}'")
  end
end

SKIP_SUITES = %w[parser_errors shopify_theme_dawn partials benchmarks].freeze
SKIP_FEATURES = /\A(ruby_types|ruby_drops|binary_data|drops|drop_class_output|activesupport|template_factory|
                  randomness|strict2_parsing|strict2_blank_body_errors|self_environment_shadowing|shopify_.*)\z/x.freeze

def selected?(c)
  return false if SKIP_SUITES.include?(c['suite'])
  return false unless (c['nonportable'] || []).empty?
  return false if (c['features'] || []).any? { |f| SKIP_FEATURES.match?(f) }
  return false if c['resource_limits']
  modes = c['error_mode'] || []
  return false if !modes.empty? && (modes & %w[strict lax]).empty?

  true
end

def error_mode(c)
  modes = c['error_mode'] || []
  modes.empty? || modes.include?('strict') ? :strict : :lax
end

def passes?(c)
  Liquid::Template.file_system = SpecFS.new(c['filesystem'])
  errs = c['errors'] || {}
  env = c['environment'] || {}
  if errs['parse_error']
    begin
      Liquid::Template.parse(c['template'], error_mode: error_mode(c))
    rescue Liquid::Error
      return true
    end
    return false
  end
  tpl = Liquid::Template.parse(c['template'], error_mode: error_mode(c), line_numbers: true)
  if errs['render_error']
    begin
      tpl.render!(env)
    rescue StandardError
      return true
    end
    return false
  end
  out = c['render_errors'] ? tpl.render(env) : tpl.render!(env)
  return errs['output'].all? { |s| out.include?(s) } if errs['output']
  return Regexp.new(c['expected_pattern']).match?(out) if c['expected_pattern']

  out == c['expected']
rescue StandardError, SystemStackError
  false
end

path = ARGV[0] || '/work/shared/corpus/liquid/liquid-spec/liquid_spec.jsonl'
total = 0
failed = 0
seen = Hash.new(0)
puts "# liquid-spec cases selected by TestLiquidSpec that Ruby Liquid #{Liquid::VERSION} itself fails."
puts '# Regenerate: TZ=UTC ruby liquid/difftest/spec54.rb > liquid/difftest/testdata/liquid_spec_ruby54_failures.txt'
File.foreach(path) do |line|
  c = JSON.parse(line)
  key = "#{c['file']}/#{c['name']}"
  seen[key] += 1
  key = "#{key}##{seen[key]}" if seen[key] > 1
  next unless selected?(c)

  total += 1
  next if passes?(c)

  failed += 1
  puts key
end
warn "ruby liquid #{Liquid::VERSION}: #{total - failed}/#{total} selected liquid-spec cases passed"
