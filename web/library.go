package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// maxLibraryTasks and maxLibraryFile bound what is read from the library directory.
const (
	maxLibraryTasks = 2000
	maxLibraryFile  = 4 << 20
)

// libTask is one task of the library.
type libTask struct {
	Slug string
	Task *task.Task
	// search is the lowercased name, tags and docs.
	search string
	// Summary is the first paragraph of the docs.
	Summary string
}

// library is the Mechanic task library read from a directory of task
// JSON files, loaded on first use.
type library struct {
	dir    string
	once   sync.Once
	tasks  []libTask
	bySlug map[string]*libTask
	errs   []string
	err    error
}

func newLibrary(dir string) *library { return &library{dir: dir} }

func (l *library) load() {
	l.once.Do(func() {
		l.bySlug = map[string]*libTask{}
		if l.dir == "" {
			l.err = fmt.Errorf("no task library directory is configured (set %s or put the library at %s)", LibraryDirEnv, DefaultLibraryDir())
			return
		}
		files, err := filepath.Glob(filepath.Join(l.dir, "*.json"))
		if err != nil {
			l.err = fmt.Errorf("list task library: %w", err)
			return
		}
		if len(files) == 0 {
			l.err = fmt.Errorf("the task library directory %s holds no .json files", l.dir)
			return
		}
		slices.Sort(files)
		for _, f := range files[:min(len(files), maxLibraryTasks)] {
			fi, err := os.Stat(f)
			if err != nil || fi.Size() > maxLibraryFile {
				l.errs = append(l.errs, fmt.Sprintf("%s: unreadable or larger than %d bytes", filepath.Base(f), maxLibraryFile))
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				l.errs = append(l.errs, err.Error())
				continue
			}
			t, err := task.Parse(b)
			if err != nil {
				l.errs = append(l.errs, fmt.Sprintf("%s: %v", filepath.Base(f), err))
				continue
			}
			lt := libTask{Slug: strings.TrimSuffix(filepath.Base(f), ".json"), Task: t}
			docs := ""
			if t.Docs != nil {
				docs = *t.Docs
			}
			lt.search = strings.ToLower(t.Name + "\n" + strings.Join(t.Tags, "\n") + "\n" + docs)
			para, _, _ := strings.Cut(strings.TrimSpace(docs), "\n\n")
			if len(para) > 240 {
				para = para[:240] + "…"
			}
			lt.Summary = para
			l.tasks = append(l.tasks, lt)
		}
		for i := range l.tasks {
			l.bySlug[l.tasks[i].Slug] = &l.tasks[i]
		}
	})
}

// get returns a library task by slug; its Task must not be modified.
func (l *library) get(slug string) (*libTask, error) {
	l.load()
	if l.err != nil {
		return nil, l.err
	}
	lt := l.bySlug[slug]
	if lt == nil {
		return nil, fmt.Errorf("library task %q: %w", slug, store.ErrNotFound)
	}
	return lt, nil
}

// markdown renders docs; raw HTML is omitted and dangerous links dropped
// (goldmark's defaults without html.WithUnsafe).
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// renderMarkdown renders Markdown to safe HTML.
func renderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(buf.String()) // #nosec: goldmark escapes text and omits raw HTML
}

type libraryData struct {
	Q, Tag  string
	Tags    []string
	Tasks   []libTask
	Total   int
	Error   string
	Skipped []string
	Dir     string
}

func (u *UI) libraryPage(w http.ResponseWriter, r *http.Request, s *session) {
	l := u.lib
	l.load()
	d := libraryData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Tag: r.URL.Query().Get("tag"), Skipped: l.errs, Dir: l.dir}
	if l.err != nil {
		d.Error = l.err.Error()
	}
	tags := map[string]bool{}
	words := strings.Fields(strings.ToLower(d.Q))
	for _, lt := range l.tasks {
		for _, t := range lt.Task.Tags {
			tags[t] = true
		}
		if d.Tag != "" && !slices.Contains(lt.Task.Tags, d.Tag) {
			continue
		}
		match := true
		for _, w := range words {
			if !strings.Contains(lt.search, w) {
				match = false
				break
			}
		}
		if match {
			d.Tasks = append(d.Tasks, lt)
		}
	}
	d.Total = len(l.tasks)
	d.Tags = sortedKeys(tags)
	u.render(w, r, s, http.StatusOK, "library", "Task library", d)
}

type libTaskData struct {
	Slug     string
	Name     string
	Docs     template.HTML
	Tags     []string
	Subs     []string
	Options  []optionField
	Errors   bool
	Script   string
	Existing []store.Task
}

func (u *UI) libraryTask(w http.ResponseWriter, r *http.Request, s *session) {
	lt, err := u.lib.get(r.PathValue("slug"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.showLibraryTask(w, r, s, http.StatusOK, lt, lt.Task, nil)
}

func (u *UI) showLibraryTask(w http.ResponseWriter, r *http.Request, s *session, status int, lt *libTask, t *task.Task, errs map[string]string) {
	d := libTaskData{Slug: lt.Slug, Name: t.Name, Tags: t.Tags, Subs: t.Subscriptions, Script: t.Script, Errors: len(errs) > 0}
	if t.Docs != nil {
		d.Docs = renderMarkdown(*t.Docs)
	}
	d.Options = optionFields(t, errs, u.settingNames(r.Context(), store.SettingGlobal), u.settingNames(r.Context(), store.SettingSecret))
	u.render(w, r, s, status, "libtask", t.Name, d)
}

// installLibraryTask installs a library task with the options form's
// values; invalid values are shown inline and nothing is saved.
func (u *UI) installLibraryTask(w http.ResponseWriter, r *http.Request, s *session) {
	lt, err := u.lib.get(r.PathValue("slug"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	b, err := lt.Task.MarshalJSON()
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	t, err := task.Parse(b) // a copy to fill in
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	opts, errs := readOptions(t, r.PostForm, u.now())
	t.Options = opts
	if len(errs) == 0 {
		saveProblems(t, errs)
	}
	if len(errs) == 0 && r.PostFormValue("enable") == "true" {
		// Refuse before installing anything, naming each option.
		for _, p := range server.TaskEnableProblems(t, u.now()) {
			key, _ := strings.CutPrefix(p.Field, "options.")
			if errs[key] == "" {
				errs[key] = p.Message
			}
		}
	}
	if len(errs) == 0 {
		// Render the subscriptions with the chosen options.
		if t.SubscriptionsTemplate != nil && strings.TrimSpace(*t.SubscriptionsTemplate) != "" {
			t.Subscriptions = nil
		}
		resolve(r.Context(), t, errs)
	}
	if len(errs) > 0 {
		u.showLibraryTask(w, r, s, http.StatusUnprocessableEntity, lt, t, errs)
		return
	}
	st, _, err := server.CreateTask(r.Context(), u.st, t, "")
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	msg := fmt.Sprintf("Installed %q (disabled).", st.Name)
	if r.PostFormValue("enable") == "true" {
		en, err := u.setEnabled(r.Context(), st.ID, true)
		var pe *problemsError
		switch {
		case errors.As(err, &pe):
			msg = fmt.Sprintf("Installed %q, but it could not be enabled: %v.", st.Name, pe)
		case err != nil:
			u.internal(w, r, s, err)
			return
		default:
			st = en
			msg = fmt.Sprintf("Installed and enabled %q.", st.Name)
		}
	}
	u.sess.addFlash(s, "ok", msg)
	u.redirect(w, r, "/tasks/"+st.ID)
}
