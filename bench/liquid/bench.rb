# frozen_string_literal: true
#
# Times Ruby Liquid on the benchmark workloads given as one JSON document on
# stdin: [{"name", "template", "data", "partials", "seconds"}, ...].
# For each workload it parses the template repeatedly, then renders one
# parsed template repeatedly, each for about "seconds" seconds (in three
# rounds, of which the fastest counts), and prints
# one JSON line: {"name", "parses", "parse_seconds", "renders",
# "render_seconds", "output"}. Process start-up is not measured.

require 'json'
require 'liquid'

# Partials of one workload, with or without the ".liquid" suffix.
class BenchFS
  def initialize(files)
    @files = files || {}
  end

  def read_template_file(path)
    @files[path] || @files["#{path}.liquid"] || raise(Liquid::FileSystemError, "No such template '#{path}'")
  end
end

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

ROUNDS = 3

# Runs the block in growing batches for ROUNDS rounds of budget/ROUNDS
# seconds each and returns [iterations, seconds] of the fastest round, as
# the Go side does.
def timed(budget, &blk)
  best = nil
  ROUNDS.times do
    n = 0
    batch = 1
    start = clock
    loop do
      batch.times(&blk)
      n += batch
      elapsed = clock - start
      if elapsed >= budget / ROUNDS
        best = [n, elapsed] if best.nil? || n / elapsed > best[0] / best[1]
        break
      end
      batch *= 2 if batch < 1024
    end
  end
  best
end

JSON.parse($stdin.read).each do |w|
  Liquid::Template.file_system = BenchFS.new(w['partials'])
  src = w['template']
  data = w['data'] || {}
  budget = w['seconds'] || 1.0
  3.times { Liquid::Template.parse(src).render(data) } # warm up
  parses, parse_s = timed(budget) { Liquid::Template.parse(src) }
  tpl = Liquid::Template.parse(src)
  out = tpl.render(data)
  renders, render_s = timed(budget) { tpl.render(data) }
  $stdout.puts JSON.generate({ 'name' => w['name'], 'parses' => parses, 'parse_seconds' => parse_s,
                               'renders' => renders, 'render_seconds' => render_s,
                               'output' => out.dup.force_encoding(Encoding::UTF_8).scrub })
  $stdout.flush
end
