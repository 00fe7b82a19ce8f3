package run

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
)

// hoard keeps doubling strings in an array until something stops it.
const hoard = `{% assign s = "0123456789abcdef" %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}` +
	`{% assign keep = array %}{% for i in (1..4000) %}{% assign t = s | append: i %}{% assign keep = keep | push: t %}{% endfor %}`

// TestRunMemoryLimit: a run holding more than its budget fails with a
// limit error naming the memory limit; a bulk operation run has four times
// the budget; a gate caps the budget at its capacity.
func TestRunMemoryLimit(t *testing.T) {
	cases := []struct {
		name   string
		topic  string
		limits Limits
		gate   *MemoryGate
		budget string // in the error
	}{
		{"default budget", "mechanic/user/trigger", Limits{}, nil, "256 MiB"},
		{"own budget", "mechanic/user/trigger", Limits{MemoryBytes: 32 << 20}, nil, "32 MiB"},
		{"bulk operation", "mechanic/shopify/bulk_operation", Limits{MemoryBytes: 32 << 20}, nil, "128 MiB"},
		{"capped by the gate", "mechanic/shopify/bulk_operation", Limits{MemoryBytes: 32 << 20}, NewMemoryGate(48<<20, Limits{}), "48 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := renderer()
			r.Limits, r.Gate = c.limits, c.gate
			_, err := r.Run(context.Background(), Input{Task: newTask(t, hoard, nil), Event: &Event{Topic: c.topic}})
			var re *Error
			if !errors.As(err, &re) || re.Kind != KindLimit || !errors.Is(err, liquid.ErrLimit) {
				t.Fatalf("got %v, want a limit error", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "memory limit exceeded") || !strings.Contains(msg, c.budget) {
				t.Errorf("error %q does not name the memory limit of %s", msg, c.budget)
			}
		})
	}
}

func TestMemoryGateBudgets(t *testing.T) {
	tests := []struct {
		capacity     int64
		limits       Limits
		budget, bulk int64
		concurrency  int64
	}{
		{512 << 20, Limits{}, 256 << 20, 512 << 20, 2},
		{9 << 30, Limits{}, 256 << 20, 1 << 30, 36},
		{100 << 20, Limits{}, 100 << 20, 100 << 20, 1},
		{1 << 30, Limits{MemoryBytes: 64 << 20}, 64 << 20, 256 << 20, 16},
	}
	for _, tt := range tests {
		g := NewMemoryGate(tt.capacity, tt.limits)
		if b := g.Budget("mechanic/user/trigger"); b != tt.budget {
			t.Errorf("capacity %d: budget %d, want %d", tt.capacity, b, tt.budget)
		}
		if b := g.Budget("mechanic/shopify/bulk_operation"); b != tt.bulk {
			t.Errorf("capacity %d: bulk budget %d, want %d", tt.capacity, b, tt.bulk)
		}
		if c := g.Concurrency("mechanic/user/trigger"); c != tt.concurrency {
			t.Errorf("capacity %d: concurrency %d, want %d", tt.capacity, c, tt.concurrency)
		}
	}
	if got := GateCapacity(1 << 30); got != 512<<20 {
		t.Errorf("GateCapacity(1GiB) = %d", got)
	}
}

// TestMemoryGateWaits: runs beyond the gate's room wait until a run
// leaves, and a waiting run whose context ends gives up without taking
// room.
func TestMemoryGateWaits(t *testing.T) {
	g := NewMemoryGate(512<<20, Limits{})
	ctx := context.Background()
	r1, err := g.Enter(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := g.Enter(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// A third must wait: it gives up when its context ends.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := g.Enter(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third run entered a full gate: %v", err)
	}
	entered := make(chan func(), 1)
	go func() {
		rel, err := g.Enter(ctx, "a")
		if err != nil {
			t.Error(err)
			close(entered)
			return
		}
		entered <- rel
	}()
	select {
	case <-entered:
		t.Fatal("entered before any run left")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	rel := <-entered
	if rel == nil {
		t.Fatal("waiting run failed")
	}
	// A bulk operation run needs the whole gate: it waits for both.
	bulk := make(chan func(), 1)
	go func() {
		rel, _ := g.Enter(ctx, "mechanic/shopify/bulk_operation")
		bulk <- rel
	}()
	r2()
	select {
	case <-bulk:
		t.Fatal("bulk run entered while a run renders")
	case <-time.After(50 * time.Millisecond):
	}
	rel()
	(<-bulk)()
}
