package task

import (
	"regexp"
)

// optionRefPattern finds option lookups: options.key, options["key"] and
// options['key'], where "options" is not itself a property (task.options)
// or part of a longer name (my_options).
var optionRefPattern = regexp.MustCompile(`(?:^|[^\w.\-])options(?:\.([A-Za-z0-9_\-]+)|\[\s*"([^"]+)"\s*\]|\[\s*'([^']+)'\s*\])`)

// rawPattern matches {% raw %}…{% endraw %} blocks, whose text is not
// Liquid.
var rawPattern = regexp.MustCompile(`(?s)\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}`)

// ReferencedOptions returns the option keys a script looks up, in the order
// of first reference, each once. Both options.key and options["key"] count.
// References inside {% comment %} blocks count too: Mechanic discovers
// options by scanning the code, and a comment listing options is the
// documented way to set their display order (docs:
// core/tasks/options/README.md, "Display Order"). Text inside
// {% raw %} blocks is skipped.
func ReferencedOptions(script string) []string {
	script = rawPattern.ReplaceAllStringFunc(script, func(string) string { return " " })
	var out []string
	seen := map[string]bool{}
	for _, m := range optionRefPattern.FindAllStringSubmatch(script, -1) {
		key := m[1] + m[2] + m[3]
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, key)
	}
	return out
}

// ReferencedOptions returns the option keys referenced by the task's
// Liquid: its script, subscriptions template and JavaScript, in that order.
func (t *Task) ReferencedOptions() []string {
	var out []string
	seen := map[string]bool{}
	for _, src := range []*string{&t.Script, t.SubscriptionsTemplate, t.OnlineStoreJavaScript, t.OrderStatusJavaScript} {
		if src == nil {
			continue
		}
		for _, k := range ReferencedOptions(*src) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// MissingOptions returns the referenced option keys that the task does not
// store; at run time they read as nil.
func (t *Task) MissingOptions() []string {
	var out []string
	for _, k := range t.ReferencedOptions() {
		if !t.Options.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// OptionKeys returns the declared option keys in stored order, followed by
// the keys the task references but does not store.
func (t *Task) OptionKeys() []string {
	keys := t.Options.Keys()
	out := make([]string, len(keys), len(keys)+4)
	copy(out, keys)
	return append(out, t.MissingOptions()...)
}
