package web

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

const evil = `<script>alert("x")</script>`

// TestPagesEscapeUserData puts markup into every kind of user data and
// checks that no page renders it as markup.
func TestPagesEscapeUserData(t *testing.T) {
	env := startEnv(t, envOptions{})
	ctx := context.Background()
	st := env.svc.Store()
	tk := task.New(evil)
	tk.Script = `{% log "` + strings.ReplaceAll(evil, `"`, `'`) + `" %}`
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	tk.Tags = []string{evil}
	docs := "# Docs\n\n" + evil + "\n\n[link](javascript:alert(1))"
	tk.Docs = &docs
	stored, _, err := server.CreateTask(ctx, st, tk, "")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{"note": evil})
	evs, err := st.InsertEvents(ctx, []store.NewEvent{{Topic: "user/evil/made", Data: data, Source: "user", TaskIDs: []string{stored.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.CreateWebhook(ctx, server.WebhookFields{Name: evil, Topic: "user/evil/hook", DataMode: "auto"}); err != nil {
		t.Fatal(err)
	}
	gv, _ := json.Marshal(evil)
	if _, err := st.PutSetting(ctx, store.SettingGlobal, "evil", gv); err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	b.mustSignIn()
	pages := []string{
		"/", "/?q=" + url.QueryEscape(evil), "/tasks/" + stored.ID, "/tasks/" + stored.ID + "?mode=advanced",
		"/tasks/" + stored.ID + "/versions", "/events?q=" + url.QueryEscape(evil), "/events/" + evs[0].ID,
		"/settings", "/no/such/" + url.PathEscape(evil),
	}
	// Pages that show none of the data must still not render it.
	for _, p := range []string{"/activity", "/console", "/events"} {
		if _, body := b.get(p); strings.Contains(body, "<script>alert") {
			t.Errorf("%s renders user data as markup", p)
		}
	}
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			_, body := b.get(p)
			if strings.Contains(body, "<script>alert") {
				t.Errorf("page renders user data as markup")
			}
			if strings.Contains(body, `href="javascript:`) {
				t.Errorf("page renders a javascript: link")
			}
			if !strings.Contains(body, "&lt;script&gt;alert(") && !strings.Contains(body, `\u003cscript\u003ealert(`) {
				t.Errorf("page does not show the escaped text")
			}
		})
	}
	// The preview fragment too.
	st2, _, body := b.post("/tasks/"+stored.ID+"/preview", url.Values{"name": {evil}})
	if st2 != http.StatusOK || strings.Contains(body, "<script>alert") {
		t.Errorf("preview: %d, renders markup: %v", st2, strings.Contains(body, "<script>alert"))
	}
}

