// The task editor of Sprocket's web UI: CodeMirror 6 with Liquid
// highlighting, completion from Sprocket's tag/filter/variable registries
// and the task's options (data-completions on the textarea), lint markers
// from the server's preview (#lint data-lint), and a dark theme toggle.
// Built into ../static/editor.js by build.mjs; see README in this folder.
import { EditorView, basicSetup } from "codemirror";
import { Compartment } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { liquid } from "@codemirror/lang-liquid";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { oneDark } from "@codemirror/theme-one-dark";
import { indentWithTab } from "@codemirror/commands";

const themes = new Compartment();
const views = [];

const props = {
  event: ["topic", "data", "id", "created_at", "parent", "preview", "source"],
  shop: ["name", "domain", "myshopify_domain", "email", "customer_email", "currency", "iana_timezone", "admin_url", "money_format", "plan_name"],
  task: ["id", "name", "created_at"],
};

function completionsOf(ta) {
  let c = {};
  try { c = JSON.parse(ta.getAttribute("data-completions") || "{}"); } catch (e) { c = {}; }
  const opts = (c.options || []).map((o) => ({ label: o, type: "property", detail: "option" }));
  return {
    tags: (c.tags || []).map((t) => ({ label: t, type: "keyword" })),
    filters: (c.filters || []).map((f) => ({ label: f, type: "function" })),
    variables: (c.variables || []).filter((v) => v.indexOf(".") < 0).map((v) => ({ label: v, type: "variable" })),
    properties: (path) => {
      if (path.length === 1 && path[0] === "options") return opts;
      if (path.length === 1 && props[path[0]]) return props[path[0]].map((p) => ({ label: p, type: "property" }));
      return [];
    },
  };
}

function prefersDark() {
  const saved = localStorage.getItem("sprocket-editor-theme");
  if (saved) return saved === "dark";
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function mount(ta) {
  if (ta.dataset.mounted) return;
  ta.dataset.mounted = "1";
  const view = new EditorView({
    doc: ta.value,
    extensions: [
      basicSetup,
      keymap.of([indentWithTab]),
      liquid(completionsOf(ta)),
      lintGutter(),
      themes.of(prefersDark() ? oneDark : []),
      EditorView.contentAttributes.of({ "aria-label": (ta.labels && ta.labels[0] ? ta.labels[0].textContent : "Code") }),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        ta.value = u.state.doc.toString();
        ta.dispatchEvent(new Event("input", { bubbles: true }));
      }),
    ],
  });
  ta.style.display = "none";
  ta.parentNode.insertBefore(view.dom, ta.nextSibling);
  view.dom.setAttribute("data-editor-for", ta.name);
  if (ta.labels && ta.labels[0]) ta.labels[0].addEventListener("click", () => view.focus());
  views.push({ ta, view });
  ta.sprocketView = view;
}

// applyLint sets the lint markers of every editor from #lint's JSON
// ([{field, line, message}]).
function applyLint() {
  const el = document.getElementById("lint");
  if (!el) return;
  let items = [];
  try { items = JSON.parse(el.getAttribute("data-lint") || "[]"); } catch (e) { items = []; }
  for (const { ta, view } of views) {
    const doc = view.state.doc;
    const diags = [];
    for (const it of items) {
      if (it.field !== ta.name) continue;
      const n = Math.min(Math.max(it.line || 1, 1), doc.lines);
      const line = doc.line(n);
      diags.push({ from: line.from, to: Math.max(line.to, line.from), severity: "error", message: it.message });
    }
    view.dispatch(setDiagnostics(view.state, diags));
    view.dom.setAttribute("data-lint-count", String(diags.length));
  }
}

function setTheme(dark) {
  localStorage.setItem("sprocket-editor-theme", dark ? "dark" : "light");
  for (const { view } of views) view.dispatch({ effects: themes.reconfigure(dark ? oneDark : []) });
  document.querySelectorAll("[data-theme-toggle]").forEach((b) => b.setAttribute("aria-pressed", String(dark)));
}

function init() {
  document.querySelectorAll("textarea[data-editor]").forEach(mount);
  document.querySelectorAll("[data-theme-toggle]").forEach((b) => {
    b.setAttribute("aria-pressed", String(prefersDark()));
    b.addEventListener("click", () => setTheme(b.getAttribute("aria-pressed") !== "true"));
  });
  applyLint();
}

document.addEventListener("htmx:afterSwap", applyLint);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
