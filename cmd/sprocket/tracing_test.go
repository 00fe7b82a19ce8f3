package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestServeRejectsBadTracingEnv: an OTEL variable serve cannot use stops
// it before anything opens, with an error naming the variable.
func TestServeRejectsBadTracingEnv(t *testing.T) {
	tests := []struct{ name, value string }{
		{"OTEL_TRACES_EXPORTER", "zipkin"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"OTEL_SDK_DISABLED", "maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.name, tt.value)
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, strings.NewReader(""), &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tt.name) {
				t.Fatalf("exit %d, stderr %q; want 2 and an error naming %s", code, errOut.String(), tt.name)
			}
		})
	}
}
