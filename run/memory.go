package run

import (
	"context"
	"fmt"

	"github.com/sprocketrun/sprocket/liquid"
	"golang.org/x/sync/semaphore"
)

// RenderMemoryFraction is the share of the process's memory ceiling that
// renders in progress may hold between them; the rest is left to the
// garbage collector's headroom, event payloads, the store and the HTTP
// server.
const RenderMemoryFraction = 0.5

// MemoryGate bounds the memory that task runs rendering at once may hold:
// each run reserves its memory budget (Limits.MemoryBytes, larger for bulk
// operation results) before it renders and returns it when done, so that
// at most max(1, capacity / budget) ordinary runs render at once. A run
// whose budget is larger than the capacity reserves all of it and, through
// Renderer.Gate, is held to it. Runs waiting for room wait in order; they
// are not failed. It is safe for concurrent use.
type MemoryGate struct {
	sem      *semaphore.Weighted
	capacity int64
	limits   Limits
}

// NewMemoryGate returns a gate of capacity bytes (at least one default run
// budget) for runs with the given limits.
func NewMemoryGate(capacity int64, limits Limits) *MemoryGate {
	capacity = max(capacity, 1)
	return &MemoryGate{sem: semaphore.NewWeighted(capacity), capacity: capacity, limits: limits}
}

// GateCapacity returns the render capacity for a process memory ceiling.
func GateCapacity(ceiling int64) int64 {
	return int64(float64(ceiling) * RenderMemoryFraction)
}

// Capacity returns the bytes all renders in progress may hold.
func (g *MemoryGate) Capacity() int64 { return g.capacity }

// Budget returns the memory budget of a run for an event of topic: the
// run limits' (bulk operation results get BulkOperationScale times more),
// at most the gate's capacity.
func (g *MemoryGate) Budget(topic string) int64 {
	return g.clamp(g.limits.forEvent(topic).memory())
}

func (g *MemoryGate) clamp(n int64) int64 {
	if g == nil {
		return n
	}
	return min(n, g.capacity)
}

// Concurrency returns how many runs for topic may render at once.
func (g *MemoryGate) Concurrency(topic string) int64 {
	return max(1, g.capacity/g.Budget(topic))
}

// Enter waits until a run for an event of topic may render, or ctx ends;
// release returns its reservation.
func (g *MemoryGate) Enter(ctx context.Context, topic string) (release func(), err error) {
	n := g.Budget(topic)
	if err := g.sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("waiting for render memory: %w", err)
	}
	return func() { g.sem.Release(n) }, nil
}

// memory returns the memory budget of l, the engine's default when unset
// (negative: unlimited, which no gate can reserve; it counts as the
// default).
func (l Limits) memory() int64 {
	if l.MemoryBytes <= 0 {
		return liquid.DefaultMemoryBytes
	}
	return l.MemoryBytes
}
