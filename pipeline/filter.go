package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

// EventFilter decides, in the event run, whether an event reaches tasks
// (docs: platform/events/filters.md).
type EventFilter interface {
	// Filter returns the name of the filter that stopped the event, or ""
	// when the event proceeds. An error fails the event run.
	Filter(ctx context.Context, ev store.Event) (stoppedBy string, err error)
}

// SettingsLister lists settings of a kind (store.Settings has it).
type SettingsLister interface {
	ListSettings(ctx context.Context, kind store.SettingKind) ([]store.Setting, error)
}

// FilterError is an event filter that failed to render.
type FilterError struct {
	// Name is the filter's name.
	Name string
	// Err is the Liquid error.
	Err error
}

// Error returns e.g. `event filter "skip bulk": Liquid syntax error: …`.
func (e *FilterError) Error() string { return fmt.Sprintf("event filter %q: %v", e.Name, e.Err) }

// Unwrap returns the Liquid error.
func (e *FilterError) Unwrap() error { return e.Err }

// SettingsEventFilters runs the account's event filters, stored as
// store.SettingEventFilter settings whose value is {"name", "template"}:
// each template is rendered with event, shop and cache, and an output of
// "false" (surrounding whitespace ignored) stops the event. Filters are
// read on every event run, so changes apply at once.
type SettingsEventFilters struct {
	// Settings holds the filters.
	Settings SettingsLister
	// Engine renders the templates (a dialect engine).
	Engine *liquid.Engine
	// Shop is the shop variable; nil means run.PreviewShop().
	Shop value.Drop
	// Cache serves the cache variable; nil means an empty cache.
	Cache run.Cache
	// Limits bound each render (zero fields: the engine's defaults), and
	// Timeout bounds its wall time (default 5s).
	Limits  liquid.Limits
	Timeout time.Duration

	once      sync.Once
	templates *memo[string, *liquid.Template]
}

type filterDef struct {
	Name     string `json:"name"`
	Template string `json:"template"`
}

// Filter renders every event filter for ev.
func (f *SettingsEventFilters) Filter(ctx context.Context, ev store.Event) (string, error) {
	settings, err := f.Settings.ListSettings(ctx, store.SettingEventFilter)
	if err != nil {
		return "", Transient(fmt.Errorf("list event filters: %w", err))
	}
	if len(settings) == 0 {
		return "", nil
	}
	rev, err := RunEvent(ev, nil)
	if err != nil {
		return "", err
	}
	env := value.NewMap(3)
	env.Set("event", rev.Value())
	if f.Shop != nil {
		env.Set("shop", f.Shop)
	} else {
		env.Set("shop", run.PreviewShop())
	}
	if f.Cache != nil {
		env.Set("cache", cacheDrop{ctx: ctx, c: f.Cache})
	} else {
		env.Set("cache", value.NewMap(0))
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	for _, s := range settings {
		var def filterDef
		if err := json.Unmarshal(s.Value, &def); err != nil {
			return "", &FilterError{Name: s.Key, Err: fmt.Errorf("stored filter is not {name, template}: %w", err)}
		}
		name := def.Name
		if name == "" {
			name = s.Key
		}
		tmpl, err := f.parse(def.Template)
		if err != nil {
			return "", &FilterError{Name: name, Err: err}
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		var errs []error
		out, err := tmpl.RenderMap(rctx, env, &liquid.RenderOptions{Limits: f.Limits, Errors: &errs})
		cancel()
		if err == nil && len(errs) > 0 {
			err = errors.Join(errs...)
		}
		if err != nil {
			return "", &FilterError{Name: name, Err: err}
		}
		if strings.TrimSpace(out) == "false" {
			return name, nil
		}
	}
	return "", nil
}

func (f *SettingsEventFilters) parse(src string) (*liquid.Template, error) {
	f.once.Do(func() { f.templates = newMemo[string, *liquid.Template](256) })
	if t, ok := f.templates.get(src); ok {
		return t, nil
	}
	t, err := f.Engine.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	f.templates.put(src, t)
	return t, nil
}

// cacheDrop reads cache keys lazily for a filter's cache variable; a
// failing read is a miss.
type cacheDrop struct {
	ctx context.Context
	c   run.Cache
}

// Get returns the cached value of key.
func (d cacheDrop) Get(key string) (any, bool) {
	v, ok, err := d.c.Get(d.ctx, key)
	if err != nil || !ok {
		return nil, false
	}
	return value.Normalize(v), true
}
