// Package chromium renders the pdf file generator's HTML to PDF with a
// headless Chromium driven over the DevTools protocol (chromedp).
//
// A Renderer keeps a small pool of browser processes, started on first use
// and restarted when one dies; each render opens a fresh tab, so documents
// never share state. Every render is bounded in time (Config.Timeout), each
// page's JavaScript heap is capped (Config.MaxHeapMB), and the page may not
// reach the network unless Config.AllowRequest allows the URL: the HTML is
// served to the tab by the renderer itself, and every other request is
// intercepted and refused (the request fails as blocked by the client).
package chromium

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
)

// EnvPath is the environment variable naming the browser executable;
// sprocket serve reads it as the default of --chromium (Config.Path).
const EnvPath = "SPROCKET_CHROMIUM"

// Defaults used when the corresponding Config field is zero.
const (
	DefaultBrowsers       = 1
	DefaultTabsPerBrowser = 2
	DefaultTimeout        = 60 * time.Second
	DefaultMaxHeapMB      = 512
	DefaultStartTimeout   = 30 * time.Second
)

// Candidates are the executable names looked up on PATH, in order, when
// Config.Path is empty.
var Candidates = []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

// ErrNoBrowser is returned when no Chromium executable can be found.
var ErrNoBrowser = errors.New("no Chromium browser found: install chromium or chromium-headless-shell (Debian: apt-get install chromium), or set " + EnvPath + " to its path")

// docOrigin is where tabs load the HTML; the renderer answers it itself,
// so nothing is fetched. A .localhost name is a secure, local origin.
const docOrigin = "http://sprocket-pdf.localhost/"

// Config configures a Renderer. The zero value gives sane defaults.
type Config struct {
	// Path is the browser executable; empty means the first of Candidates
	// found on PATH.
	Path string
	// Browsers is how many browser processes the pool keeps
	// (DefaultBrowsers when zero).
	Browsers int
	// TabsPerBrowser is how many documents each browser renders at once
	// (DefaultTabsPerBrowser when zero).
	TabsPerBrowser int
	// Timeout bounds one render, waiting for a free tab included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxHeapMB caps the JavaScript heap of each page, in MiB
	// (DefaultMaxHeapMB when zero).
	MaxHeapMB int
	// AllowRequest reports whether the page may fetch u (stylesheets,
	// scripts, images, fonts). Nil refuses every request.
	AllowRequest func(u *url.URL) bool
	// Logger receives one debug record per render and warnings; nil
	// discards.
	Logger *slog.Logger
}

