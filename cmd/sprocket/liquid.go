package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// liquidRequest is one input line of "sprocket liquid".
type liquidRequest struct {
	Template *string           `json:"template"`
	Data     json.RawMessage   `json:"data"`
	Partials map[string]string `json:"partials"`
	Strict   bool              `json:"strict"`
}

// liquidLineTimeout bounds the wall time of one line's render, on top of
// the engine's step, output and depth limits.
const liquidLineTimeout = 10 * time.Second

// liquidUsage is the help of "sprocket liquid".
const liquidUsage = `usage: sprocket liquid < requests.jsonl

Renders one Liquid template per JSON line of stdin, e.g.
  {"template": "Hello {{ name }}", "data": {"name": "Ann"}, "partials": {}, "strict": false}
and writes one line per input line: {"output": ...}, {"output_b64": ...}
when the output is not valid UTF-8, or {"error": ...}.
With --dialect, templates render as Mechanic task code (see
"sprocket liquid --dialect --help").`

// liquidDialectUsage is the help of "sprocket liquid --dialect".
const liquidDialectUsage = `usage: sprocket liquid --dialect [--event FILE] [--options FILE] [--cache FILE] [--shopify FILE] [--now TIME] < requests.jsonl

Renders one template per JSON line with Mechanic's dialect, as task code:
  {"template": "{% action \"echo\" n: event.data.n %}", "event": {"topic": "mechanic/user/trigger", "data": {"n": 1}},
   "options": {}, "cache": {}, "shopify": {"query substring": {"data": {}}}, "now": "2024-01-01T00:00:00Z"}
Fields not given default to the flags' files. Writes one line per request:
{"output", "actions", "logs", "errors"} (with "output_error" when the text is
not a stream of action/log/error objects), or {"error"} when the run failed.`

// runLiquid renders one template per JSON line of stdin and writes one JSON
// result line per input line, in order: {"output": …}, {"output_b64": …}
// when the output is not valid UTF-8, or {"error": …}.
func runLiquid(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--dialect" || args[0] == "-dialect") {
		fs := flag.NewFlagSet("sprocket liquid --dialect", flag.ContinueOnError)
		fs.SetOutput(stderr)
		base, _, ok := dialectFlags(fs, args[1:], stdout, stderr, liquidDialectUsage)
		if !ok {
			return 2
		}
		if base == nil {
			return 0
		}
		return runDialectLines(ctx, *base, stdin, stdout)
	}
	if wantsHelp(args) {
		fmt.Fprintln(stdout, liquidUsage)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintln(stderr, liquidUsage)
		return 2
	}
	eng := liquid.NewEngine()
	in := bufio.NewReaderSize(stdin, 1<<16)
	out := bufio.NewWriterSize(stdout, 1<<16)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !(err == io.EOF && len(bytes.TrimSpace(line)) == 0) {
			res := renderLine(ctx, eng, line, liquidLineTimeout)
			if encErr := enc.Encode(res); encErr != nil {
				slog.Error("sprocket liquid: write failed", "err", encErr)
				return 1
			}
		}
		if err == io.EOF {
			return 0
		}
		if err != nil {
			slog.Error("sprocket liquid: read failed", "err", err)
			return 1
		}
	}
}

// liquidResult is one output line: the rendered text (base64 in
// output_b64 when it is not valid UTF-8), or an error.
type liquidResult struct {
	Output    *string `json:"output,omitempty"`
	OutputB64 *string `json:"output_b64,omitempty"`
	Error     *string `json:"error,omitempty"`
}

func errResult(msg string) liquidResult { return liquidResult{Error: &msg} }

// renderLine renders one request line, giving up after timeout.
func renderLine(ctx context.Context, eng *liquid.Engine, line []byte, timeout time.Duration) liquidResult {
	if len(bytes.TrimSpace(line)) == 0 {
		return errResult("invalid request: empty line")
	}
	var req liquidRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return errResult(fmt.Sprintf("invalid request: %v", err))
	}
	if req.Template == nil {
		return errResult("invalid request: missing \"template\"")
	}
	vars := value.NewMap(0)
	if len(req.Data) > 0 && string(req.Data) != "null" {
		d, err := value.FromJSON(req.Data)
		if err != nil {
			return errResult(fmt.Sprintf("invalid request data: %v", err))
		}
		m, ok := d.(*value.Map)
		if !ok {
			return errResult("invalid request: \"data\" must be an object")
		}
		vars = m
	}
	t, err := eng.ParseOpts(*req.Template, liquid.ParseOptions{Strict: req.Strict})
	if err != nil {
		return errResult(err.Error())
	}
	opts := &liquid.RenderOptions{Strict: req.Strict}
	if req.Partials != nil {
		opts.Partials = liquid.MapLoader(req.Partials)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, err := t.RenderMap(ctx, vars, opts)
	if errors.Is(err, context.DeadlineExceeded) {
		return errResult(fmt.Sprintf("Liquid error: render took longer than %v", timeout))
	}
	if err != nil {
		return errResult(err.Error())
	}
	if !utf8.ValidString(s) {
		b := base64.StdEncoding.EncodeToString([]byte(s))
		return liquidResult{OutputB64: &b}
	}
	return liquidResult{Output: &s}
}
