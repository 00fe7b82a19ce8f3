package task

import "context"

// passThrough is a renderer for templates without Liquid: it returns the
// template unchanged.
func passThrough(_ context.Context, tmpl string, _ map[string]any) (string, error) {
	return tmpl, nil
}