// AllowLoopback allows requests to loopback addresses (localhost,
// 127.0.0.0/8, ::1) only; for tests.
func AllowLoopback(u *url.URL) bool {
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// AllowHTTP allows every http and https request (web fonts, chart
// libraries from CDNs, images).
func AllowHTTP(u *url.URL) bool {
	return u.Scheme == "http" || u.Scheme == "https"
}

// AllowPublicHTTP allows http and https requests except to localhost and
// to loopback, private, link-local and unspecified IP addresses written in
// the URL. Host names that resolve to such addresses are not caught.
func AllowPublicHTTP(u *url.URL) bool {
	if !AllowHTTP(u) {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
	}
	return true
}

// Renderer renders PDFs; it implements filegen.PDFRenderer. It is safe for
// concurrent use; call Close to stop its browsers.
type Renderer struct {
	cfg    Config
	log    *slog.Logger
	slots  chan struct{}
	mu     sync.Mutex
	pool   []*browser
	next   int
	closed bool
}

// browser is one running browser process with its idle tabs.
type browser struct {
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	idle        chan *tab
}

// tab is an open tab, reused from one render to the next: between
// renders it shows about:blank, its window name is reset and the storage
// of the documents' origin (cookies, local storage, caches) is cleared.
type tab struct {
	ctx    context.Context // the tab's chromedp context
	cancel context.CancelFunc
}

func (b *browser) alive() bool { return b != nil && b.ctx.Err() == nil }

func (b *browser) stop() {
	b.cancel()
	b.allocCancel()
}

// New returns a Renderer; browsers start on first use.
func New(cfg Config) *Renderer {
	if cfg.Browsers <= 0 {
		cfg.Browsers = DefaultBrowsers
	}
	if cfg.TabsPerBrowser <= 0 {
		cfg.TabsPerBrowser = DefaultTabsPerBrowser
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxHeapMB <= 0 {
		cfg.MaxHeapMB = DefaultMaxHeapMB
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Renderer{
		cfg:   cfg,
		log:   log,
		slots: make(chan struct{}, cfg.Browsers*cfg.TabsPerBrowser),
		pool:  make([]*browser, cfg.Browsers),
	}
}

// FindBrowser returns the browser executable: path when set (it must
// exist), otherwise the first of Candidates on PATH, or ErrNoBrowser.
func FindBrowser(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("chromium at %q: %w", path, err)
		}
		return p, nil
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Close stops the browsers; later renders fail.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for i, b := range r.pool {
		if b != nil {
			b.stop()
			r.pool[i] = nil
		}
	}
	return nil
}

// Warm starts the browsers and opens their tabs now instead of on the
// first renders.
func (r *Renderer) Warm(ctx context.Context) error {
	for range r.cfg.Browsers {
		b, err := r.acquireBrowser(ctx)
		if err != nil {
			return err
		}
		var tabs []*tab
		for range r.cfg.TabsPerBrowser {
			t, err := r.openTab(ctx, b)
			if err != nil {
				return err
			}
			tabs = append(tabs, t)
		}
		for _, t := range tabs {
			r.releaseTab(b, t)
		}
	}
	return nil
}

// acquireBrowser returns a running browser, round robin, starting or
// restarting it as needed.
func (r *Renderer) acquireBrowser(ctx context.Context) (*browser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, action.Failed(errors.New("the PDF renderer is closed"))
	}
	i := r.next
	r.next = (r.next + 1) % len(r.pool)
	if b := r.pool[i]; b.alive() {
		return b, nil
	} else if b != nil {
		r.log.Warn("chromium: browser process ended; restarting it")
		b.stop()
		r.pool[i] = nil
	}
	// Starting a browser is not the render's fault: it gets its own time,
	// though a caller that gives up still stops it.
	b, err := r.start(context.WithoutCancel(ctx), ctx.Done())
	if err != nil {
		return nil, err
	}
	r.pool[i] = b
	return b, nil
}

// discard stops b and drops it from the pool, so the next render starts a
// fresh browser.
func (r *Renderer) discard(b *browser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, pb := range r.pool {
		if pb == b {
			r.pool[i] = nil
		}
	}
	b.stop()
}

func (r *Renderer) start(ctx context.Context, abandon <-chan struct{}) (*browser, error) {
	path, err := FindBrowser(r.cfg.Path)
	if err != nil {
		return nil, action.Failed(err)
	}
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(path),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// The renderer's own interception decides what the page may fetch;
		// Chromium's local-network checks would refuse loopback resources
		// because the served document has no address of its own.
		chromedp.Flag("disable-features", "Translate,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"),
		chromedp.Flag("renderer-process-limit", strconv.Itoa(r.cfg.TabsPerBrowser+1)),
		chromedp.Flag("js-flags", fmt.Sprintf("--max-old-space-size=%d", r.cfg.MaxHeapMB)),
		chromedp.WSURLReadTimeout(DefaultStartTimeout),
	)
	if r.cfg.AllowRequest == nil {
		// Belt and braces: requests are intercepted anyway, but without
		// name resolution nothing can leave even if interception failed.
		opts = append(opts, chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"))
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(bctx) }() // starts the browser
	select {
	case err = <-done:
	case <-abandon:
		err = errors.New("the render was canceled")
	case <-time.After(DefaultStartTimeout):
		err = fmt.Errorf("timed out after %s", DefaultStartTimeout)
	}
	if err != nil {
		bcancel()
		allocCancel()
		return nil, action.Transient(fmt.Errorf("start chromium %s: %w", path, err))
	}
	r.log.Info("chromium: browser started", "path", path)
	return &browser{ctx: bctx, cancel: bcancel, allocCancel: allocCancel, idle: make(chan *tab, r.cfg.TabsPerBrowser)}, nil
}

// RenderPDF implements filegen.PDFRenderer.
func (r *Renderer) RenderPDF(ctx context.Context, o *filegen.PDFOptions) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, action.Transient(fmt.Errorf("render pdf: waiting for a free browser tab: %w", ctx.Err()))
	}
	defer func() { <-r.slots }()
	b, err := r.acquireBrowser(ctx)
	if err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	for _, k := range o.Ignored {
		r.log.Warn("pdf: option has no effect with the Chromium renderer", "option", k)
	}
	start := time.Now()
	data, err := r.render(ctx, b, o)
	if err != nil {
		if !b.alive() {
			return nil, action.Transient(fmt.Errorf("render pdf: the browser stopped: %w", err))
		}
		if ctx.Err() != nil {
			// A page that never yields keeps the renderer process of its
			// site busy, and later tabs with it: the browser is restarted.
			// Renders sharing it fail as transient and are retried.
			r.discard(b)
			return nil, action.Transient(fmt.Errorf("render pdf: timed out after %s: %w", r.cfg.Timeout, err))
		}
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	r.log.Debug("pdf rendered", "bytes", len(data), "elapsed", time.Since(start), "page", o.String())
	return data, nil
}

