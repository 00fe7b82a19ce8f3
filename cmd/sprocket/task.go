package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	taskrun "github.com/sprocketrun/sprocket/run"
	gqllint "github.com/sprocketrun/sprocket/shopify/lint"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/lint"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// Exit codes of "sprocket task": like Mechanic's CLI, 1 means a run of the
// task failed and 2 that the task (or the command line) is invalid.
const (
	exitRunFailed = 1
	exitInvalid   = 2
)

// taskUsage is the help of "sprocket task".
const taskUsage = `usage: sprocket task preview TASK.json [--event EVENT.json] [--options OPTIONS.json] [--json]
       sprocket task lint TASK.json
       sprocket task pack DIR > TASK.json
       sprocket task unpack TASK.json DIR
       sprocket task test [--update] [--junit FILE] DIR...

preview renders the task for its preview events (or --event) without
performing anything: a readable summary on a terminal, JSON otherwise or
with --json. lint reports Liquid syntax errors, unknown filters and
undeclared options. pack and unpack convert between the JSON export and
a task folder (task.json, script.liquid, docs.md, preview_events/). Run "sprocket task preview --help" for all flags.`

// runTask dispatches "sprocket task preview|lint".
func runTask(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, taskUsage)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, taskUsage)
		return 0
	case "preview":
		return taskPreview(ctx, args[1:], stdout, stderr)
	case "lint":
		return taskLint(args[1:], stdout, stderr)
	case "pack":
		return taskPack(args[1:], stdout, stderr)
	case "unpack":
		return taskUnpack(args[1:], stdout, stderr)
	case "test":
		return taskTest(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sprocket task: unknown subcommand %q (want preview, lint, pack, unpack or test)\n", args[0])
	return exitInvalid
}

// splitArgs separates flags from positional arguments, so that flags may
// follow the task file.
func splitArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	return pos, nil
}

func loadTask(path string) (*task.Task, error) {
	if taskdir.IsDir(path) {
		return taskdir.Load(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read task: %w", err)
	}
	t, err := task.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func loadJSON(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := value.FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// taskPreview prints one JSON document: the rendered subscriptions and,
// for each preview event, its actions, logs and errors.
func taskPreview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sprocket task preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventPath := fs.String("event", "", "preview this event (JSON: {\"topic\": …, \"data\": …}) instead of the task's preview events")
	optionsPath := fs.String("options", "", "JSON object of option values overriding the task's stored ones")
	noSample := fs.Bool("no-sample-options", false, "leave unfilled required options empty instead of giving them sample values")
	nowFlag := fs.String("now", "", "render as if the current time were this RFC 3339 time (reproducible previews)")
	asJSON := fs.Bool("json", false, "print the preview as one JSON document (the default when stdout is not a terminal)")
	asText := fs.Bool("text", false, "print a readable summary (the default on a terminal)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sprocket task preview TASK.json [flags]\n\nRenders the task for its preview events without performing anything.\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	pos, err := splitArgs(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sprocket task preview TASK.json [--event EVENT.json] [--options OPTIONS.json]")
		return exitInvalid
	}
	t, err := loadTask(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "sprocket task preview:", err)
		return exitInvalid
	}
	in := taskrun.PreviewInput{Task: t, NoSampleOptions: *noSample}
	if *eventPath != "" {
		v, err := loadJSON(*eventPath)
		if err != nil {
			fmt.Fprintln(stderr, "sprocket task preview:", err)
			return exitInvalid
		}
		if in.Event, err = taskrun.EventFromValue(v); err != nil {
			fmt.Fprintf(stderr, "sprocket task preview: %s: %v\n", *eventPath, err)
			return exitInvalid
		}
	}
	if *optionsPath != "" {
		v, err := loadJSON(*optionsPath)
		if err != nil {
			fmt.Fprintln(stderr, "sprocket task preview:", err)
			return exitInvalid
		}
		m, ok := v.(*value.Map)
		if !ok {
			fmt.Fprintf(stderr, "sprocket task preview: %s: options must be a JSON object\n", *optionsPath)
			return exitInvalid
		}
		in.Options = m
	}
	r := &taskrun.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	now := time.Now()
	if *nowFlag != "" {
		now, err = time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "sprocket task preview: --now: %v\n", err)
			return exitInvalid
		}
		r.Now = func() time.Time { return now }
	}
	if in.Options != nil {
		// option values given on the command line are checked against
		// their keys' flags, as Mechanic checks them when a task is saved
		if errs := task.ValidateAt(in.Options, now); len(errs) > 0 {
			for _, e := range errs {
				fmt.Fprintf(stderr, "sprocket task preview: %s: %v\n", *optionsPath, &e)
			}
			return exitInvalid
		}
	}
	p, err := r.Preview(ctx, in)
	if err != nil {
		fmt.Fprintln(stderr, "sprocket task preview:", err)
		if p == nil {
			return exitInvalid
		}
	}
	doc := previewDocument(p)
	if *asText || (!*asJSON && isTerminal(stdout)) {
		writePreviewText(stdout, doc)
	} else {
		b, jerr := value.ToJSON(doc)
		if jerr != nil {
			fmt.Fprintln(stderr, "sprocket task preview: encode result:", jerr)
			return exitRunFailed
		}
		fmt.Fprintln(stdout, string(b))
	}
	if err != nil {
		return exitInvalid
	}
	failed := p.Failed()
	for _, f := range failed {
		fmt.Fprintf(stderr, "sprocket task preview: %s: %v\n", f.Event.Topic, f.Err)
	}
	if len(failed) > 0 {
		return exitRunFailed
	}
	return 0
}

