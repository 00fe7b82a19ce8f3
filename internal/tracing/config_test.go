package tracing

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// TestConfigFromEnv: the rule that turns tracing on, the endpoint rule,
// and a clear error naming the variable for every value that cannot be
// used.
func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		enabled  bool
		endpoint string
		check    func(t *testing.T, c Config)
		err      string // substring of the error; "" for none
	}{
		{name: "nothing set", env: nil, enabled: false},
		{name: "unrelated OTEL variables only", env: map[string]string{EnvServiceName: "x", EnvSampler: "always_on"}, enabled: false},
		{name: "base endpoint", env: map[string]string{EnvEndpoint: "http://collector:4318"}, enabled: true, endpoint: "http://collector:4318/v1/traces"},
		{name: "base endpoint with path", env: map[string]string{EnvEndpoint: "https://otel.example.com/ingest/"}, enabled: true, endpoint: "https://otel.example.com/ingest/v1/traces"},
		{name: "traces endpoint used as is", env: map[string]string{EnvTracesEndpoint: "http://c:4318/custom", EnvEndpoint: "http://other:1"}, enabled: true, endpoint: "http://c:4318/custom"},
		{name: "traces endpoint without path", env: map[string]string{EnvTracesEndpoint: "http://c:4318"}, enabled: true, endpoint: "http://c:4318/"},
		{name: "exporter otlp alone", env: map[string]string{EnvTracesExporter: "otlp"}, enabled: true, endpoint: DefaultEndpoint},
		{name: "exporter none wins over endpoint", env: map[string]string{EnvTracesExporter: "none", EnvEndpoint: "http://c:4318"}, enabled: false},
		{name: "sdk disabled wins", env: map[string]string{EnvSDKDisabled: "true", EnvTracesExporter: "otlp", EnvEndpoint: "http://c:4318"}, enabled: false},
		{name: "sdk disabled false", env: map[string]string{EnvSDKDisabled: "false", EnvEndpoint: "http://c:4318"}, enabled: true, endpoint: "http://c:4318/v1/traces"},
		{name: "empty endpoint is unset", env: map[string]string{EnvEndpoint: "  "}, enabled: false},
		{
			name: "everything", enabled: true, endpoint: "http://c:4318/v1/traces",
			env: map[string]string{
				EnvEndpoint: "http://c:4318", EnvHeaders: "api-key=abc,x-team=a%20b", EnvTracesHeaders: "api-key=def",
				EnvTimeout: "2500", EnvCompression: "gzip", EnvProtocol: "http/protobuf", EnvServiceName: "shop-1",
				EnvResourceAttributes: "deployment.environment=prod,service.name=ignored", EnvSampler: "parentbased_traceidratio",
				EnvSamplerArg: "0.25", EnvBSPScheduleDelay: "100", EnvBSPExportTimeout: "2000", EnvBSPMaxQueueSize: "64", EnvBSPMaxExportBatch: "16",
			},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"api-key": "def", "x-team": "a b"}; !maps.Equal(c.Headers, want) {
					t.Errorf("headers %v, want %v", c.Headers, want)
				}
				if c.Timeout != 2500*time.Millisecond || !c.Gzip || c.ServiceName != "shop-1" {
					t.Errorf("timeout %v gzip %v service %q", c.Timeout, c.Gzip, c.ServiceName)
				}
				if c.ResourceAttributes["deployment.environment"] != "prod" {
					t.Errorf("resource attributes %v", c.ResourceAttributes)
				}
				if c.Sampler != SamplerParentBasedTraceIDRate || c.SamplerArg != 0.25 {
					t.Errorf("sampler %q %v", c.Sampler, c.SamplerArg)
				}
				if c.ScheduleDelay != 100*time.Millisecond || c.ExportTimeout != 2*time.Second || c.MaxQueueSize != 64 || c.MaxExportBatch != 16 {
					t.Errorf("batch settings %v %v %d %d", c.ScheduleDelay, c.ExportTimeout, c.MaxQueueSize, c.MaxExportBatch)
				}
			},
		},
		{name: "default sampler", env: map[string]string{EnvTracesExporter: "otlp"}, enabled: true, endpoint: DefaultEndpoint,
			check: func(t *testing.T, c Config) {
				if c.Sampler != SamplerParentBasedAlwaysOn {
					t.Errorf("sampler %q", c.Sampler)
				}
			}},
		{name: "bad sdk disabled", env: map[string]string{EnvSDKDisabled: "yes please"}, err: EnvSDKDisabled},
		{name: "unsupported exporter", env: map[string]string{EnvTracesExporter: "zipkin"}, err: EnvTracesExporter},
		{name: "bad endpoint", env: map[string]string{EnvEndpoint: "collector:4318"}, err: EnvEndpoint},
		{name: "bad traces endpoint", env: map[string]string{EnvTracesEndpoint: "ftp://c/x"}, err: EnvTracesEndpoint},
		{name: "grpc protocol", env: map[string]string{EnvEndpoint: "http://c:4317", EnvProtocol: "grpc"}, err: EnvProtocol},
		{name: "json traces protocol", env: map[string]string{EnvEndpoint: "http://c:4318", EnvTracesProtocol: "http/json"}, err: EnvTracesProtocol},
		{name: "bad headers", env: map[string]string{EnvEndpoint: "http://c:4318", EnvHeaders: "novalue"}, err: EnvHeaders},
		{name: "bad timeout", env: map[string]string{EnvEndpoint: "http://c:4318", EnvTracesTimeout: "10s"}, err: EnvTracesTimeout},
		{name: "bad compression", env: map[string]string{EnvEndpoint: "http://c:4318", EnvCompression: "zstd"}, err: EnvCompression},
		{name: "bad sampler", env: map[string]string{EnvEndpoint: "http://c:4318", EnvSampler: "sometimes"}, err: EnvSampler},
		{name: "bad sampler ratio", env: map[string]string{EnvEndpoint: "http://c:4318", EnvSampler: "traceidratio", EnvSamplerArg: "2"}, err: EnvSamplerArg},
		{name: "bad queue size", env: map[string]string{EnvEndpoint: "http://c:4318", EnvBSPMaxQueueSize: "-1"}, err: EnvBSPMaxQueueSize},
		{name: "bad resource attributes", env: map[string]string{EnvEndpoint: "http://c:4318", EnvResourceAttributes: "=x"}, err: EnvResourceAttributes},
		{name: "bad values ignored when off", env: map[string]string{EnvSampler: "sometimes", EnvProtocol: "grpc"}, enabled: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(lookupIn(tt.env))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Enabled != tt.enabled {
				t.Fatalf("enabled %v, want %v", c.Enabled, tt.enabled)
			}
			if c.Endpoint != tt.endpoint {
				t.Errorf("endpoint %q, want %q", c.Endpoint, tt.endpoint)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestNewRejectsBadConfig: a Config built by hand is checked too.
func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		{Enabled: true, Endpoint: "localhost:4318"},
		{Enabled: true, Sampler: "sometimes"},
		{Enabled: true, Sampler: SamplerTraceIDRatio, SamplerArg: 1.5},
	} {
		if _, err := New(c, Options{}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestDerivedIDs: ids are stable functions of the record ids, distinct
// between kinds and records, and valid.
func TestDerivedIDs(t *testing.T) {
	if TraceID("ev1") != TraceID("ev1") || TraceID("ev1") == TraceID("ev2") || !TraceID("").IsValid() {
		t.Fatal("trace ids are not stable, distinct and valid")
	}
	ids := map[string]bool{}
	for _, s := range []string{
		EventSpanID("x").String(), RunSpanID("x").String(), AttemptSpanID("x", 1).String(),
		AttemptSpanID("x", 2).String(), WebhookSpanID("x", "r").String(), RunSpanID("x#1").String(),
	} {
		if ids[s] {
			t.Fatalf("span id %s derived twice", s)
		}
		ids[s] = true
	}
	if RunSpanID("run-1") != RunSpanID("run-1") {
		t.Fatal("span ids are not stable")
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 3); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}
