package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

// page is what every page template receives.
type page struct {
	Title  string
	Nav    string
	CSRF   string
	Flash  []flash
	Queue  *queueCounts
	Data   any
	Path   string
	Signed bool
}

// queueCounts is the current activity shown in the header.
type queueCounts struct {
	Waiting, Running, Scheduled int
}

var funcs = template.FuncMap{
	"ago":      ago,
	"json":     prettyJSON,
	"short":    shortID,
	"join":     strings.Join,
	"lower":    strings.ToLower,
	"contains": strings.Contains,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"list":        func(s ...string) []string { return s },
	"statusClass": func(s store.RunStatus) string { return "st-" + string(s) },
	"ms": func(d time.Duration) string {
		if d < time.Millisecond {
			return fmt.Sprintf("%dµs", d.Microseconds())
		}
		return fmt.Sprintf("%dms", d.Milliseconds())
	},
}

// parsePages parses every page template together with the layout.
// parsePages parses the templates; times are shown in loc.
func parsePages(assetURL func(string) string, loc *time.Location) (map[string]*template.Template, error) {
	if loc == nil {
		loc = time.UTC
	}
	local := template.FuncMap{
		"asset": assetURL,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04:05 MST")
		},
	}
	base, err := template.New("layout").Funcs(funcs).Funcs(local).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout: %w", err)
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a full page (layout + the named page's "content").
func (u *UI) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any) {
	p := page{Title: title, Nav: strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0], Data: data, Path: r.URL.Path}
	if s != nil {
		p.Signed = true
		p.CSRF = s.csrf
		if r.Header.Get("HX-Request") != "true" { // htmx swaps part of a page: keep messages for the next full one
			p.Flash = u.sess.takeFlash(s)
		}
		if qs, err := u.st.Stats(r.Context()); err == nil {
			sum := func(m map[store.RunKind]int) (n int) {
				for _, v := range m {
					n += v
				}
				return n
			}
			p.Queue = &queueCounts{Waiting: sum(qs.Due), Running: sum(qs.Running), Scheduled: sum(qs.Scheduled)}
		}
	}
	u.exec(w, status, name, "layout", p)
}

// fragment writes one named template of a page, without the layout.
func (u *UI) fragment(w http.ResponseWriter, status int, name, block string, data any) {
	u.exec(w, status, name, block, data)
}

func (u *UI) exec(w http.ResponseWriter, status int, name, block string, data any) {
	t := u.pages[name]
	if t == nil {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		u.log.Error("render template", "template", name, "error", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in " + roundDur(-d)
	case d < 5*time.Second:
		return "just now"
	}
	return roundDur(d) + " ago"
}

func roundDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// prettyJSON indents JSON (raw bytes, strings holding JSON, or values).
func prettyJSON(v any) string {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := value.ToJSON(value.Normalize(v))
		if err != nil {
			return fmt.Sprint(v)
		}
		raw = b
	}
	if len(raw) == 0 {
		return "null"
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
