// Sprocket web UI: small progressive enhancements (no framework).
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || (t.closest && t.closest(".cm-editor")));
  }
  // Keyboard shortcuts, as in Mechanic: ? sheet, g-prefixed navigation, n t new task.
  var prefix = "", prefixAt = 0;
  var go = { g: "/", t: "/library", e: "/events", a: "/activity", c: "/console", s: "/settings" };
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") {
      var save = document.querySelector("[data-shortcut-save]");
      if (save) { e.preventDefault(); save.click(); }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      var ev = document.getElementById("evaluate");
      if (ev) { e.preventDefault(); ev.click(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    var now = Date.now();
    if (prefix && now - prefixAt < 1500) {
      var p = prefix; prefix = "";
      if (p === "g" && go[e.key]) { location.href = go[e.key]; return; }
      if (p === "n" && e.key === "t") { location.href = "/tasks/new"; return; }
    }
    if (e.key === "g" || e.key === "n") { prefix = e.key; prefixAt = now; return; }
    if (e.key === "?") { var d = document.getElementById("shortcuts"); if (d && d.showModal) d.showModal(); return; }
    if (e.key === "/") { var s = document.querySelector("[data-search]"); if (s) { e.preventDefault(); s.focus(); } }
  });
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-confirm],[data-copy]") : null;
    if (!t) return;
    if (t.hasAttribute("data-confirm") && !confirm(t.getAttribute("data-confirm"))) { e.preventDefault(); return; }
    if (t.hasAttribute("data-copy")) {
      var src = document.getElementById(t.getAttribute("data-copy"));
      if (src && navigator.clipboard) navigator.clipboard.writeText(src.textContent.trim()).then(function () { t.textContent = "Copied"; });
    }
  });
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-select-all")) {
      var form = t.form || document;
      form.querySelectorAll('input[type=checkbox][name="' + t.getAttribute("data-select-all") + '"]').forEach(function (c) { c.checked = t.checked; });
    }
  });
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-range-output")) {
      var o = t.parentNode.querySelector('output[for="' + t.id + '"]');
      if (o) o.textContent = t.value;
    }
  });
  // Session expiry during htmx requests: go to the sign-in page.
  document.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 401) location.href = "/signin?next=" + encodeURIComponent(location.pathname + location.search);
  });
})();
