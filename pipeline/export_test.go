package pipeline

import "testing"

// BenchChain runs the event → task → http action chain benchmark
// (BenchmarkEventToHTTPAction, plain renderer, no perform events) with
// tracer, for benchmarks in package pipeline_test that need packages
// importing this one (internal/tracing).
func BenchChain(b *testing.B, workers int, tracer Tracer) {
	benchChain(b, workers, false, false, tracer)
}