// TestLibraryInstall installs a library task through its generated
// options form: a required option left empty is reported inline and
// nothing is stored; filled in, the task is installed and enabled.
func TestLibraryInstall(t *testing.T) {
	env := startEnv(t, envOptions{library: true})
	b := env.browser()
	b.mustSignIn()
	st, body := b.get("/library?q=" + url.QueryEscape("email domain"))
	if st != http.StatusOK || !strings.Contains(body, "/library/auto-tag-customers-by-email-domain") {
		t.Fatalf("library search: %d", st)
	}
	st, body = b.get("/library/auto-tag-customers-by-email-domain")
	if st != http.StatusOK || !strings.Contains(body, `name="opt:customer_tag_to_apply__required"`) || !strings.Contains(body, `<textarea id="opt-0" name="opt:customer_email_domains__required_array"`) {
		t.Fatalf("install form lacks the option inputs: %d", st)
	}
	form := url.Values{"options_form": {"1"}, "opt:customer_email_domains__required_array": {"example.com\nexample.org"}, "opt:customer_tag_to_apply__required": {""}, "enable": {"true"}}
	code, _, body := b.post("/library/auto-tag-customers-by-email-domain", form)
	if code != http.StatusUnprocessableEntity || !regexp.MustCompile(`data-option="customer_tag_to_apply__required"[\s\S]*?is required`).MatchString(body) {
		t.Fatalf("empty required option: %d, inline error missing", code)
	}
	if ts, _, _ := env.svc.Store().ListTasks(context.Background(), store.TaskFilter{}); len(ts) != 0 {
		t.Fatalf("an invalid install stored %d tasks", len(ts))
	}
	form.Set("opt:customer_tag_to_apply__required", "wholesale")
	code, loc, body := b.post("/library/auto-tag-customers-by-email-domain", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/tasks/") {
		t.Fatalf("install: %d %q %s", code, loc, body)
	}
	stored, err := env.svc.Store().GetTask(context.Background(), strings.TrimPrefix(loc, "/tasks/"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := task.Parse(stored.Definition)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Enabled {
		t.Errorf("installed task is not enabled")
	}
	got, _ := json.Marshal(tk.Options)
	if want := `{"customer_email_domains__required_array":["example.com","example.org"],"customer_tag_to_apply__required":"wholesale"}`; string(got) != want {
		t.Errorf("options %s, want %s", got, want)
	}
}

// TestOptionsForm checks the input generated for each option flag and
// the validation of submitted values.
func TestOptionsForm(t *testing.T) {
	tests := []struct {
		key     string
		input   string // a fragment the rendered field must contain
		submit  []string
		want    string // JSON of the stored value, or "" when an error is expected
		wantErr string
	}{
		{key: "title", input: `<input id="opt-0" name="opt:title" value="" type="text"`, submit: []string{"Hi"}, want: `"Hi"`},
		{key: "title__required", input: `<span class="req"`, submit: []string{" "}, wantErr: "is required"},
		{key: "to__email_required", input: `type="email"`, submit: []string{"a@example.com"}, want: `"a@example.com"`},
		{key: "to__email", input: `type="email"`, submit: []string{"not-an-email"}, wantErr: "email"},
		{key: "n__number", input: `inputmode="decimal"`, submit: []string{"4.5"}, want: `4.5`},
		{key: "n__number_required", input: `inputmode="decimal"`, submit: []string{"four"}, wantErr: "number"},
		{key: "on__boolean", input: `type="checkbox" id="opt-0" name="opt:on__boolean" value="true"`, submit: []string{"false", "true"}, want: `true`},
		{key: "off__boolean", input: `type="hidden" name="opt:off__boolean" value="false"`, submit: []string{"false"}, want: `false`},
		{key: "body__multiline", input: `<textarea id="opt-0" name="opt:body__multiline" rows="4"`, submit: []string{"a\r\nb"}, want: `"a\nb"`},
		{key: "liquid__code", input: `class="code"`, submit: []string{"{{ x }}"}, want: `"{{ x }}"`},
		{key: "tags__array", input: "one value per line", submit: []string{"a\n\nb\n"}, want: `["a","b"]`},
		{key: "limits__keyval_number", input: "key: value", submit: []string{"a: 1\nb: 2"}, want: `{"a":1,"b":2}`},
		{key: "limits__keyval", input: "key: value", submit: []string{"no colon"}, wantErr: "key: value"},
		{key: "day__date", input: `type="date"`, submit: []string{"2024-05-01"}, want: `"2024-05-01"`},
		{key: "at__datetime", input: `type="datetime-local"`, submit: []string{"2024-05-01T10:30"}, want: `"2024-05-01T10:30"`},
		{key: "at__date_futureonly", input: "must be in the future", submit: []string{"2001-01-01"}, wantErr: "past"},
		{key: "at__time", input: `type="time"`, submit: []string{"10:30"}, want: `"10:30"`},
		{key: "c__color", input: `type="color"`, submit: []string{"#aabbcc"}, want: `"#aabbcc"`},
		{key: "size__range_min1_max10_step1", input: `type="range" id="opt-0" name="opt:size__range_min1_max10_step1" min="1" max="10" step="1"`, submit: []string{"11"}, wantErr: "between 1 and 10"},
		{key: "mode__select_o1_fast_o2_slow", input: `<select id="opt-0" name="opt:mode__select_o1_fast_o2_slow"`, submit: []string{"slow"}, want: `"slow"`},
		{key: "mode__choice_o1_fast_o2_slow", input: `type="radio" name="opt:mode__choice_o1_fast_o2_slow" value="fast"`, submit: []string{"medium"}, wantErr: "fast"},
		{key: "days__multiselect_o1_mon_o2_tue", input: `type="checkbox" name="opt:days__multiselect_o1_mon_o2_tue" value="tue"`, submit: []string{"mon", "tue"}, want: `["mon","tue"]`},
		{key: "product__picker_product", input: "Shopify product ID", submit: []string{"gid://shopify/Product/1"}, want: `"gid://shopify/Product/1"`},
		{key: "products__picker_product_array", input: `<textarea`, submit: []string{"gid://shopify/Collection/1"}, wantErr: "Product"},
		{key: "api_key__global", input: `— choose a global —`, submit: []string{"shop_key"}, want: `"shop_key"`},
		{key: "who__userform", input: "asked when run", submit: []string{"x"}, want: `"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			tk := task.New("t")
			tk.Options.Set(tt.key, nil)
			fields := optionFields(tk, nil, []string{"shop_key"}, nil)
			if len(fields) != 1 {
				t.Fatalf("%d fields", len(fields))
			}
			u := &UI{}
			pages, err := parsePages(func(n string) string { return "/static/" + n }, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			u.pages = pages
			var sb strings.Builder
			if err := pages["editor"].ExecuteTemplate(&sb, "options", fields); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sb.String(), tt.input) {
				t.Errorf("field lacks %q:\n%s", tt.input, sb.String())
			}
			opts, errs := readOptions(tk, url.Values{"opt:" + tt.key: tt.submit, "options_form": {"1"}}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			if tt.wantErr != "" {
				if !strings.Contains(errs[tt.key], tt.wantErr) {
					t.Errorf("error %q, want it to mention %q", errs[tt.key], tt.wantErr)
				}
				return
			}
			if errs[tt.key] != "" {
				t.Fatalf("unexpected error %q", errs[tt.key])
			}
			v, _ := opts.Get(tt.key)
			got, _ := json.Marshal(v)
			if string(got) != tt.want {
				t.Errorf("stored %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPreviewLint checks the live preview: actions per preview event,
// and lint problems with the line of the broken Liquid.
func TestPreviewLint(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	b.mustSignIn()
	tests := []struct {
		name, script string
		wantLine     int
		wantBody     string
	}{
		{name: "renders actions", script: "{% action \"echo\", hello: event.topic %}", wantBody: "&#34;hello&#34;: &#34;mechanic/user/trigger&#34;"},
		{name: "syntax error on line 3", script: "{% log 1 %}\n{{ event.topic }}\n{% endif %}\n{{ 2 }}", wantLine: 3},
		{name: "unclosed block reported at the end", script: "{% if x %}\n{{ 1 }}", wantLine: 2},
		{name: "unknown filter on line 2", script: "{{ 1 }}\n{{ 1 | no_such_filter }}", wantLine: 2, wantBody: "unknown filter no_such_filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, body := b.post("/tasks/preview", url.Values{"name": {"p"}, "script": {tt.script}, "subscriptions_template": {"mechanic/user/trigger"}})
			if st != http.StatusOK {
				t.Fatalf("preview: %d %s", st, body)
			}
			m := regexp.MustCompile(`data-lint="([^"]*)"`).FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no lint data")
			}
			var lint []lintMarker
			if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &lint); err != nil {
				t.Fatal(err)
			}
			if tt.wantLine == 0 && len(lint) != 0 {
				t.Errorf("unexpected lint %+v", lint)
			}
			if tt.wantLine > 0 && (len(lint) == 0 || lint[0].Line != tt.wantLine || lint[0].Field != "script") {
				t.Errorf("lint %+v, want script line %d", lint, tt.wantLine)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("preview lacks %q:\n%s", tt.wantBody, body)
			}
		})
	}
}

