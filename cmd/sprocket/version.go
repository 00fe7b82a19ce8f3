package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the build's version: the module version (or
// "(devel)"), the VCS revision and time when the binary was built from a
// checkout, and the Go version.
func runVersion(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprintln(stdout, "usage: sprocket version\n\nPrints the version, commit and Go version of this build.")
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: sprocket version")
		return 2
	}
	fmt.Fprintln(stdout, versionLine())
	return 0
}

// versionLine describes the build from its embedded build information.
func versionLine() string {
	version, rev, at, dirty := "(devel)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	line := "sprocket " + version
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		line += " commit " + rev
		if dirty {
			line += "+dirty"
		}
		if at != "" {
			line += " (" + at + ")"
		}
	}
	return line + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
