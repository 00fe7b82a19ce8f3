package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	taskrun "github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/tasktest"
)

// dialectRequest is one render with Mechanic's dialect: a template run as
// task code against an event, options, cache and stubbed shopify responses.
type dialectRequest struct {
	Template *string
	Event    *value.Map
	Options  *value.Map
	Cache    *value.Map
	Shopify  *value.Map
	Now      time.Time
}

// maxDialectLine bounds one JSON line of "sprocket liquid --dialect" and
// "sprocket console".
const maxDialectLine = 8 << 20

// parseDialectRequest reads a JSON line {"template", "event", "options",
// "cache", "shopify", "now"}; fields not given come from base.
func parseDialectRequest(line []byte, base dialectRequest) (dialectRequest, error) {
	req := base
	v, err := value.FromJSON(line)
	if err != nil {
		return req, fmt.Errorf("invalid request: %w", err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		return req, errors.New("invalid request: want a JSON object")
	}
	for _, k := range m.Keys() {
		f, _ := m.Get(k)
		var ok bool
		switch k {
		case "template":
			var s string
			s, ok = f.(string)
			req.Template = &s
		case "event":
			req.Event, ok = f.(*value.Map)
		case "options":
			req.Options, ok = f.(*value.Map)
		case "cache":
			req.Cache, ok = f.(*value.Map)
		case "shopify":
			req.Shopify, ok = f.(*value.Map)
		case "now":
			var s string
			if s, ok = f.(string); ok {
				if req.Now, err = time.Parse(time.RFC3339, s); err != nil {
					return req, fmt.Errorf("invalid request: \"now\": %w", err)
				}
			}
		default:
			return req, fmt.Errorf("invalid request: unknown field %q (want template, event, options, cache, shopify, now)", k)
		}
		if !ok {
			return req, fmt.Errorf("invalid request: %q has the wrong type %s", k, value.TypeName(f))
		}
	}
	if req.Template == nil {
		return req, errors.New("invalid request: missing \"template\"")
	}
	return req, nil
}

// renderDialect renders one request as task code and returns the result
// object: output (the text), actions, logs, errors, and error when the run
// failed (a text that is not a stream of action/log/error objects is
// returned as output with an output_error).
func renderDialect(ctx context.Context, req dialectRequest) *value.Map {
	out := value.NewMap(6)
	evm := req.Event
	if evm == nil {
		evm = value.MapOf("topic", "mechanic/user/trigger", "data", value.NewMap(0))
	}
	ev, err := taskrun.EventFromValue(evm)
	if err != nil {
		out.Set("error", err.Error())
		return out
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = req.Now
	}
	t := task.New("Console")
	t.Script = *req.Template
	r := tasktest.NewRenderer(req.Now, req.Cache, tasktest.StubGraphQL(req.Shopify))
	r.Limits.Timeout = liquidLineTimeout
	res, err := r.Run(ctx, taskrun.Input{Task: t, Event: ev, Options: req.Options})
	if res != nil {
		out.Set("output", res.Text)
	}
	var re *taskrun.Error
	switch {
	case err != nil && errors.As(err, &re) && re.Kind == taskrun.KindOutput:
		out.Set("output_error", err.Error())
	case err != nil:
		out.Set("error", err.Error())
		return out
	}
	actions, logs, errs := []any{}, []any{}, []any{}
	if res != nil && res.Output != nil {
		for _, a := range res.Output.Actions {
			am := value.MapOf("type", a.Type, "options", a.Options)
			if a.Meta != nil {
				am.Set("meta", a.Meta)
			}
			actions = append(actions, am)
		}
		logs = append(logs, res.Output.Logs...)
		errs = append(errs, res.Output.Errors...)
	}
	out.Set("actions", actions)
	out.Set("logs", logs)
	out.Set("errors", errs)
	return out
}

// runDialectLines serves "sprocket liquid --dialect": one JSON request per
// line of stdin, one JSON result per line of stdout.
func runDialectLines(ctx context.Context, base dialectRequest, stdin io.Reader, stdout io.Writer) int {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), maxDialectLine)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var res *value.Map
		req, err := parseDialectRequest(line, base)
		if err != nil {
			res = value.MapOf("error", err.Error())
		} else {
			res = renderDialect(ctx, req)
		}
		b, err := value.ToJSON(res)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": "encode result: " + err.Error()})
		}
		w.Write(b)
		w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, "sprocket: write:", err)
			return 1
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "sprocket: read:", err)
		return 1
	}
	return 0
}

// consoleUsage is the help of "sprocket console".
const consoleUsage = `usage: sprocket console [--event EVENT.json] [--options OPTIONS.json] [--cache CACHE.json] [--shopify STUBS.json] [--now TIME] [--json]

Renders Liquid with Mechanic's dialect (filters, tags, action/log/error
objects) as task code against an event, options and cache. Each line of
stdin is a template; a line ending in a backslash continues on the next.
A line starting with { is a JSON request as "sprocket liquid --dialect"
reads (template, event, options, cache, shopify, now). Prints the text
and the parsed actions, logs and errors (one JSON line each with --json).
Commands: :event FILE, :options FILE, :cache FILE, :quit.`

