package chromium_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/action/filegen/chromium"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
)

// pdfSpecs collects the options of every pdf generator inside v (the
// options of an email, files, ftp or http action).
func pdfSpecs(v any, out *[]*value.Map) {
	switch x := v.(type) {
	case *value.Map:
		if x.Len() == 1 {
			if p, ok := x.Get("pdf"); ok {
				if pm, ok := p.(*value.Map); ok && pm.Has("html") {
					*out = append(*out, pm)
					return
				}
			}
		}
		x.Each(func(_ string, e any) bool {
			pdfSpecs(e, out)
			return true
		})
	case []any:
		for _, e := range x {
			pdfSpecs(e, out)
		}
	}
}

// TestLibraryPDFTasks previews every library task that renders a PDF,
// renders the PDFs its preview actions describe (with the network
// blocked, so CDN scripts and web fonts are refused) and checks their
// text.
func TestLibraryPDFTasks(t *testing.T) {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	needChromium(t)
	needPoppler(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, chromium.Config{})
	pre := run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	tasks := 0
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), `\"pdf\": {`) && !strings.Contains(string(raw), `\"pdf\":{`) {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		tasks++
		t.Run(name, func(t *testing.T) {
			tk, err := task.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			pv, err := pre.Preview(context.Background(), run.PreviewInput{Task: tk})
			if err != nil {
				t.Fatal(err)
			}
			var specs []*value.Map
			for _, pr := range pv.Runs {
				if pr.Result == nil || pr.Result.Output == nil {
					continue
				}
				for _, a := range pr.Result.Output.Actions {
					pdfSpecs(a.Options, &specs)
				}
			}
			if len(specs) == 0 {
				t.Skip("the preview renders no pdf generator (it needs live data)")
			}
			for i, spec := range specs {
				o, err := filegen.ParsePDFOptions("email", "attachments", spec)
				if err != nil {
					t.Fatalf("pdf %d: %v", i, err)
				}
				data, err := r.RenderPDF(context.Background(), o)
				if err != nil {
					t.Fatalf("pdf %d: %v", i, err)
				}
				text, pages, _, _ := pdfText(t, data)
				if pages < 1 || len(strings.Fields(text)) < 3 {
					t.Errorf("pdf %d: %d pages, text %q", i, pages, text)
				}
				// The PDF holds the words of the HTML's visible text.
				for _, w := range visibleWords(o.HTML, 5) {
					if !strings.Contains(squash(text), w) {
						t.Errorf("pdf %d: text lacks %q:\n%s", i, w, text)
					}
				}
				t.Logf("pdf %d: %d pages, %d bytes, %d words", i, pages, len(data), len(strings.Fields(text)))
			}
		})
	}
	if tasks < 5 {
		t.Errorf("found %d library tasks with pdf generators, want at least 5", tasks)
	}
}

// visibleWords returns up to n words of at least 4 letters from the text
// of html outside tags, scripts and styles.
func visibleWords(html string, n int) []string {
	var out []string
	lower := strings.ToLower(html)
	for _, tag := range []string{"script", "style", "title", "head"} {
		for {
			i := strings.Index(lower, "<"+tag)
			if i < 0 {
				break
			}
			j := strings.Index(lower[i:], "</"+tag+">")
			if j < 0 {
				break
			}
			html = html[:i] + html[i+j+len(tag)+3:]
			lower = lower[:i] + lower[i+j+len(tag)+3:]
		}
	}
	inTag := false
	var b strings.Builder
	for _, r := range html {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>':
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	for _, w := range strings.Fields(b.String()) {
		if len(w) >= 4 && strings.IndexFunc(w, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) < 0 {
			out = append(out, w)
			if len(out) == n {
				break
			}
		}
	}
	return out
}
