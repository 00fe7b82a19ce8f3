// Package memlimit works out the memory ceiling of the sprocket process:
// parsing sizes such as "4GiB" (--memory-limit, SPROCKET_MEMORY_LIMIT) and
// deriving a default from the machine (the cgroup's memory limit, else the
// physical memory).
package memlimit

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
)

// Defaults derived from the machine: 9/10 of a cgroup limit (the rest is
// for memory outside the Go heap and the processes sharing the cgroup, such
// as Chromium), or 3/4 of the physical memory when there is no cgroup
// limit.
const (
	CgroupFraction   = 0.9
	MemTotalFraction = 0.75
	// RuntimeFraction of the ceiling is the Go runtime's soft memory
	// limit (debug.SetMemoryLimit): the rest is for memory outside the Go
	// heap that still counts as resident (the program's code, thread
	// stacks).
	RuntimeFraction = 0.9
	// unset is the value at or above which a cgroup limit means none.
	unset = 1 << 60
)

var units = []struct {
	suffix string
	mult   int64
}{
	{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10},
	{"B", 1},
}

// ParseSize parses a byte size: a whole number of bytes ("1073741824"), or
// a number with a unit, binary (KiB, MiB, GiB, TiB; K, M, G, T alike) or
// decimal (KB, MB, GB, TB), case-insensitive, e.g. "4GiB", "512MiB",
// "1.5GiB". It must be positive.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "" {
		return 0, errors.New("empty size")
	}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("size %q is not positive", s)
		}
		if n > math.MaxInt64/mult {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("size %q is not a number of bytes with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), e.g. 4GiB", s)
	}
	v := f * float64(mult)
	if v < 1 {
		return 0, fmt.Errorf("size %q is not positive", s)
	}
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}

// Machine is the parts of the machine Default reads; Host reads the real
// files.
type Machine struct {
	FS fs.FS // the root file system ("/")
}

// Host is the machine this process runs on.
func Host() Machine { return Machine{FS: os.DirFS("/")} }

// Default returns the default ceiling: CgroupFraction of the process's
// cgroup memory limit (cgroup v2 memory.max, or v1
// memory.limit_in_bytes) when one is set, else MemTotalFraction of
// /proc/meminfo's MemTotal. It says where the figure came from.
func (m Machine) Default() (int64, string, error) {
	if n, where, ok := m.cgroupLimit(); ok {
		return int64(float64(n) * CgroupFraction), fmt.Sprintf("%.0f%% of the cgroup memory limit (%s)", CgroupFraction*100, where), nil
	}
	total, err := m.memTotal()
	if err != nil {
		return 0, "", err
	}
	return int64(float64(total) * MemTotalFraction), fmt.Sprintf("%.0f%% of MemTotal in /proc/meminfo", MemTotalFraction*100), nil
}

// cgroupLimit reads the process's cgroup memory limit.
func (m Machine) cgroupLimit() (int64, string, bool) {
	var candidates []string
	if f, err := m.FS.Open("proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				candidates = append(candidates, path.Join("sys/fs/cgroup", parts[2], "memory.max"))
			case strings.Contains(","+parts[1]+",", ",memory,"):
				candidates = append(candidates, path.Join("sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
			}
		}
		f.Close()
	}
	candidates = append(candidates, "sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, c := range candidates {
		b, err := fs.ReadFile(m.FS, c)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= unset {
			continue
		}
		return n, "/" + c, true
	}
	return 0, "", false
}

// memTotal reads MemTotal from /proc/meminfo.
func (m Machine) memTotal() (int64, error) {
	b, err := fs.ReadFile(m.FS, "proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read /proc/meminfo: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > 0 {
				return n << 10, nil
			}
		}
		return 0, fmt.Errorf("/proc/meminfo: bad MemTotal line %q", line)
	}
	return 0, errors.New("/proc/meminfo has no MemTotal")
}