// openTab returns an idle tab of b or opens one with request interception
// on.
func (r *Renderer) openTab(ctx context.Context, b *browser) (*tab, error) {
	select {
	case t := <-b.idle:
		return t, nil
	default:
	}
	tctx, cancel := chromedp.NewContext(b.ctx)
	stop := context.AfterFunc(ctx, cancel) // opening must not outlive the render
	_, err := chromedp.Run(tctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
		return err
	}))
	if !stop() || err != nil {
		cancel()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	return &tab{ctx: tctx, cancel: cancel}, nil
}

// releaseTab blanks t and keeps it for the next render, or closes it
// when that fails or enough tabs are idle.
func (r *Renderer) releaseTab(b *browser, t *tab) {
	ctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Evaluate[chromedp.Void](`window.name = ""`), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: strings.TrimSuffix(docOrigin, "/"), StorageTypes: "all"})
		return err
	}))
	if err != nil {
		t.cancel()
		return
	}
	select {
	case b.idle <- t:
	default:
		t.cancel()
	}
}

// render renders o in a tab of b; the tab is reused unless the render
// failed.
func (r *Renderer) render(ctx context.Context, b *browser, o *filegen.PDFOptions) ([]byte, error) {
	t, err := r.openTab(ctx, b)
	if err != nil {
		return nil, err
	}
	// The render's context is the tab's, ending with ctx: canceling it
	// stops the render's commands, not the tab.
	rctx, rcancel := context.WithCancel(t.ctx)
	stop := context.AfterFunc(ctx, rcancel)
	data, err := r.renderIn(rctx, o)
	rcancel()
	if !stop() || err != nil {
		t.cancel()
		return nil, err
	}
	r.releaseTab(b, t)
	return data, nil
}

// docSeq numbers documents so that each render loads a URL of its own.
var docSeq atomic.Uint64

func (r *Renderer) renderIn(tab context.Context, o *filegen.PDFOptions) ([]byte, error) {
	doc := fmt.Sprintf("%sdocument-%d.html", docOrigin, docSeq.Add(1))
	var blocked []string
	var blockedMu sync.Mutex
	// The subscription ends with evctx, before waiting for its reader.
	evctx, stopEvents := context.WithCancel(tab)
	paused := chromedp.Events(evctx, fetch.RequestPaused)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopEvents()
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev, err := range paused {
				if err != nil {
					return
				}
				if reason := r.answer(ctx, t, &ev, doc, o); reason != "" {
					blockedMu.Lock()
					if len(blocked) < 10 {
						blocked = append(blocked, reason)
					}
					blockedMu.Unlock()
				}
			}
		}()
		media := "screen"
		if o.PrintMedia {
			media = "print"
		}
		if _, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media}); err != nil {
			return fmt.Errorf("set media: %w", err)
		}
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(o.ViewportWidth), Height: int64(o.ViewportHeight), DeviceScaleFactor: 1,
		}); err != nil {
			return fmt.Errorf("set viewport: %w", err)
		}
		if _, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: o.DisableJavaScript}); err != nil {
			return fmt.Errorf("set javascript: %w", err)
		}
		return nil
	}), chromedp.Navigate(doc))
	if err != nil {
		return nil, fmt.Errorf("load document: %w", err)
	}
	if !o.DisableJavaScript {
		if err := r.runScripts(tab, o); err != nil {
			return nil, err
		}
	}
	height := o.PageHeight
	if height < 0 {
		h, err := chromedp.Run(tab, chromedp.Evaluate[float64](`Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)`))
		if err != nil {
			return nil, fmt.Errorf("measure content height: %w", err)
		}
		height = h/96*o.Scale + o.MarginTop + o.MarginBottom + 0.05
	}
	params := printParams(o, height)
	res, err := chromedp.Run(tab, func(ctx context.Context, t *chromedp.Target) (page.PrintToPDFResult, error) {
		return cdp.Call(ctx, t, page.PrintToPDF, params)
	})
	if err != nil {
		return nil, fmt.Errorf("print: %w", err)
	}
	if len(res.Data) > filegen.MaxFileBytes {
		return nil, action.Failed(fmt.Errorf("the PDF is %d bytes, more than the limit of %d", len(res.Data), filegen.MaxFileBytes))
	}
	blockedMu.Lock()
	if len(blocked) > 0 {
		r.log.Info("pdf: page requests blocked (network access is not allowed)", "requests", strings.Join(blocked, ", "))
	}
	blockedMu.Unlock()
	return res.Data, nil
}

