package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// listCache is a cache that lists its entries in key order.
type listCache struct {
	m     map[string]any
	err   error
	calls []int
}

func (c *listCache) Get(_ context.Context, k string) (any, bool, error) {
	if c.err != nil {
		return nil, false, c.err
	}
	v, ok := c.m[k]
	return v, ok, nil
}

func (c *listCache) List(_ context.Context, limit int) ([]CacheEntry, error) {
	c.calls = append(c.calls, limit)
	if c.err != nil {
		return nil, c.err
	}
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]CacheEntry, len(keys))
	for i, k := range keys {
		out[i] = CacheEntry{Key: k, Value: c.m[k]}
	}
	return out, nil
}

func TestCacheIteration(t *testing.T) {
	big := map[string]any{}
	for i := 0; i <= MaxCacheIteration; i++ {
		big[fmt.Sprintf("k%05d", i)] = int64(i)
	}
	tests := []struct {
		name    string
		cache   Cache
		script  string
		want    string
		wantErr string
	}{
		{"pairs in key order", &listCache{m: map[string]any{"b": int64(2), "a": "x", "c": []any{int64(1)}}},
			`{% for keyval in cache %}{{ keyval[0] }}={{ keyval[1] | json }};{% endfor %}`, `a="x";b=2;c=[1];`, ""},
		{"forloop and size", &listCache{m: map[string]any{"a": int64(1), "b": int64(2)}},
			`{% for kv in cache %}{{ forloop.index }}/{{ forloop.length }} {% endfor %}{{ cache | size }}`, `1/2 2/2 2`, ""},
		{"first/last", &listCache{m: map[string]any{"a": int64(1), "b": int64(2)}},
			`{% for kv in cache %}{% if forloop.first %}{{ kv | first }}{% endif %}{% endfor %}`, `a`, ""},
		{"empty cache runs else", &listCache{m: map[string]any{}},
			`{% for kv in cache %}x{% else %}empty{% endfor %}`, `empty`, ""},
		{"limit reads only that many", &listCache{m: big},
			`{% for kv in cache limit: 2 %}{{ kv[0] }} {% endfor %}`, `k00000 k00001 `, ""},
		{"key access still works", &listCache{m: map[string]any{"a": "x"}}, `{{ cache.a }}{{ cache["a"] }}`, `xx`, ""},
		{"too many keys fail", &listCache{m: big}, `{% for kv in cache %}{% endfor %}`, "", "more than 10000 live keys"},
		{"failing cache fails the loop", &listCache{err: errors.New("disk gone")}, `{% for kv in cache %}{% endfor %}`, "", "disk gone"},
		{"failing cache fails a lookup", &listCache{err: errors.New("disk gone")}, `{{ cache.a }}`, "", "disk gone"},
		{"cache without listing", mapCache{"a": "x"}, `{% for kv in cache %}{% endfor %}`, "", "cannot be iterated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := newTask(t, `{% capture out %}`+tt.script+`{% endcapture %}{% log out %}`, nil)
			r := renderer()
			r.Cache = tt.cache
			res, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "mechanic/user/trigger"}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Output.Logs[0]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCacheIterationPreview: previews see an empty cache.
func TestCacheIterationPreview(t *testing.T) {
	tk := newTask(t, `{% capture out %}{% for kv in cache %}{{ kv[0] }}{% else %}none{% endfor %}{% endcapture %}{% log out %}`, nil)
	r := renderer()
	c := &listCache{m: map[string]any{"a": int64(1)}}
	r.Cache = c
	res, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "mechanic/user/trigger", Preview: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Output.Logs[0] != "none" || len(c.calls) != 0 {
		t.Errorf("preview: %v, cache listed %v", res.Output.Logs[0], c.calls)
	}
}
