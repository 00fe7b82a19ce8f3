package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv (the OpenTelemetry SDK's
// standard names).
const (
	EnvSDKDisabled        = "OTEL_SDK_DISABLED"
	EnvTracesExporter     = "OTEL_TRACES_EXPORTER"
	EnvEndpoint           = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint     = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvHeaders            = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvTracesHeaders      = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvTimeout            = "OTEL_EXPORTER_OTLP_TIMEOUT"
	EnvTracesTimeout      = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
	EnvCompression        = "OTEL_EXPORTER_OTLP_COMPRESSION"
	EnvTracesCompression  = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"
	EnvProtocol           = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol     = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvServiceName        = "OTEL_SERVICE_NAME"
	EnvResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
	EnvSampler            = "OTEL_TRACES_SAMPLER"
	EnvSamplerArg         = "OTEL_TRACES_SAMPLER_ARG"
	EnvBSPScheduleDelay   = "OTEL_BSP_SCHEDULE_DELAY"
	EnvBSPExportTimeout   = "OTEL_BSP_EXPORT_TIMEOUT"
	EnvBSPMaxQueueSize    = "OTEL_BSP_MAX_QUEUE_SIZE"
	EnvBSPMaxExportBatch  = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
)

// Defaults of Config.
const (
	DefaultServiceName     = "sprocket"
	DefaultEndpoint        = "http://localhost:4318/v1/traces"
	DefaultTimeout         = 10 * time.Second
	DefaultScheduleDelay   = 5 * time.Second
	DefaultExportTimeout   = 30 * time.Second
	DefaultMaxQueueSize    = 2048
	DefaultMaxExportBatch  = 512
	DefaultShutdownTimeout = 5 * time.Second
	tracesPath             = "/v1/traces"
)

// Sampler names (OTEL_TRACES_SAMPLER).
const (
	SamplerAlwaysOn               = "always_on"
	SamplerAlwaysOff              = "always_off"
	SamplerTraceIDRatio           = "traceidratio"
	SamplerParentBasedAlwaysOn    = "parentbased_always_on"
	SamplerParentBasedAlwaysOff   = "parentbased_always_off"
	SamplerParentBasedTraceIDRate = "parentbased_traceidratio"
)

// Config configures tracing. The zero Config is off.
type Config struct {
	// Enabled turns tracing on; everything else is ignored when false.
	Enabled bool
	// Endpoint is the full URL spans are POSTed to (OTLP/HTTP, protobuf),
	// e.g. http://collector:4318/v1/traces (default DefaultEndpoint).
	Endpoint string
	// Headers are sent with every export (e.g. an API key).
	Headers map[string]string
	// Timeout bounds one export request (default 10 s).
	Timeout time.Duration
	// Gzip compresses exports.
	Gzip bool
	// ServiceName is the resource's service.name (default "sprocket").
	ServiceName string
	// ResourceAttributes are further resource attributes.
	ResourceAttributes map[string]string
	// Sampler is one of the Sampler* names (default parentbased_always_on)
	// and SamplerArg the ratio of the traceidratio samplers (default 1).
	Sampler    string
	SamplerArg float64
	// ScheduleDelay, ExportTimeout, MaxQueueSize and MaxExportBatch tune the
	// batch span processor (defaults as the SDK's). Spans beyond a full
	// queue are dropped rather than slowing runs down.
	ScheduleDelay  time.Duration
	ExportTimeout  time.Duration
	MaxQueueSize   int
	MaxExportBatch int
	// ShutdownTimeout bounds the flush on Shutdown (default 5 s).
	ShutdownTimeout time.Duration
}

// ConfigFromEnv reads the tracing configuration from the standard
// OpenTelemetry environment variables through lookup (os.LookupEnv in
// the service, a map in tests). The rule for turning tracing on:
//
//   - OTEL_SDK_DISABLED=true turns it off, whatever else is set;
//   - OTEL_TRACES_EXPORTER=none turns it off, =otlp turns it on (any other
//     exporter is an error);
//   - without OTEL_TRACES_EXPORTER, it is on when OTEL_EXPORTER_OTLP_ENDPOINT
//     or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (non-empty), off otherwise.
//
// The traces endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended, or
// http://localhost:4318/v1/traces. A value that cannot be used is an error
// naming its variable; when tracing is off the other variables are not
// read.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var cfg Config
	if v := get(EnvSDKDisabled); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("%s: %q is not true or false", EnvSDKDisabled, v)
		}
		if off {
			return cfg, nil
		}
	}
	switch v := strings.ToLower(get(EnvTracesExporter)); v {
	case "":
		cfg.Enabled = get(EnvEndpoint) != "" || get(EnvTracesEndpoint) != ""
	case "none":
	case "otlp":
		cfg.Enabled = true
	default:
		return cfg, fmt.Errorf("%s: exporter %q is not supported (use otlp or none)", EnvTracesExporter, v)
	}
	if !cfg.Enabled {
		return cfg, nil
	}
	var err error
	if cfg.Endpoint, err = endpointFromEnv(get); err != nil {
		return cfg, err
	}
	for _, name := range []string{EnvTracesProtocol, EnvProtocol} {
		if v := get(name); v != "" {
			if v != "http/protobuf" {
				return cfg, fmt.Errorf("%s: protocol %q is not supported: Sprocket exports traces over OTLP/HTTP with protobuf (http/protobuf)", name, v)
			}
			break
		}
	}
	cfg.Headers = map[string]string{}
	for _, name := range []string{EnvHeaders, EnvTracesHeaders} { // the traces variable wins
		if err := parseList(get(name), cfg.Headers); err != nil {
			return cfg, fmt.Errorf("%s: %w", name, err)
		}
	}
	if cfg.Timeout, err = millisFromEnv(get, EnvTracesTimeout, EnvTimeout); err != nil {
		return cfg, err
	}
	for _, name := range []string{EnvTracesCompression, EnvCompression} {
		if v := get(name); v != "" {
			switch v {
			case "gzip":
				cfg.Gzip = true
			case "none":
			default:
				return cfg, fmt.Errorf("%s: compression %q is not supported (use gzip or none)", name, v)
			}
			break
		}
	}
	cfg.ResourceAttributes = map[string]string{}
	if err := parseList(get(EnvResourceAttributes), cfg.ResourceAttributes); err != nil {
		return cfg, fmt.Errorf("%s: %w", EnvResourceAttributes, err)
	}
	cfg.ServiceName = get(EnvServiceName)
	if cfg.Sampler, cfg.SamplerArg, err = samplerFromEnv(get); err != nil {
		return cfg, err
	}
	if cfg.ScheduleDelay, err = millisFromEnv(get, EnvBSPScheduleDelay); err != nil {
		return cfg, err
	}
	if cfg.ExportTimeout, err = millisFromEnv(get, EnvBSPExportTimeout); err != nil {
		return cfg, err
	}
	if cfg.MaxQueueSize, err = positiveFromEnv(get, EnvBSPMaxQueueSize); err != nil {
		return cfg, err
	}
	if cfg.MaxExportBatch, err = positiveFromEnv(get, EnvBSPMaxExportBatch); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// endpointFromEnv returns the traces endpoint URL.
