package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/store/storetest"
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
	// Safety net only: never leave a stuck child behind.
	safety := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer safety.Stop()
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

const workChildEnv = "SPROCKET_STORE_WORK_CHILD_DIR"

// work claims and completes runs until none is due: an event run creates a
// task run, a task run creates an action run, an action run creates nothing.
// Follow-up ids derive from the parent run, as the pipeline does. It calls
// progress after each completion and returns how many it completed.
func work(ctx context.Context, s store.Store, progress func()) (int, error) {
	done := 0
	for {
		jobs, err := s.Claim(ctx, 16, 30*time.Second)
		if err != nil {
			return done, err
		}
		if len(jobs) == 0 {
			return done, nil
		}
		for _, j := range jobs {
			var eff store.Effects
			switch j.Run.Kind {
			case store.KindEvent:
				eff.Runs = []store.NewRun{{ID: store.DerivedID(j.Run.ID, "task"), Kind: store.KindTask, EventID: j.Run.EventID,
					TaskID: store.DerivedID("task"), ParentRunID: j.Run.ID}}
			case store.KindTask:
				eff.Runs = []store.NewRun{{ID: store.DerivedID(j.Run.ID, "action", "0"), Kind: store.KindAction, EventID: j.Run.EventID,
					TaskID: j.Run.TaskID, ParentRunID: j.Run.ID, ActionType: "echo"}}
			}
			if _, err := s.Complete(ctx, j, store.Result{Effects: eff}); err != nil {
				return done, err
			}
			done++
			progress()
		}
	}
}

// TestWorkChild is the child half of TestQueueSurvivesKill.
func TestWorkChild(t *testing.T) {
	dir := os.Getenv(workChildEnv)
	if dir == "" {
		t.Skip("child process of TestQueueSurvivesKill")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := work(ctx, s, func() {})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		})
	}
	// Report progress from the main goroutine until the parent kills us.
	go func() {
		for {
			st, err := s.Stats(ctx)
			if err == nil {
				fmt.Fprintln(out, st.Due[store.KindEvent])
				_ = out.Flush()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	fmt.Fprintln(out, "done")
	_ = out.Flush()
	select {}
}

// TestQueueSurvivesKill kills a process while it works the queue, then
// finishes the work after a restart, and checks that every event got
// exactly one task run and one action run, all successful: steps are
// retried after the crash and their effects are recorded once.
func TestQueueSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	const n = 3000
	dir := t.TempDir()
	ctx := t.Context()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]store.NewEvent, n)
	for i := range evs {
		evs[i] = store.NewEvent{Topic: "user/crash/work", Data: sampleData}
	}
	inserted, err := s.InsertEvents(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), workChildEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Safety net only: never leave a stuck child behind.
	safety := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer safety.Stop()
	// Kill the child once it has worked through about a third of the events.
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if due, err := strconv.Atoi(sc.Text()); err == nil && due < n*2/3 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Restart an hour later: the dead worker's leases have expired.
	clock := storetest.NewClock(time.Now().Add(time.Hour))
	s, err = sqlite.Open(ctx, dir, sqlite.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	finished, err := work(ctx, s, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if finished == 0 {
		t.Fatal("the child finished everything before it was killed")
	}
	t.Logf("after SIGKILL: %v runs were leased by the dead worker, %d runs completed after restart", st.Running, finished)
	for _, ev := range inserted {
		runs, _, err := s.ListRuns(ctx, store.RunFilter{EventID: ev.ID})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[store.RunKind]int{}
		for _, r := range runs {
			kinds[r.Kind]++
			if r.Status != store.StatusSuccess {
				t.Fatalf("event %s: %s run %s is %s", ev.ID, r.Kind, r.ID, r.Status)
			}
		}
		if kinds[store.KindEvent] != 1 || kinds[store.KindTask] != 1 || kinds[store.KindAction] != 1 {
			t.Fatalf("event %s has runs %v, want one of each kind", ev.ID, kinds)
		}
	}
}
