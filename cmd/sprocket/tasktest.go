package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sprocketrun/sprocket/task/tasktest"
)

// taskTest implements "sprocket task test DIR...": runs the tests/*.json
// of each task folder without a server.
func taskTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sprocket task test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	update := fs.Bool("update", false, "write the current outputs as the tests' expectations")
	junit := fs.String("junit", "", "also write the results as JUnit XML to this file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sprocket task test [--update] [--junit FILE] DIR...\n\nRuns the tests/*.json of each task folder: the event, option overrides,\ncache state and stubbed shopify responses of each test, and compares the\nrendered actions, logs and errors with its expectations.\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	dirs, err := splitArgs(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(dirs) == 0 {
		fs.Usage()
		return exitInvalid
	}
	var suites []*tasktest.Suite
	for _, d := range dirs {
		s := tasktest.RunDir(ctx, d)
		if *update && s.Err == nil {
			for _, r := range s.Results {
				if r.Err != nil {
					continue
				}
				if err := tasktest.Update(r); err != nil {
					fmt.Fprintf(stderr, "sprocket task test: %v\n", err)
					return exitRunFailed
				}
				fmt.Fprintf(stderr, "updated %s\n", r.Case.Path)
			}
			s = tasktest.RunDir(ctx, d)
		}
		suites = append(suites, s)
	}
	_, failed := tasktest.WriteReport(stdout, suites)
	if *junit != "" {
		f, err := os.Create(*junit)
		if err != nil {
			fmt.Fprintf(stderr, "sprocket task test: %v\n", err)
			return exitRunFailed
		}
		werr := tasktest.WriteJUnit(f, suites)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fmt.Fprintf(stderr, "sprocket task test: %v\n", werr)
			return exitRunFailed
		}
	}
	if failed > 0 {
		return exitRunFailed
	}
	return 0
}