// answer serves the document, lets allowed requests through and refuses
// the others; it returns the URL of a refused request.
func (r *Renderer) answer(ctx context.Context, t *chromedp.Target, ev *fetch.EventRequestPaused, doc string, o *filegen.PDFOptions) string {
	raw := ev.Request.URL
	if raw == doc {
		body := o.HTML
		if css := extraCSS(o); css != "" {
			body = "<style>" + css + "</style>" + body
		}
		_, _ = cdp.Call(ctx, t, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:       ev.RequestID,
			ResponseCode:    200,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}, {Name: "Cache-Control", Value: "no-store"}},
			Body:            []byte(body),
		})
		return ""
	}
	if strings.HasPrefix(raw, docOrigin) {
		// Nothing else lives at the document's origin (favicon.ico, say).
		_, _ = cdp.Call(ctx, t, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 404})
		return ""
	}
	fail := func() string {
		_, _ = cdp.Call(ctx, t, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return shorten(raw)
	}
	if (o.DisableImages && ev.ResourceType == network.ResourceTypeImage) ||
		(o.DisableRemoteFonts && ev.ResourceType == network.ResourceTypeFont) {
		_, _ = cdp.Call(ctx, t, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || r.cfg.AllowRequest == nil || !r.cfg.AllowRequest(u) {
		return fail()
	}
	_, _ = cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	return ""
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// extraCSS is the CSS the options add to the document.
func extraCSS(o *filegen.PDFOptions) string {
	var b strings.Builder
	if o.PageBackgroundColor != "" {
		c := strings.TrimPrefix(o.PageBackgroundColor, "#")
		fmt.Fprintf(&b, "html{background-color:#%s;-webkit-print-color-adjust:exact;print-color-adjust:exact}", c)
	}
	b.WriteString(o.CustomCSS)
	return b.String()
}

// runScripts runs the page's scripts as the options ask: on-load script,
// the wait for an element, the JavaScript delay, web fonts, the custom
// script, the title and the element to convert.
func (r *Renderer) runScripts(tab context.Context, o *filegen.PDFOptions) error {
	eval := func(what, js string) error {
		_, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise))
		if err != nil {
			return action.Failed(fmt.Errorf("%s: %w", what, err))
		}
		return nil
	}
	if o.OnLoadJavaScript != "" {
		if err := eval("on_load_javascript", o.OnLoadJavaScript); err != nil {
			return err
		}
	}
	if o.WaitForElement != "" {
		js := fmt.Sprintf(`new Promise((resolve) => { const sel = %s; const check = () => { if (document.querySelector(sel)) { resolve(); } else { setTimeout(check, 50); } }; check(); })`, jsString(o.WaitForElement))
		if err := eval("wait_for_element", js); err != nil {
			return err
		}
	}
	if o.JavaScriptDelay > 0 {
		if err := chromedp.Do(tab, chromedp.Sleep(o.JavaScriptDelay)); err != nil {
			return fmt.Errorf("javascript_delay: %w", err)
		}
	}
	if err := eval("wait for web fonts", `document.fonts ? document.fonts.ready.then(() => undefined) : undefined`); err != nil {
		return err
	}
	if o.CustomJavaScript != "" {
		if err := eval("custom_javascript", o.CustomJavaScript); err != nil {
			return err
		}
	}
	if o.Title != "" {
		if err := eval("title", "document.title = "+jsString(o.Title)); err != nil {
			return err
		}
	}
	if o.ElementToConvert != "" {
		js := fmt.Sprintf(`(() => {
  const el = document.querySelector(%s);
  if (!el) { throw new Error("element_to_convert: no element matches " + %s); }
  const mode = %s;
  if (mode === "cut-out") { document.body.replaceChildren(el); return; }
  for (let n = el; n && n !== document.body && n.parentNode; n = n.parentNode) {
    for (const s of Array.from(n.parentNode.children)) {
      if (s === n) continue;
      if (mode === "remove-siblings") { s.remove(); } else { s.style.display = "none"; }
    }
  }
})()`, jsString(o.ElementToConvert), jsString(o.ElementToConvert), jsString(o.ElementToConvertMode))
		if err := eval("element_to_convert", js); err != nil {
			return err
		}
	}
	return nil
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// printParams maps the options to Page.printToPDF; height is the portrait
// page height in inches.
func printParams(o *filegen.PDFOptions, height float64) page.PrintToPDFParams {
	top, bottom := o.MarginTop, o.MarginBottom
	var header, footer string
	if o.HeaderHTML != "" {
		header = band(o.HeaderHTML, o.HeaderHeight, o.MarginTop, 0, o)
		top += o.HeaderHeight
	}
	if o.FooterHTML != "" {
		footer = band(o.FooterHTML, o.FooterHeight, 0, o.MarginBottom, o)
		bottom += o.FooterHeight
	}
	p := page.PrintToPDFParams{
		Landscape:         ptr(o.Landscape),
		PrintBackground:   ptr(o.PrintBackground),
		Scale:             o.Scale,
		PaperWidth:        o.PageWidth,
		PaperHeight:       math.Max(height, 0.1),
		MarginTop:         ptr(top),
		MarginBottom:      ptr(bottom),
		MarginLeft:        ptr(o.MarginLeft),
		MarginRight:       ptr(o.MarginRight),
		PageRanges:        o.PageRanges,
		PreferCSSPageSize: ptr(false),
	}
	if header != "" || footer != "" {
		p.DisplayHeaderFooter = ptr(true)
		// An empty template prints Chromium's default (title and date).
		p.HeaderTemplate, p.FooterTemplate = "<span></span>", "<span></span>"
		if header != "" {
			p.HeaderTemplate = header
		}
		if footer != "" {
			p.FooterTemplate = footer
		}
	}
	return p
}

// pdfcrowdClasses maps Pdfcrowd's header and footer placeholders to
// Chromium's.
var pdfcrowdClasses = strings.NewReplacer(
	"pdfcrowd-page-number", "pageNumber",
	"pdfcrowd-page-count", "totalPages",
	"pdfcrowd-source-title", "title",
	"pdfcrowd-source-url", "url",
)

// band wraps header or footer HTML for Chromium's template, which lays the
// header out from the top of the page and the footer up from the bottom:
// the content is kept the page margin away from the edge (padTop for the
// header, padBottom for the footer), inside a band at most height tall,
// and indented by the side margins unless
// no_header_footer_horizontal_margins.
func band(html string, height, padTop, padBottom float64, o *filegen.PDFOptions) string {
	left, right := o.MarginLeft, o.MarginRight
	if o.NoHeaderFooterHorizontalMargins {
		left, right = 0, 0
	}
	return fmt.Sprintf(`<div style="box-sizing:border-box;width:100%%;padding:%.4fin %.4fin %.4fin %.4fin;max-height:%.4fin;overflow:hidden;font-size:12px;-webkit-print-color-adjust:exact;print-color-adjust:exact">%s</div>`,
		padTop, right, padBottom, left, height+padTop+padBottom, pdfcrowdClasses.Replace(html))
}

func ptr[T any](v T) *T { return &v }
