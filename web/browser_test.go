package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Browser tests drive the interface in real headless Chromium. They skip
// when no Chromium is installed, except in CI (CI=true), where they fail.

// chromiumPath finds a Chromium binary.
func chromiumPath() string {
	if p := os.Getenv("SPROCKET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "chromium-headless-shell", "headless_shell", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// actionTimeout bounds each group of browser steps.
const actionTimeout = 30 * time.Second

// chrome is one browser tab on a test environment.
type chrome struct {
	t   *testing.T
	env *testEnv
	ctx context.Context
}

// startChrome opens a headless Chromium tab of 1280×900 (or the given
// size). On failure it saves a screenshot of the page in the test's temp
// dir (and in $SPROCKET_SCREENSHOT_DIR when set) and logs the page's text.
func startChrome(t *testing.T, env *testEnv, size ...int) *chrome {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is required in CI (apt-get install chromium); set SPROCKET_CHROMIUM to its path")
		}
		t.Skip("Chromium not installed (apt-get install chromium); browser tests skipped")
	}
	w, h := 1280, 900
	if len(size) == 2 {
		w, h = size[0], size[1]
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(w, h),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	shots := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			png, err := chromedp.Run(sctx, chromedp.FullScreenshot(90))
			text, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText.slice(0, 3000)`))
			cancel()
			if err == nil {
				for _, dir := range []string{shots, os.Getenv("SPROCKET_SCREENSHOT_DIR")} {
					if dir == "" {
						continue
					}
					p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
					if werr := os.WriteFile(p, png, 0o644); werr == nil {
						t.Logf("screenshot: %s", p)
					}
				}
			}
			t.Logf("page at failure: %s", text)
		}
		cancelC()
		cancelA()
	})
	// The first run starts the browser and ties it to its context, so it
	// runs on ctx itself, not on a context with a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &chrome{t: t, env: env, ctx: ctx}
}

// do runs steps, failing the test on error.
func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor evaluates a JavaScript condition every 50 ms until it holds
// (for up to 20 s); evaluation errors while a page loads are retried.
func (c *chrome) waitFor(what, cond string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("waiting for %s: timed out (last error: %v)", what, last)
}

// saveDocShot saves a screenshot of the viewport as name in
// $SPROCKET_DOCS_SCREENSHOTS, when set (used to refresh docs/*.png).
func (c *chrome) saveDocShot(name string) {
	c.t.Helper()
	dir := os.Getenv("SPROCKET_DOCS_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// bodyHas is a condition: the page's text contains s.
func bodyHas(s string) string {
	return "document.body && document.body.innerText.includes(" + js(s) + ")"
}

// signIn signs in through the sign-in page.
func (c *chrome) signIn() {
	c.t.Helper()
	c.do(
		chromedp.Navigate(c.env.base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
	)
	c.waitFor("the task list", `location.pathname === "/" && document.querySelector("h1") && document.querySelector("h1").textContent === "Tasks"`)
}

// replaceCode replaces the text of the CodeMirror editor of a textarea
// with keyboard input: select all, then insert text as typing does.
func (c *chrome) replaceCode(textarea, code string) {
	c.t.Helper()
	c.do(
		chromedp.Click(chromedp.CSS(`.cm-editor[data-editor-for="`+textarea+`"] .cm-content`)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: code})
			return err
		}),
	)
}

func TestBrowserSignIn(t *testing.T) {
	env := startEnv(t, envOptions{})
	c := startChrome(t, env)
	c.do(
		chromedp.Navigate(env.base+"/events"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "wrong-token"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
	)
	c.waitFor("the error", bodyHas("That token is not valid"))
	c.do(
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
	)
	c.waitFor("the events page it asked for", `location.pathname === "/events"`)
	if got := eval[bool](c, `document.cookie.includes("sprocket_session")`); got {
		t.Errorf("the session cookie is readable from JavaScript")
	}
	c.do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	c.waitFor("the sign-in page", `location.pathname === "/signin"`)
	c.do(chromedp.Navigate(env.base + "/settings"))
	c.waitFor("a redirect to sign in", `location.pathname === "/signin"`)
}

// TestBrowserInstallLibraryTask finds a library task by searching,
// installs it through its generated options form (a required option left
// empty is reported inline, then filled in) and lands on the enabled task.
func TestBrowserInstallLibraryTask(t *testing.T) {
	env := startEnv(t, envOptions{library: true})
	c := startChrome(t, env)
	c.signIn()
	c.do(
		chromedp.Navigate(env.base+"/library"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "email domain"),
	)
	c.waitFor("the search to narrow the list", `document.querySelectorAll(".lib-name").length > 0 && document.querySelectorAll(".lib-name").length < 20 && location.search.includes("q=")`)
	c.do(chromedp.Click(chromedp.CSS(`a[href="/library/auto-tag-customers-by-email-domain"]`)))
	c.waitFor("the install form", `document.getElementById("install-form") !== null`)
	c.do(chromedp.Click(chromedp.ID("install-enable")))
	c.waitFor("the inline error", `(() => { const f = document.querySelector('[data-option="customer_tag_to_apply__required"] .error'); return f && f.textContent.includes("is required"); })()`)
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[name="opt:customer_tag_to_apply__required"]`), "wholesale"),
		chromedp.Click(chromedp.ID("install-enable")),
	)
	c.waitFor("the installed task", bodyHas(`Installed and enabled "Auto-tag customers based on email domain"`))
	if !eval[bool](c, `location.pathname.startsWith("/tasks/") && document.querySelector(".badge.on") !== null`) {
		t.Errorf("not on the enabled task's page")
	}
	ts, _, err := env.svc.Store().ListTasks(context.Background(), store.TaskFilter{})
	if err != nil || len(ts) != 1 || !ts[0].Enabled {
		t.Fatalf("stored tasks %+v, %v", ts, err)
	}
	tk, _ := task.Parse(ts[0].Definition)
	if v, _ := tk.Options.Get("customer_tag_to_apply__required"); v != "wholesale" {
		t.Errorf("stored option %v", v)
	}
}

