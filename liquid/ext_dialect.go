package liquid

// Tag returns the tag registered under name, so that a dialect can wrap a
// standard tag (for example to extend assign) while delegating to it.
func (e *Engine) Tag(name string) (Tag, bool) {
	t, ok := e.tags[name]
	return t, ok
}
