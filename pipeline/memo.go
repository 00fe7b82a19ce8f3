package pipeline

import "sync"

// memo is a small bounded map for immutable records (events, finished
// task runs' metadata) that runs of one chain read again and again. When
// full, the oldest entry is dropped.
type memo[K comparable, V any] struct {
	mu   sync.Mutex
	max  int
	m    map[K]V
	ring []K
	next int
}

func newMemo[K comparable, V any](max int) *memo[K, V] {
	return &memo[K, V]{max: max, m: make(map[K]V, max), ring: make([]K, 0, max)}
}

func (c *memo[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *memo[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		c.m[k] = v
		return
	}
	if len(c.ring) < c.max {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.max
	}
	c.m[k] = v
}
