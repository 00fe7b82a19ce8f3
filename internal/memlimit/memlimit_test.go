package memlimit

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"1073741824", 1 << 30, ""},
		{"4GiB", 4 << 30, ""},
		{"4gib", 4 << 30, ""},
		{"512MiB", 512 << 20, ""},
		{"512 MiB", 512 << 20, ""},
		{"64KiB", 64 << 10, ""},
		{"1TiB", 1 << 40, ""},
		{"2G", 2 << 30, ""},
		{"100M", 100 << 20, ""},
		{"2GB", 2_000_000_000, ""},
		{"500MB", 500_000_000, ""},
		{"1.5GiB", 3 << 29, ""},
		{"1024B", 1024, ""},
		{"", 0, "empty"},
		{"0", 0, "not positive"},
		{"-1GiB", 0, "not positive"},
		{"lots", 0, "not a number"},
		{"4 parsecs", 0, "not a number"},
		{"9999999TiB", 0, "too large"},
		{"NaN", 0, "not a number"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	meminfo := "MemTotal:       24683784 kB\nMemFree:        1000 kB\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  int64
		from  string
		err   bool
	}{
		{
			name: "cgroup v2 limit",
			files: fstest.MapFS{
				"proc/self/cgroup":                      {Data: []byte("0::/svc/sprocket\n")},
				"sys/fs/cgroup/svc/sprocket/memory.max": {Data: []byte("2147483648\n")},
				"proc/meminfo":                          {Data: []byte(meminfo)},
			},
			want: frac(2<<30, CgroupFraction), from: "/sys/fs/cgroup/svc/sprocket/memory.max",
		},
		{
			name: "cgroup v2 without a limit",
			files: fstest.MapFS{
				"proc/self/cgroup":         {Data: []byte("0::/\n")},
				"sys/fs/cgroup/memory.max": {Data: []byte("max\n")},
				"proc/meminfo":             {Data: []byte(meminfo)},
			},
			want: frac(24683784<<10, MemTotalFraction), from: "MemTotal",
		},
		{
			name: "cgroup v1 limit",
			files: fstest.MapFS{
				"proc/self/cgroup": {Data: []byte("5:cpu:/\n4:memory:/jobs/a\n")},
				"sys/fs/cgroup/memory/jobs/a/memory.limit_in_bytes": {Data: []byte("1073741824\n")},
				"proc/meminfo": {Data: []byte(meminfo)},
			},
			want: frac(1<<30, CgroupFraction), from: "memory.limit_in_bytes",
		},
		{
			name: "cgroup v1 unlimited",
			files: fstest.MapFS{
				"proc/self/cgroup":                           {Data: []byte("4:memory:/\n")},
				"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
				"proc/meminfo":                               {Data: []byte(meminfo)},
			},
			want: frac(24683784<<10, MemTotalFraction), from: "MemTotal",
		},
		{
			name:  "no meminfo",
			files: fstest.MapFS{},
			err:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, err := Machine{FS: tt.files}.Default()
			if tt.err {
				if err == nil {
					t.Fatalf("Default() = %d, %q; want an error", got, from)
				}
				return
			}
			if err != nil || got != tt.want || !strings.Contains(from, tt.from) {
				t.Fatalf("Default() = %d, %q, %v; want %d from %q", got, from, err, tt.want, tt.from)
			}
		})
	}
}

// TestHostDefault reads this machine: whatever it has, the default is a
// positive size.
func TestHostDefault(t *testing.T) {
	n, from, err := Host().Default()
	if err != nil || n <= 0 {
		t.Fatalf("Host().Default() = %d, %q, %v", n, from, err)
	}
	t.Logf("default ceiling here: %d bytes (%s)", n, from)
}

func frac(n int64, f float64) int64 { return int64(float64(n) * f) }
