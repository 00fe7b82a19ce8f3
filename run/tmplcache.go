package run

import (
	"sync"

	"github.com/sprocketrun/sprocket/liquid"
)

// TemplateCache keeps parsed task scripts so that runs of the same task
// version skip parsing. It is bounded (the oldest entry goes first), safe
// for concurrent use, and must be used with a single engine.
type TemplateCache struct {
	mu    sync.Mutex
	max   int
	byKey map[string]*liquid.Template
	order []string
}

// NewTemplateCache returns a cache holding at most n templates.
func NewTemplateCache(n int) *TemplateCache {
	return &TemplateCache{max: max(n, 1), byKey: make(map[string]*liquid.Template, n)}
}

// lookup returns the cached template of script; a nil cache has none.
func (c *TemplateCache) lookup(script string) (*liquid.Template, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byKey[script]
	return t, ok
}

// store caches the template of script; a nil cache keeps nothing.
func (c *TemplateCache) store(script string, t *liquid.Template) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[script]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.byKey[script] = t
	c.order = append(c.order, script)
}

// Len returns the number of cached templates.
func (c *TemplateCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}
