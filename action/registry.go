package action

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Registry maps action type names to their performers. Build one with
// NewRegistry and Register; it is safe for concurrent use.
type Registry struct {
	mu         sync.RWMutex
	performers map[string]Performer
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{performers: make(map[string]Performer)}
}

var typeNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Register makes p perform actions of type name. Names are lower-case
// identifiers such as "http" or "google_sheets"; registering a name twice
// is an error.
func (r *Registry) Register(name string, p Performer) error {
	if !typeNameRE.MatchString(name) {
		return fmt.Errorf("action: register %q: type names are lower-case letters, digits and underscores", name)
	}
	if p == nil {
		return fmt.Errorf("action: register %q: nil performer", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.performers[name]; dup {
		return fmt.Errorf("action: register %q: type already registered", name)
	}
	r.performers[name] = p
	return nil
}

// Lookup returns the performer registered for name.
func (r *Registry) Lookup(name string) (Performer, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.performers[name]
	return p, ok
}

// Types returns the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.performers))
	for k := range r.performers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (r *Registry) performer(typ string) (Performer, error) {
	p, ok := r.Lookup(typ)
	if !ok {
		return nil, &ValidationError{Field: "type", Msg: fmt.Sprintf("unknown action type %q", typ)}
	}
	return p, nil
}

// Validate checks an action of type typ with the given options, as rendered
// by a task run (control parameters included), so a task run can fail early
// on bad options. It returns a *ValidationError naming the type or the
// offending option, or nil.
func (r *Registry) Validate(typ string, options any) error {
	p, err := r.performer(typ)
	if err != nil {
		return err
	}
	if err := CheckJSON(options); err != nil {
		return &ValidationError{Type: typ, Msg: err.Error()}
	}
	rest, _ := SplitControl(options)
	if v, ok := p.(Validator); ok {
		if err := v.Validate(rest); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return err // already names the type and option
			}
			return &ValidationError{Type: typ, Msg: err.Error()}
		}
	}
	return nil
}

// EmitsPerformEvent reports whether an action run of type typ with the
// given options should produce a mechanic/actions/perform event for a task
// subscribed to that topic: not for types that opt out (echo), and not when
// the options set __perform_event to false.
func (r *Registry) EmitsPerformEvent(typ string, options any) bool {
	if p, ok := r.Lookup(typ); ok {
		if pp, ok := p.(PerformEventPolicy); ok && !pp.EmitsPerformEvent() {
			return false
		}
	}
	_, c := SplitControl(options)
	return c.PerformEvent
}

// Perform performs req with the performer registered for req.Type, after
// removing control parameters from its options. Errors keep their kind (see
// Classify); an unknown type is a *ValidationError. A result that is not
// plain JSON is a permanent failure.
func (r *Registry) Perform(ctx context.Context, req Request) (Result, error) {
	p, err := r.performer(req.Type)
	if err != nil {
		return Result{}, err
	}
	if err := CheckJSON(req.Options); err != nil {
		return Result{}, &ValidationError{Type: req.Type, Msg: err.Error()}
	}
	req.Options, _ = SplitControl(req.Options)
	res, err := p.Perform(ctx, req)
	if err != nil {
		return res, err
	}
	if err := CheckJSON(res.Value); err != nil {
		return Result{}, Failed(fmt.Errorf("%s action: result: %w", req.Type, err))
	}
	return res, nil
}
