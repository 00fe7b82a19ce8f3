package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sprocketrun/sprocket/internal/memlimit"
)

// TestServeHelpMemoryLimit: sprocket serve --help documents the memory
// ceiling's flag, its environment variable and how the default is made.
func TestServeHelpMemoryLimit(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"-memory-limit", "SPROCKET_MEMORY_LIMIT", "4GiB", "cgroup memory limit", "75% of the machine's memory", "bulk operation"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help does not mention %q", want)
		}
	}
}

// TestServeBadMemoryLimit: a size that does not parse, from the flag or
// the environment, stops serve with exit 2 naming the flag and the env var.
func TestServeBadMemoryLimit(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
	}{
		{"flag", "", []string{"--memory-limit", "lots"}},
		{"env", "-4GiB", nil},
		{"zero", "", []string{"--memory-limit", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SPROCKET_MEMORY_LIMIT", tt.env)
			var out, errOut bytes.Buffer
			args := append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, tt.args...)
			code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), "--memory-limit (SPROCKET_MEMORY_LIMIT)") {
				t.Fatalf("exit %d, stderr %q", code, errOut.String())
			}
		})
	}
}

func TestMemoryCeiling(t *testing.T) {
	machine := memlimit.Machine{FS: fstest.MapFS{"proc/meminfo": {Data: []byte("MemTotal: 8388608 kB\n")}}}
	tests := []struct {
		flag string
		want int64
		from string
	}{
		{"1GiB", 1 << 30, "--memory-limit"},
		{"536870912", 512 << 20, "--memory-limit"},
		{"", 6 << 30, "MemTotal"},
		{"  ", 6 << 30, "MemTotal"},
	}
	for _, tt := range tests {
		got, from, err := memoryCeiling(tt.flag, machine)
		if err != nil || got != tt.want || !strings.Contains(from, tt.from) {
			t.Errorf("memoryCeiling(%q) = %d, %q, %v; want %d from %q", tt.flag, got, from, err, tt.want, tt.from)
		}
	}
	if _, _, err := memoryCeiling("", memlimit.Machine{FS: fstest.MapFS{}}); err == nil {
		t.Error("no error without a way to derive the default")
	}
}
