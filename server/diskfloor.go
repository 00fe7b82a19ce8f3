package server

import (
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// DefaultMinFreeDisk is the free-space floor `sprocket serve` applies to
// its data directory unless told otherwise (256 MiB).
const DefaultMinFreeDisk = 256 << 20

// diskFloor refuses ingest while the data directory's file system has
// less than min bytes free, so runs and the scheduler can still finish
// before the disk is full. The free space is read at most once a second.
type diskFloor struct {
	dir  string
	min  int64
	free func(dir string) (int64, error)
	now  func() time.Time
	// every is how long a reading is reused.
	every time.Duration

	mu      sync.Mutex
	checked time.Time
	avail   int64
	err     error
}

func newDiskFloor(dir string, minFree int64, free func(string) (int64, error)) *diskFloor {
	if minFree <= 0 {
		return nil
	}
	if free == nil {
		free = freeBytes
	}
	return &diskFloor{dir: dir, min: minFree, free: free, now: time.Now, every: time.Second}
}

// freeBytes is the space available to unprivileged users on dir's file
// system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free disk space of %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:gosec // block counts fit in int64
}

// status returns the free bytes, and an error when ingest must pause.
func (d *diskFloor) status() (int64, error) {
	if d == nil {
		return -1, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if now := d.now(); d.checked.IsZero() || now.Sub(d.checked) >= d.every {
		d.avail, d.err = d.free(d.dir)
		d.checked = now
	}
	if d.err != nil {
		return 0, d.err
	}
	if d.avail < d.min {
		return d.avail, fmt.Errorf("free disk space (%d MiB) is below the floor of %d MiB; new events are refused until space is freed", d.avail>>20, d.min>>20)
	}
	return d.avail, nil
}

// admit is the webhook handler's admission check.
func (d *diskFloor) admit(*http.Request) error {
	_, err := d.status()
	return err
}