// runConsole implements "sprocket console".
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sprocket console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base, asJSON, ok := dialectFlags(fs, args, stdout, stderr, consoleUsage)
	if !ok {
		return exitInvalid
	}
	if base == nil {
		return 0
	}
	interactive := isTerminal(stdout) && !*asJSON
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), maxDialectLine)
	var pending strings.Builder
	prompt := func() {
		if interactive {
			if pending.Len() > 0 {
				fmt.Fprint(stdout, "... ")
			} else {
				fmt.Fprint(stdout, "liquid> ")
			}
		}
	}
	prompt()
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, `\`) {
			pending.WriteString(strings.TrimSuffix(line, `\`) + "\n")
			prompt()
			continue
		}
		pending.WriteString(line)
		text := pending.String()
		pending.Reset()
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "":
		case trimmed == ":quit" || trimmed == ":q":
			return 0
		case strings.HasPrefix(trimmed, ":"):
			if err := consoleCommand(base, trimmed); err != nil {
				fmt.Fprintln(stderr, err)
			}
		default:
			var res *value.Map
			if strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "{{") && !strings.HasPrefix(trimmed, "{%") {
				req, err := parseDialectRequest([]byte(trimmed), *base)
				if err != nil {
					res = value.MapOf("error", err.Error())
				} else {
					res = renderDialect(ctx, req)
				}
			} else {
				req := *base
				req.Template = &text
				res = renderDialect(ctx, req)
			}
			writeConsoleResult(stdout, res, *asJSON)
		}
		prompt()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "sprocket console: read:", err)
		return 1
	}
	return 0
}

// consoleCommand applies ":event FILE", ":options FILE" or ":cache FILE".
func consoleCommand(base *dialectRequest, cmd string) error {
	name, arg, _ := strings.Cut(cmd, " ")
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return fmt.Errorf("%s needs a file", name)
	}
	switch name {
	case ":event":
		m, err := loadObject(arg, "event")
		if err == nil {
			base.Event = m
		}
		return err
	case ":options":
		m, err := loadObject(arg, "options")
		if err == nil {
			base.Options = m
		}
		return err
	case ":cache":
		m, err := loadObject(arg, "cache")
		if err == nil {
			base.Cache = m
		}
		return err
	}
	return fmt.Errorf("unknown command %s (want :event, :options, :cache or :quit)", name)
}

func loadObject(path, what string) (*value.Map, error) {
	v, err := loadJSON(path)
	if err != nil {
		return nil, err
	}
	m, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a JSON object", path, what)
	}
	return m, nil
}

// writeConsoleResult prints a result as JSON or readably.
func writeConsoleResult(w io.Writer, res *value.Map, asJSON bool) {
	if asJSON {
		b, err := value.ToJSON(res)
		if err != nil {
			fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
			return
		}
		fmt.Fprintln(w, string(b))
		return
	}
	if e, ok := res.Get("error"); ok {
		fmt.Fprintf(w, "error: %v\n", e)
		return
	}
	if o, _ := res.Get("output"); o != nil {
		fmt.Fprintf(w, "%s\n", strings.TrimSpace(fmt.Sprint(o)))
	}
	if e, ok := res.Get("output_error"); ok {
		fmt.Fprintf(w, "(not an action stream: %v)\n", e)
	}
	for _, k := range []string{"actions", "logs", "errors"} {
		v, _ := res.Get(k)
		l, _ := v.([]any)
		for _, it := range l {
			b, _ := value.ToJSON(it)
			fmt.Fprintf(w, "%s: %s\n", strings.TrimSuffix(k, "s"), b)
		}
	}
}

// dialectFlags parses the flags shared by "console" and "liquid --dialect";
// a nil request with ok means help was printed.
func dialectFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, usage string) (*dialectRequest, *bool, bool) {
	eventPath := fs.String("event", "", "event JSON file ({\"topic\": …, \"data\": …}); default mechanic/user/trigger with empty data")
	optionsPath := fs.String("options", "", "options JSON file (an object of option keys to values)")
	cachePath := fs.String("cache", "", "cache JSON file (an object of keys to values)")
	shopifyPath := fs.String("shopify", "", "stubbed shopify filter responses (an object of query substrings to responses)")
	nowFlag := fs.String("now", "", "render as if the current time were this RFC 3339 time")
	asJSON := fs.Bool("json", false, "print one JSON result per template")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, asJSON, true
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		}
		return nil, asJSON, false
	}
	req := &dialectRequest{Now: time.Now()}
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "--now: %v\n", err)
			return nil, asJSON, false
		}
		req.Now = t
	}
	for _, f := range []struct {
		path, what string
		dst        **value.Map
	}{{*eventPath, "event", &req.Event}, {*optionsPath, "options", &req.Options}, {*cachePath, "cache", &req.Cache}, {*shopifyPath, "shopify", &req.Shopify}} {
		if f.path == "" {
			continue
		}
		m, err := loadObject(f.path, f.what)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return nil, asJSON, false
		}
		*f.dst = m
	}
	return req, asJSON, true
}