func endpointFromEnv(get func(string) string) (string, error) {
	name, v := EnvTracesEndpoint, get(EnvTracesEndpoint)
	if v == "" {
		name, v = EnvEndpoint, get(EnvEndpoint)
	}
	if v == "" {
		return DefaultEndpoint, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL", name, v)
	}
	if name == EnvEndpoint {
		u.Path = path.Join("/", u.Path, tracesPath)
	} else if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// samplerFromEnv reads OTEL_TRACES_SAMPLER and its argument.
func samplerFromEnv(get func(string) string) (string, float64, error) {
	name := strings.ToLower(get(EnvSampler))
	switch name {
	case "":
		return SamplerParentBasedAlwaysOn, 1, nil
	case SamplerAlwaysOn, SamplerAlwaysOff, SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff:
		return name, 1, nil
	case SamplerTraceIDRatio, SamplerParentBasedTraceIDRate:
		arg := get(EnvSamplerArg)
		if arg == "" {
			return name, 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return "", 0, fmt.Errorf("%s: %q is not a ratio between 0 and 1", EnvSamplerArg, arg)
		}
		return name, r, nil
	default:
		return "", 0, fmt.Errorf("%s: sampler %q is not supported (use always_on, always_off, traceidratio or their parentbased_ forms)", EnvSampler, name)
	}
}

// millisFromEnv reads a duration in milliseconds from the first of names
// that is set (zero when none is).
func millisFromEnv(get func(string) string, names ...string) (time.Duration, error) {
	for _, name := range names {
		v := get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > int64(time.Hour/time.Millisecond) {
			return 0, fmt.Errorf("%s: %q is not a number of milliseconds between 1 and 3600000", name, v)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	return 0, nil
}

// positiveFromEnv reads a positive count (zero when unset).
func positiveFromEnv(get func(string) string, name string) (int, error) {
	v := get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, fmt.Errorf("%s: %q is not a count between 1 and 1048576", name, v)
	}
	return n, nil
}

// parseList parses a W3C-baggage-like list "k1=v1,k2=v2" (values
// URL-encoded) into into.
func parseList(s string, into map[string]string) error {
	if s == "" {
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", item)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("value of %q: %w", k, err)
		}
		into[k] = dv
	}
	return nil
}

// check validates a Config built by hand.
func (c Config) check() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("tracing: Endpoint %q is not an http:// or https:// URL", c.Endpoint))
		}
	}
	switch c.Sampler {
	case "", SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio, SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff, SamplerParentBasedTraceIDRate:
	default:
		errs = append(errs, fmt.Errorf("tracing: Sampler %q is not supported", c.Sampler))
	}
	if c.SamplerArg < 0 || c.SamplerArg > 1 {
		errs = append(errs, fmt.Errorf("tracing: SamplerArg %v is not between 0 and 1", c.SamplerArg))
	}
	return errors.Join(errs...)
}