// previewDocument is the JSON form of a preview.
func previewDocument(p *taskrun.Preview) *value.Map {
	subs := make([]any, len(p.Subscriptions))
	for i, s := range p.Subscriptions {
		subs[i] = s
	}
	doc := value.NewMap(3)
	doc.Set("subscriptions", subs)
	if len(p.SampledOptions) > 0 {
		so := make([]any, len(p.SampledOptions))
		for i, s := range p.SampledOptions {
			so[i] = s
		}
		doc.Set("sampled_options", so)
	}
	runs := make([]any, 0, len(p.Runs))
	for _, pr := range p.Runs {
		m := value.NewMap(6)
		if pr.Description != "" {
			m.Set("description", pr.Description)
		}
		m.Set("event", value.MapOf("topic", pr.Event.Topic, "data", pr.Event.Data))
		actions, logs, errs := []any{}, []any{}, []any{}
		if pr.Result != nil && pr.Result.Output != nil {
			for _, a := range pr.Result.Output.Actions {
				am := value.MapOf("type", a.Type, "options", a.Options)
				if a.Meta != nil {
					am.Set("meta", a.Meta)
				}
				if a.NoPerformEvent {
					am.Set("__perform_event", false)
				}
				actions = append(actions, am)
			}
			logs = append(logs, pr.Result.Output.Logs...)
			errs = append(errs, pr.Result.Output.Errors...)
		}
		m.Set("actions", actions)
		m.Set("logs", logs)
		m.Set("errors", errs)
		if pr.Err != nil {
			m.Set("failure", pr.Err.Error())
		}
		runs = append(runs, m)
	}
	doc.Set("runs", runs)
	return doc
}

// taskLint reports Liquid syntax errors, unknown filters and tags, and
// options the code references without declaring them.
func taskLint(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprintln(stdout, "usage: sprocket task lint TASK.json\n\nReports Liquid syntax errors, unknown filters and tags, and options the\ncode uses without declaring them; exits 1 when there are findings.")
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: sprocket task lint TASK.json")
		return exitInvalid
	}
	t, err := loadTask(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "sprocket task lint:", err)
		return exitInvalid
	}
	eng := dialect.NewEngine(dialect.Options{})
	probs := lint.Check(eng, t)
	probs = append(probs, lintGraphQL(eng, t, stderr)...)
	for _, p := range probs {
		if p.Line > 0 {
			fmt.Fprintf(stdout, "%s: %s line %d: %s\n", args[0], p.Where, p.Line, p.Message)
		} else {
			fmt.Fprintf(stdout, "%s: %s: %s\n", args[0], p.Where, p.Message)
		}
	}
	if len(probs) > 0 {
		fmt.Fprintf(stderr, "sprocket task lint: %d problem(s)\n", len(probs))
		return exitRunFailed
	}
	return 0
}

// lintGraphQL validates the Shopify GraphQL the task's preview renders
// against the Admin schema of its API version (found by schema.Locate:
// $SPROCKET_SHOPIFY_SCHEMA_DIR or the shared corpus). Without a schema it
// says so on stderr and checks nothing. Nulls where the schema needs a
// value depend on the preview's data and are not reported.
func lintGraphQL(eng *liquid.Engine, t *task.Task, stderr io.Writer) []lint.Problem {
	pv, err := (&taskrun.Renderer{Engine: eng}).Preview(context.Background(), taskrun.PreviewInput{Task: t})
	if err != nil {
		return nil // the Liquid problems are reported already
	}
	docs := gqllint.Documents(pv)
	if len(docs) == 0 {
		return nil
	}
	var schemas gqllint.Schemas
	sch, err := schemas.Get(t.ShopifyAPIVersion)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket task lint: GraphQL not checked: %v\n", err)
		return nil
	}
	var out []lint.Problem
	for _, f := range gqllint.Check(sch, t.Script, docs) {
		if f.DataDependent {
			continue
		}
		out = append(out, lint.Problem{Where: "script", Line: f.TaskLine,
			Message: fmt.Sprintf("GraphQL (%s, %d:%d): %s", f.Source, f.Line, f.Column, f.Message)})
	}
	return out
}
