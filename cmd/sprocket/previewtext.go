package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-isatty"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// maxShown bounds how much of one JSON value the text summary prints.
const maxShown = 300

// writePreviewText prints a preview document (previewDocument's shape) as
// a readable summary: the subscriptions, then per preview event its
// actions, logs and errors.
func writePreviewText(w io.Writer, doc *value.Map) {
	subs, _ := doc.Get("subscriptions")
	fmt.Fprintf(w, "Subscriptions: %s\n", joinAny(subs, ", ", "(none)"))
	if so, ok := doc.Get("sampled_options"); ok {
		fmt.Fprintf(w, "Sample values given to unfilled options: %s\n", joinAny(so, ", ", ""))
	}
	runs, _ := doc.Get("runs")
	list, _ := runs.([]any)
	if len(list) == 0 {
		fmt.Fprintln(w, "\nNo preview events.")
		return
	}
	for i, r := range list {
		m, ok := r.(*value.Map)
		if !ok {
			continue
		}
		ev, _ := m.Get("event")
		topic := ""
		if em, ok := ev.(*value.Map); ok {
			t, _ := em.Get("topic")
			topic, _ = t.(string)
		}
		fmt.Fprintf(w, "\nEvent %d of %d: %s", i+1, len(list), topic)
		if d, ok := m.Get("description"); ok && d != "" {
			fmt.Fprintf(w, " — %s", value.ToS(d))
		}
		fmt.Fprintln(w)
		if f, ok := m.Get("failure"); ok {
			fmt.Fprintf(w, "  FAILED: %s\n", value.ToS(f))
		}
		section(w, m, "actions", "Actions", func(v any) string {
			am, ok := v.(*value.Map)
			if !ok {
				return shown(v)
			}
			typ, _ := am.Get("type")
			opts, _ := am.Get("options")
			return fmt.Sprintf("%s %s", value.ToS(typ), shown(opts))
		})
		section(w, m, "logs", "Logs", shown)
		section(w, m, "errors", "Errors", shown)
	}
}

// section prints one list of a preview run, numbered.
func section(w io.Writer, m *value.Map, key, title string, line func(any) string) {
	v, _ := m.Get(key)
	items, _ := v.([]any)
	if len(items) == 0 {
		fmt.Fprintf(w, "  %s: none\n", title)
		return
	}
	fmt.Fprintf(w, "  %s (%d):\n", title, len(items))
	for i, it := range items {
		fmt.Fprintf(w, "    %d. %s\n", i+1, line(it))
	}
}

// shown is a value as compact JSON (strings as they are), cut to maxShown
// characters.
func shown(v any) string {
	var s string
	if str, ok := v.(string); ok {
		s = str
	} else if b, err := value.ToJSON(v); err == nil {
		s = string(b)
	} else {
		s = value.ToS(v)
	}
	s = strings.ReplaceAll(s, "\n", `\n`)
	if utf8.RuneCountInString(s) > maxShown {
		r := []rune(s)
		s = string(r[:maxShown]) + fmt.Sprintf("… (%d more characters)", len(r)-maxShown)
	}
	return s
}

// joinAny joins a list of strings.
func joinAny(v any, sep, empty string) string {
	list, _ := v.([]any)
	if len(list) == 0 {
		return empty
	}
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = value.ToS(x)
	}
	return strings.Join(parts, sep)
}
