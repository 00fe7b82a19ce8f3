package dirlock_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/dirlock"
)

func TestSecondAcquireFailsUntilRelease(t *testing.T) {
	dir := t.TempDir()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dirlock.Acquire(dir); !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("second Acquire = %v, want ErrLocked", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	l2, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	_ = l2.Release()
}

// TestLockHeldByOtherProcess holds the lock in a child process (this test
// binary re-run) and checks the parent is refused, then admitted once the
// child is killed.
func TestLockHeldByOtherProcess(t *testing.T) {
	if dir := os.Getenv("DIRLOCK_CHILD_DIR"); dir != "" {
		if _, err := dirlock.Acquire(dir); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		select {} // hold until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHeldByOtherProcess$")
	cmd.Env = append(os.Environ(), "DIRLOCK_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	_, err = dirlock.Acquire(dir)
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("Acquire while the child holds the lock = %v, want ErrLocked naming the pid", err)
	}
	_ = cmd.Process.Kill() // SIGKILL: the kernel drops the lock
	_ = cmd.Wait()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	_ = l.Release()
}
