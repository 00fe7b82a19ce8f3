package difftest

import (
	"context"
	"regexp"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// markupRE splits a template into tags, outputs and text.
var markupRE = regexp.MustCompile(`(?s)\{\{.*?\}\}|\{%.*?%\}`)

// chunks splits src into tags, outputs and the text between them.
func chunks(src string) []string {
	var out []string
	last := 0
	for _, loc := range markupRE.FindAllStringIndex(src, -1) {
		if loc[0] > last {
			out = append(out, src[last:loc[0]])
		}
		out = append(out, src[loc[0]:loc[1]])
		last = loc[1]
	}
	if last < len(src) {
		out = append(out, src[last:])
	}
	return out
}

// Minimize shrinks a disagreeing case while the engines still disagree and
// Ruby still parses it: it drops runs of template chunks, filters of
// outputs, and variables. It returns c itself when nothing can go.
func Minimize(ctx context.Context, o *Oracle, s *Sprocket, c Case) Case {
	still := func(t Case) bool {
		if ctx.Err() != nil {
			return false
		}
		r, err := o.RenderAll(ctx, []Case{t})
		if err != nil || r[0].Failed {
			return false
		}
		return !Agree(r[0], s.Render(ctx, t))
	}
	if !still(c) {
		return c
	}
	best := c
	// Drop runs of chunks, longest first (a simple ddmin).
	parts := chunks(best.Template)
	for n := len(parts) / 2; n >= 1; n /= 2 {
		for i := 0; i+n <= len(parts); {
			try := append(append([]string{}, parts[:i]...), parts[i+n:]...)
			t := best
			t.Template = strings.Join(try, "")
			if still(t) {
				best, parts = t, try
				continue
			}
			i++
		}
	}
	// Drop filters from outputs, echo and assign.
	for i := range parts {
		for {
			segs := strings.Split(parts[i], " | ")
			changed := false
			for j := 1; j < len(segs); j++ {
				try := append(append([]string{}, segs[:j]...), segs[j+1:]...)
				p := strings.Join(try, " | ")
				if !strings.HasPrefix(parts[i], "{{") && !strings.Contains(segs[0], "echo") && !strings.Contains(segs[0], "assign") {
					break
				}
				if strings.HasPrefix(parts[i], "{{") && !strings.HasSuffix(p, "}}") {
					p += " }}"
				}
				np := append(append([]string{}, parts[:i]...), p)
				np = append(np, parts[i+1:]...)
				t := best
				t.Template = strings.Join(np, "")
				if still(t) {
					best, parts[i], changed = t, p, true
					break
				}
			}
			if !changed {
				break
			}
		}
	}
	// Drop variables and partials.
	if best.Data != nil {
		for _, k := range best.Data.Keys() {
			d := best.Data.Clone()
			d.Delete(k)
			t := best
			t.Data = d
			if still(t) {
				best = t
			}
		}
		if best.Data.Len() == 0 {
			best.Data = value.NewMap(0)
		}
	}
	if len(best.Partials) > 0 && !strings.Contains(best.Template, "render") && !strings.Contains(best.Template, "include") {
		t := best
		t.Partials = nil
		if still(t) {
			best = t
		}
	}
	return best
}
