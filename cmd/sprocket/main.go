// Command sprocket is Sprocket's single binary; its first argument names a
// subcommand.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists the subcommands; each lives in its own file.
func commands() map[string]command {
	cmds := map[string]command{
		"liquid":  {summary: "render Liquid templates from JSON lines on stdin", run: runLiquid},
		"console": {summary: "render Liquid with Mechanic's dialect against an event, options and cache", run: runConsole},
		"task":    {summary: "preview or lint a Mechanic task (task preview|lint TASK.json)", run: runTask},
		"serve":   {summary: "run the Sprocket service (HTTP API, webhooks, scheduler, runs)", run: runServe},
		"tasks":   {summary: "manage tasks: tasks import DIR|FILE...", run: runTasks},
		"secrets": {summary: "manage stored credentials: secrets rotate-key", run: runSecrets},

		"sandbox": {summary: "serve a sandbox Shopify shop (Admin API from the real schema)", run: runSandbox},
	}
	cmds["version"] = command{summary: "print the version of this build", run: runVersion}
	return cmds
}

// wantsHelp reports whether args ask for help (-h, -help or --help before
// any "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout, cmds)
		return 0
	case "help":
		if len(args) > 1 {
			if c, ok := cmds[args[1]]; ok {
				return c.run(ctx, append(args[2:], "--help"), stdin, stdout, stderr)
			}
		}
		usage(stdout, cmds)
		return 0
	case "-version", "--version":
		return runVersion(ctx, nil, stdin, stdout, stderr)
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sprocket: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: sprocket <command> [arguments]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"sprocket <command> --help\" for a command's arguments and flags.")
}
