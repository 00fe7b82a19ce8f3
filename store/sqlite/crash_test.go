package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

const crashChildEnv = "SPROCKET_STORE_CRASH_CHILD_DIR"

// TestCrashChild is the child half of TestAckedEventsSurviveKill: it inserts
// events through the batcher from many goroutines and prints each event id
// once its insert was acknowledged, until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("child process of TestAckedEventsSurviveKill")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b := store.NewEventBatcher(s, store.BatcherOptions{})
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				ev, err := b.Insert(ctx, store.NewEvent{Topic: "user/crash/test", Data: sampleData})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				// Flush every line: a line the parent reads is an acked event.
				fmt.Fprintln(out, ev.ID)
				_ = out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestAckedEventsSurviveKill kills a process with SIGKILL while it is
// acknowledging events and checks that every acknowledged event, with its
// event run, is in the database afterwards.
func TestAckedEventsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(acked) < 3000 {
		acked = append(acked, sc.Text())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 3000 {
		t.Fatalf("child acknowledged only %d events before exiting", len(acked))
	}
	s, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.GetEvent(t.Context(), id); err != nil {
			t.Fatalf("acknowledged event %s lost: %v", id, err)
		}
		if _, err := s.GetRun(t.Context(), store.EventRunID(id)); err != nil {
			t.Fatalf("event run of acknowledged event %s lost: %v", id, err)
		}
	}
	t.Logf("%d acknowledged events all present after SIGKILL", len(acked))
}
