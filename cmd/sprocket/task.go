package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid/value"
	taskrun "github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/lint"
)

// Exit codes of "sprocket task": like Mechanic's CLI, 1 means a run of the
// task failed and 2 that the task (or the command line) is invalid.
const (
	exitRunFailed = 1
	exitInvalid   = 2
)

// runTask dispatches "sprocket task preview|lint".
func runTask(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sprocket task preview TASK.json [--event EVENT.json] [--options OPTIONS.json]\n       sprocket task lint TASK.json")
		return exitInvalid
	}
	switch args[0] {
	case "preview":
		return taskPreview(ctx, args[1:], stdout, stderr)
	case "lint":
		return taskLint(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sprocket task: unknown subcommand %q (want preview or lint)\n", args[0])
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
	b, jerr := value.ToJSON(doc)
	if jerr != nil {
		fmt.Fprintln(stderr, "sprocket task preview: encode result:", jerr)
		return exitRunFailed
	}
	fmt.Fprintln(stdout, string(b))
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