// TestAssetsSum fails when the committed editor bundle or htmx differ
// from what editor/build.mjs recorded, or when the bundle's sources
// changed without a rebuild.
func TestAssetsSum(t *testing.T) {
	f, err := os.Open(filepath.Join("static", "assets.sum"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s changed since the bundle was built; run `cd web/editor && npm ci && node build.mjs` and commit static/", name)
		}
		n++
	}
	if n < 6 {
		t.Errorf("assets.sum lists %d files, want the build script, package files, sources and both outputs", n)
	}
	// Every source file is covered.
	srcs, _ := filepath.Glob(filepath.Join("editor", "src", "*"))
	raw, _ := os.ReadFile(filepath.Join("static", "assets.sum"))
	for _, s := range srcs {
		if !strings.Contains(string(raw), filepath.ToSlash(s)) {
			t.Errorf("%s is not in assets.sum; rebuild the bundle", s)
		}
	}
}

// TestStaticAssets serves the embedded assets compressed and, by their
// versioned URL, cacheable for good.
func TestStaticAssets(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	b.mustSignIn()
	_, home := b.get("/")
	m := regexp.MustCompile(`src="(/static/htmx\.min\.js\?v=[0-9a-f]{12})"`).FindStringSubmatch(home)
	if m == nil {
		t.Fatal("the layout does not load htmx by its versioned URL")
	}
	tests := []struct {
		path, accept                string
		wantStatus                  int
		wantEncoding, wantCacheHint string
	}{
		{path: m[1], accept: "gzip", wantStatus: 200, wantEncoding: "gzip", wantCacheHint: "immutable"},
		{path: m[1], wantStatus: 200, wantCacheHint: "immutable"},
		{path: "/static/htmx.min.js", accept: "gzip", wantStatus: 200, wantEncoding: "gzip", wantCacheHint: "max-age=300"},
		{path: "/static/nope.js", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest("GET", env.base+tt.path, nil)
			req.Header.Set("Accept-Encoding", tt.accept) // set explicitly: no transparent decompression
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Encoding") != tt.wantEncoding || !strings.Contains(resp.Header.Get("Cache-Control"), tt.wantCacheHint) {
				t.Errorf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
			}
			if tt.wantStatus == 200 {
				req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
				resp2, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp2.Body.Close()
				if resp2.StatusCode != http.StatusNotModified {
					t.Errorf("revalidation: %d", resp2.StatusCode)
				}
			}
		})
	}
}

// TestReadOptionsWithoutOptionsForm keeps stored values when a form has
// no options form (an unchecked box is otherwise indistinguishable from
// an absent one).
func TestReadOptionsWithoutOptionsForm(t *testing.T) {
	tk := task.New("t")
	tk.Options.Set("on__boolean", true)
	tk.Options.Set("days__multiselect_o1_mon_o2_tue", []any{"mon"})
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{name: "no options form", form: url.Values{"name": {"t"}}, want: `{"on__boolean":true,"days__multiselect_o1_mon_o2_tue":["mon"]}`},
		{name: "options form with nothing checked", form: url.Values{"options_form": {"1"}, "opt:on__boolean": {"false"}}, want: `{"on__boolean":false,"days__multiselect_o1_mon_o2_tue":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, errs := readOptions(tk, tt.form, time.Now())
			got, _ := json.Marshal(opts)
			if len(errs) > 0 || string(got) != tt.want {
				t.Errorf("got %s %v, want %s", got, errs, tt.want)
			}
		})
	}
}