// TestBrowserEditorPreviewAndLint edits a task's code in CodeMirror, sees
// the live preview follow, breaks the Liquid and sees the lint marker in
// the gutter at the broken line, then saves.
func TestBrowserEditorPreviewAndLint(t *testing.T) {
	env := startEnv(t, envOptions{})
	tk := task.New("Editor test")
	tk.Script = "{% action \"echo\", first: \"one\" %}"
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	tk.Options.Set("greeting__required", "hello")
	stored, _, err := server.CreateTask(context.Background(), env.svc.Store(), tk, "")
	if err != nil {
		t.Fatal(err)
	}
	c := startChrome(t, env)
	c.signIn()
	c.do(chromedp.Navigate(env.base + "/tasks/" + stored.ID + "?mode=advanced"))
	c.waitFor("the code editor", `document.querySelector('.cm-editor[data-editor-for="script"]') !== null`)
	c.waitFor("the first preview", `document.getElementById("preview").innerText.includes('"first": "one"')`)

	// Completion offers the dialect's filters and the task's options.
	c.replaceCode("script", "{{ event.topic | hmac_sha")
	c.waitFor("filter completion", `(() => { const t = document.querySelector(".cm-tooltip-autocomplete"); return t && t.innerText.includes("hmac_sha256"); })()`)
	c.do(chromedp.KeyEvent("\x1b")) // Escape
	c.replaceCode("script", "{{ options.")
	c.do(chromedp.KeyEvent(" ", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	c.waitFor("option completion", `(() => { const t = document.querySelector(".cm-tooltip-autocomplete"); return t && t.innerText.includes("greeting__required"); })()`)
	c.do(chromedp.KeyEvent("\x1b"))

	c.replaceCode("script", "{% assign n = 2 | plus: 3 %}\n{% action \"echo\", second: n %}\n{% log \"typed\" %}")
	c.waitFor("the preview to follow the edit", `(() => { const p = document.getElementById("preview").innerText; return p.includes('"second": 5') && p.includes('"typed"') && !p.includes('"first"'); })()`)
	c.saveDocShot("web-ui-editor.png")

	c.replaceCode("script", "{% log \"a\" %}\n{{ event.topic }}\n{% endif %}\n{% log \"b\" %}")
	c.waitFor("a lint marker", `document.querySelector('.cm-editor[data-editor-for="script"] .cm-gutter-lint .cm-lint-marker-error') !== null`)
	line := eval[string](c, `(() => {
		const ed = document.querySelector('.cm-editor[data-editor-for="script"]');
		const m = ed.querySelector('.cm-gutter-lint .cm-lint-marker-error').closest('.cm-gutterElement');
		const top = m.getBoundingClientRect().top;
		for (const n of ed.querySelectorAll('.cm-lineNumbers .cm-gutterElement')) {
			if (Math.abs(n.getBoundingClientRect().top - top) < 2) return n.textContent;
		}
		return "none";
	})()`)
	if line != "3" {
		t.Errorf("lint marker at line %q, want 3", line)
	}
	if !eval[bool](c, bodyHas("script line 3")) {
		t.Errorf("problem list lacks the line")
	}

	c.replaceCode("script", "{% action \"echo\", saved: true %}")
	c.waitFor("the lint marker to go", `document.querySelector('.cm-editor[data-editor-for="script"] .cm-lint-marker-error') === null && document.getElementById("preview").innerText.includes('"saved": true')`)
	c.do(chromedp.Click(chromedp.ID("save")))
	c.waitFor("the saved task", bodyHas(`Saved "Editor test"`))
	got, err := env.svc.Store().GetTask(context.Background(), stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := task.Parse(got.Definition)
	if saved.Script != "{% action \"echo\", saved: true %}" {
		t.Errorf("saved script %q", saved.Script)
	}
	vs, _ := env.svc.Store().ListTaskVersions(context.Background(), stored.ID)
	if len(vs) != 2 {
		t.Errorf("%d versions after one save, want 2", len(vs))
	}
}

// TestBrowserRunAndRetry runs a trigger task from its page, opens the
// event tree, retries the failed action run and sees retry refused for
// the succeeded one.
func TestBrowserRunAndRetry(t *testing.T) {
	env := startEnv(t, envOptions{pipeline: true})
	ctx := context.Background()
	st := env.svc.Store()
	if _, err := st.CacheApply(ctx, store.CacheOp{Kind: store.CacheSet, Key: "word", Value: json.RawMessage(`"abc"`)}); err != nil {
		t.Fatal(err)
	}
	tk := task.New("Run me")
	tk.Script = "{% action \"echo\", greeting: \"hi\" %}\n{% action \"cache\", \"incr\", \"word\" %}"
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	stored, _, err := server.CreateTask(ctx, st, tk, "")
	if err != nil {
		t.Fatal(err)
	}
	c := startChrome(t, env)
	c.signIn()
	c.do(chromedp.Navigate(env.base + "/tasks/" + stored.ID))
	c.waitFor("the task page", `document.querySelector("form.runform") !== null`)
	c.do(chromedp.Click(chromedp.CSS(`form[action$="/enable"] button`)))
	c.waitFor("the task enabled", bodyHas(`Task "Run me" enabled`))
	c.do(chromedp.Click(chromedp.CSS(`form.runform button[type=submit]`)))
	c.waitFor("the event page", `location.pathname.startsWith("/events/")`)
	// The page is rendered by the server; reload until the runs finished.
	deadline := time.Now().Add(20 * time.Second)
	for !eval[bool](c, `document.querySelectorAll('li[data-kind="action_run"][data-status="success"], li[data-kind="action_run"][data-status="failed"]').length === 2`) {
		if time.Now().After(deadline) {
			t.Fatal("action runs did not finish")
		}
		time.Sleep(100 * time.Millisecond)
		c.do(chromedp.Reload())
	}
	tree := eval[string](c, `document.getElementById("run-tree").textContent`)
	for _, want := range []string{"Event run", "Task run", "Run me", "Action run #0", "Action run #1", `"greeting": "hi"`, "not an integer"} {
		if !strings.Contains(tree, want) {
			t.Errorf("event tree lacks %q", want)
		}
	}
	c.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#run-tree details").forEach(d => d.open = d.querySelector(".error") !== null); window.scrollTo(0, 0)`))
	c.saveDocShot("web-ui-event-tree.png")
	okRun := `li[data-kind="action_run"][data-status="success"]`
	failedRun := `li[data-kind="action_run"][data-status="failed"]`
	if eval[bool](c, `document.querySelector('`+okRun+` > .run-head button.retry') !== null`) {
		t.Errorf("retry offered for the succeeded action run")
	}
	if got := eval[string](c, `document.querySelector('`+okRun+` > .run-head .noretry').textContent`); !strings.Contains(got, "only failed action runs can be retried") {
		t.Errorf("succeeded run says %q", got)
	}
	c.do(chromedp.Click(chromedp.CSS(failedRun + ` > .run-head button.retry`)))
	c.waitFor("the retry", bodyHas("Retrying action run"))
	runs, _, err := st.ListRuns(ctx, store.RunFilter{Kind: store.KindAction, Status: store.StatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	// The retried run fails again (the value is still not an integer),
	// after a second attempt.
	deadline = time.Now().Add(20 * time.Second)
	for len(runs) != 1 || runs[0].Attempts != 1 || runs[0].StoppedAt.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("retried run: %+v", runs)
		}
		time.Sleep(50 * time.Millisecond)
		runs, _, _ = st.ListRuns(ctx, store.RunFilter{Kind: store.KindAction, Status: store.StatusFailed})
	}
}

// TestBrowserSettings creates a webhook (after a validation error) and a
// secret, whose value is not shown afterwards.
func TestBrowserSettings(t *testing.T) {
	env := startEnv(t, envOptions{})
	c := startChrome(t, env)
	c.signIn()
	c.do(
		chromedp.Navigate(env.base+"/settings"),
		chromedp.WaitVisible(chromedp.ID("wh-name")),
		chromedp.SendKeys(chromedp.ID("wh-name"), "Orders"),
		chromedp.SendKeys(chromedp.ID("wh-topic"), "orders"),
		chromedp.Click(chromedp.ID("create-webhook")),
	)
	c.waitFor("the topic error", bodyHas("topic must look like user/subject/verb"))
	c.do(
		chromedp.SetValue(chromedp.ID("wh-topic"), "user/orders/new"),
		chromedp.Click(chromedp.ID("create-webhook")),
	)
	c.waitFor("the webhook", bodyHas(`Webhook "Orders" created`))
	hooks, err := env.svc.Store().ListWebhooks(context.Background())
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks %+v %v", hooks, err)
	}
	if url := eval[string](c, `document.getElementById("hook-url-`+hooks[0].ID+`").textContent`); url != env.base+"/webhooks/"+hooks[0].ID {
		t.Errorf("webhook URL %q", url)
	}
	c.do(
		chromedp.SendKeys(chromedp.ID("se-key"), "smtp_password"),
		chromedp.SendKeys(chromedp.ID("se-value"), "hunter2-very-secret"),
		chromedp.Click(chromedp.ID("save-secret")),
	)
	c.waitFor("the secret", bodyHas(`Secret "smtp_password" saved`))
	if !eval[bool](c, `document.getElementById("secret-list").innerText.includes("smtp_password")`) {
		t.Errorf("secret not listed")
	}
	if eval[bool](c, `document.documentElement.outerHTML.includes("hunter2")`) {
		t.Errorf("the secret's value is shown")
	}
	list, _ := env.svc.Store().ListSettings(context.Background(), store.SettingSecret)
	if len(list) != 1 || strings.Contains(string(list[0].Value), "hunter2") || !strings.HasPrefix(string(list[0].Value), `"v1:`) {
		t.Errorf("stored secrets %+v, want one sealed value", list)
	}
	if got, ok := env.svc.Vault().RevealSecret(server.SecretRef("smtp_password")); !ok || got != "hunter2-very-secret" {
		t.Errorf("the vault opens the secret as %q, %v", got, ok)
	}
}

// TestBrowserSearchEvents searches the events' data.
func TestBrowserSearchEvents(t *testing.T) {
	env := startEnv(t, envOptions{})
	var evs []store.NewEvent
	for i, who := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		evs = append(evs, store.NewEvent{Topic: "user/customers/new", Data: json.RawMessage(fmt.Sprintf(`{"n": %d, "email": %q}`, i, who)), Source: "user"})
	}
	if _, err := env.svc.Store().InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	c := startChrome(t, env)
	c.signIn()
	c.do(chromedp.Navigate(env.base + "/events"))
	c.waitFor("three events", `document.querySelectorAll(".event-link").length === 3`)
	c.do(chromedp.SendKeys(chromedp.ID("q"), "BOB@"))
	c.waitFor("one match", `document.querySelectorAll(".event-link").length === 1 && location.search.includes("q=BOB")`)
	c.do(chromedp.Click(chromedp.CSS(".event-link")))
	c.waitFor("the event", `location.pathname.startsWith("/events/")`)
	if !eval[bool](c, `document.querySelector("details pre.json").textContent.includes("bob@example.com")`) {
		t.Errorf("opened the wrong event")
	}
}

// TestBrowserLayoutWidths loads every page at 1280 px and at phone width
// and checks that nothing overflows horizontally and that every form
// control has an accessible name.
func TestBrowserLayoutWidths(t *testing.T) {
	env := startEnv(t, envOptions{})
	ctx := context.Background()
	tk := task.New("A task with a rather long name to see how it wraps on a narrow screen")
	tk.Script = "{{ event.data | json }}\n{% action \"echo\", very_long_option_name_without_spaces: \"https://example.com/a/very/long/url/that/does/not/wrap/easily/at/all\" %}"
	tk.Tags = []string{"Orders", "Reporting"}
	tk.Subscriptions = []string{"shopify/orders/create", "mechanic/user/trigger"}
	stored, _, err := server.CreateTask(ctx, env.svc.Store(), tk, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := env.svc.Store().InsertEvents(ctx, []store.NewEvent{{Topic: "user/orders/new", Data: json.RawMessage(`{"a": 1}`), Source: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/library", "/events", "/events/" + evs[0].ID, "/activity", "/console", "/settings", "/tasks/new", "/tasks/import",
		"/tasks/" + stored.ID, "/tasks/" + stored.ID + "?mode=advanced", "/tasks/" + stored.ID + "/versions"}
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			c := startChrome(t, env)
			c.do(chromedp.EmulateViewport(int64(width), 844))
			c.signIn()
			if got := eval[int](c, `window.innerWidth`); got != width {
				t.Fatalf("viewport %d px wide, want %d", got, width)
			}
			for _, p := range pages {
				c.do(chromedp.Navigate(env.base + p))
				c.waitFor("the page", `document.readyState === "complete" && (!document.querySelector("[data-editor]") || document.querySelector(".cm-editor") !== null)`)
				if eval[bool](c, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
					t.Errorf("%s overflows horizontally at %d px (%d px wide)", p, width, eval[int](c, `document.documentElement.scrollWidth`))
				}
				unnamed := eval[[]string](c, `Array.from(document.querySelectorAll("input:not([type=hidden]), select, textarea")).filter(e => {
					if (e.offsetParent === null && e.type !== "checkbox" && e.type !== "radio") return false;
					if (e.getAttribute("aria-label") || (e.labels && e.labels.length > 0)) return false;
					return true;
				}).map(e => e.name || e.id || e.outerHTML.slice(0, 80))`)
				if len(unnamed) > 0 {
					t.Errorf("%s: controls without a label: %v", p, unnamed)
				}
			}
		})
	}
}

// TestBrowserShortcutsAndDarkEditor uses Mechanic's keyboard shortcuts and
// switches the code editor to its dark theme.
func TestBrowserShortcutsAndDarkEditor(t *testing.T) {
	env := startEnv(t, envOptions{})
	c := startChrome(t, env)
	c.signIn()
	keys := []struct{ keys, wantPath string }{
		{"ge", "/events"}, {"gs", "/settings"}, {"ga", "/activity"}, {"gt", "/library"}, {"gg", "/"}, {"nt", "/tasks/new"},
	}
	for _, k := range keys {
		c.waitFor("the page", `document.readyState === "complete"`)
		c.do(chromedp.KeyEvent(k.keys[:1]), chromedp.KeyEvent(k.keys[1:]))
		c.waitFor(k.keys+" to open "+k.wantPath, `location.pathname === `+js(k.wantPath))
	}
	// Shortcuts are off while typing in the editor.
	c.waitFor("the editor", `document.querySelector('.cm-editor[data-editor-for="script"]') !== null`)
	c.do(chromedp.Click(chromedp.CSS(`.cm-editor[data-editor-for="script"] .cm-content`)), chromedp.KeyEvent("ge"))
	time.Sleep(300 * time.Millisecond)
	if got := eval[string](c, `location.pathname`); got != "/tasks/new" {
		t.Errorf("typing in the editor navigated to %s", got)
	}
	bg := func() string {
		return eval[string](c, `getComputedStyle(document.querySelector('.cm-editor[data-editor-for="script"]')).backgroundColor`)
	}
	light := bg()
	c.do(chromedp.Click(chromedp.CSS(`[data-theme-toggle]`)))
	c.waitFor("the dark theme", `getComputedStyle(document.querySelector('.cm-editor[data-editor-for="script"]')).backgroundColor === "rgb(40, 44, 52)"`)
	if light == "rgb(40, 44, 52)" || eval[string](c, `document.querySelector("[data-theme-toggle]").getAttribute("aria-pressed")`) != "true" {
		t.Errorf("theme toggle: light background %s", light)
	}
	c.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("?"))
	c.waitFor("the shortcuts sheet", `document.getElementById("shortcuts").open`)
}
