package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

// RunRenderer renders task runs with package run's Renderer (Mechanic
// Liquid with the event, options, task, cache and shop variables and the
// run limits). Every error it returns fails the run for good: Liquid and
// limit errors do not fix themselves.
type RunRenderer struct {
	// Renderer renders the task; its Cache should read the store's cache
	// (see StoreCache).
	Renderer *run.Renderer
}

// RenderTask renders in.Task for in.Event and its ancestors.
func (r RunRenderer) RenderTask(ctx context.Context, in TaskRunInput) (TaskRunOutput, error) {
	ev, err := RunEvent(in.Event, in.Parents)
	if err != nil {
		return TaskRunOutput{}, err
	}
	res, rerr := r.Renderer.Run(ctx, run.Input{Task: in.Task, TaskID: in.TaskID, TaskCreatedAt: in.TaskCreatedAt, Event: ev})
	var out TaskRunOutput
	if res != nil {
		out.Text = res.Text
		if res.Output != nil {
			out.Actions, out.Logs, out.Errors = res.Output.Actions, res.Output.Logs, res.Output.Errors
		}
	}
	if rerr != nil {
		return out, fmt.Errorf("render task: %w", rerr)
	}
	return out, nil
}

// RunEvent converts a stored event and its ancestors (parent first) into
// the event a task run sees.
func RunEvent(ev store.Event, parents []store.Event) (*run.Event, error) {
	out, err := runEvent(ev)
	if err != nil {
		return nil, err
	}
	cur := out
	for _, p := range parents {
		pe, err := runEvent(p)
		if err != nil {
			return nil, err
		}
		cur.Parent = pe
		cur = pe
	}
	return out, nil
}

func runEvent(ev store.Event) (*run.Event, error) {
	var data any
	if len(ev.Data) > 0 {
		d, err := value.FromJSON(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s data: %w", ev.ID, err)
		}
		data = d
	}
	return &run.Event{ID: ev.ID, Topic: ev.Topic, Data: data, Source: ev.Source, ShopifyTopic: ev.ShopifyTopic, CreatedAt: ev.CreatedAt}, nil
}

// CacheReader reads the shop's cache.
type CacheReader interface {
	CacheGet(ctx context.Context, key string) (json.RawMessage, bool, error)
	CacheList(ctx context.Context, limit int) ([]store.CacheEntry, error)
}

// StoreCache adapts the store's cache to the run.Cache the cache variable
// reads (and iterates).
func StoreCache(c CacheReader) run.Cache { return storeCache{c: c} }

type storeCache struct{ c CacheReader }

// List implements run.CacheLister.
func (s storeCache) List(ctx context.Context, limit int) ([]run.CacheEntry, error) {
	entries, err := s.c.CacheList(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]run.CacheEntry, len(entries))
	for i, e := range entries {
		v, err := value.FromJSON(e.Value)
		if err != nil {
			return nil, fmt.Errorf("cache key %q: %w", e.Key, err)
		}
		out[i] = run.CacheEntry{Key: e.Key, Value: v}
	}
	return out, nil
}

func (s storeCache) Get(ctx context.Context, key string) (any, bool, error) {
	raw, ok, err := s.c.CacheGet(ctx, key)
	if err != nil || !ok {
		return nil, false, err
	}
	v, err := value.FromJSON(raw)
	if err != nil {
		return nil, false, fmt.Errorf("cache %q: %w", key, err)
	}
	return v, true, nil
}
