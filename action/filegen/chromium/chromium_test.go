package chromium_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/action/filegen/chromium"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// need skips the test when the program is missing, unless CI is "true".
func need(t testing.TB, find func() error, what string) {
	t.Helper()
	if err := find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", what, err)
		}
		t.Skipf("%s not available: %v", what, err)
	}
}

func needChromium(t testing.TB) {
	need(t, func() error { _, err := chromium.FindBrowser(os.Getenv(chromium.EnvPath)); return err }, "Chromium")
}

func needPoppler(t testing.TB) {
	need(t, func() error {
		if _, err := exec.LookPath("pdftotext"); err != nil {
			return err
		}
		_, err := exec.LookPath("pdfinfo")
		return err
	}, "poppler-utils (pdftotext, pdfinfo)")
}

func newRenderer(t testing.TB, cfg chromium.Config) *chromium.Renderer {
	t.Helper()
	cfg.Path = os.Getenv(chromium.EnvPath)
	r := chromium.New(cfg)
	t.Cleanup(func() { r.Close() })
	return r
}

func pdfOptions(t testing.TB, js string) *filegen.PDFOptions {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	o, err := filegen.ParsePDFOptions("files", "test.pdf", v.(*value.Map))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// pdfText returns the text pdftotext finds and pdfinfo's
// page count and first page size in points.
func pdfText(t testing.TB, pdf []byte) (text string, pages int, w, h float64) {
	t.Helper()
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("not a PDF: %.20q", pdf)
	}
	path := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	info, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	if m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(info); m != nil {
		pages, _ = strconv.Atoi(string(m[1]))
	}
	if m := regexp.MustCompile(`Page size:\s+([\d.]+) x ([\d.]+) pts`).FindSubmatch(info); m != nil {
		w, _ = strconv.ParseFloat(string(m[1]), 64)
		h, _ = strconv.ParseFloat(string(m[2]), 64)
	}
	return string(out), pages, w, h
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestRender(t *testing.T) {
	needChromium(t)
	needPoppler(t)
	r := newRenderer(t, chromium.Config{})
	long := strings.Repeat("<p>filler paragraph</p>", 120)
	tests := []struct {
		name      string
		opts      string
		want      []string
		notWant   []string
		pages     int        // 0: any
		size      [2]float64 // points; 0: any
		landscape bool
	}{
		{name: "files docs example", opts: `{"html": "<h1>Order #12345</h1>\n<p>It's due!</p>"}`,
			want: []string{"Order #12345", "It's due!"}, pages: 1, size: [2]float64{595, 842}},
		{name: "zip docs example", opts: `{"html": "<h1>!!</h1>"}`, want: []string{"!!"}},
		{name: "pdf docs example (remote fonts and script blocked)", opts: `{"html": "<link href=\"https://fonts.googleapis.com/css2?family=Liu+Jian+Mao+Cao&display=swap\" rel=\"stylesheet\"><style>p { font-family: 'Liu Jian Mao Cao', cursive; }</style><p>Almost before we knew it, we had left the ground.</p><div id=\"tester\" style=\"width:100%;height:40vh;\"></div><script src=\"https://cdn.plot.ly/plotly-2.2.0.min.js\"></script>", "page_width": "7in", "page_height": "5in", "margin_top": "10mm", "margin_right": "10mm", "margin_bottom": "10mm", "margin_left": "10mm"}`,
			want: []string{"Almost before we knew it, we had left the ground."}, size: [2]float64{504, 360}},
		{name: "letter landscape", opts: `{"html": "<p>wide</p>", "page_size": "Letter", "orientation": "landscape"}`,
			want: []string{"wide"}, size: [2]float64{792, 612}},
		{name: "javascript runs", opts: `{"html": "<p id=x>static</p><script>document.getElementById('x').textContent = 'from script ' + (6*7);</script>"}`,
			want: []string{"from script 42"}, notWant: []string{"static"}},
		{name: "javascript disabled", opts: `{"html": "<p id=x>static</p><script>document.getElementById('x').textContent = 'from script';</script>", "disable_javascript": true}`,
			want: []string{"static"}, notWant: []string{"from script"}},
		{name: "javascript delay waits for timers", opts: `{"html": "<p id=x>early</p><script>setTimeout(() => { document.getElementById('x').textContent = 'late'; }, 300);</script>", "javascript_delay": 800}`,
			want: []string{"late"}},
		{name: "wait for element", opts: `{"html": "<script>setTimeout(() => { const d = document.createElement('div'); d.id = 'done'; d.textContent = 'chart ready'; document.body.appendChild(d); }, 400);</script>", "wait_for_element": "#done", "javascript_delay": 0}`,
			want: []string{"chart ready"}},
		{name: "custom and on-load javascript", opts: `{"html": "<p id=x>one</p>", "on_load_javascript": "document.getElementById('x').textContent += ' two'", "custom_javascript": "document.getElementById('x').textContent += ' three'"}`,
			want: []string{"one two three"}},
		{name: "element to convert", opts: `{"html": "<header>page chrome</header><main><p>invoice body</p></main><footer>more chrome</footer>", "element_to_convert": "main"}`,
			want: []string{"invoice body"}, notWant: []string{"page chrome", "more chrome"}},
		{name: "header and footer with page numbers", opts: `{"html": "` + long + `", "header_html": "<div>Report title</div>", "footer_html": "<div>Page <span class=\"pdfcrowd-page-number\"></span> of <span class=\"pdfcrowd-page-count\"></span></div>"}`,
			want: []string{"Report title", "Page 1 of", "Page 2 of"}},
		{name: "page range", opts: `{"html": "` + long + `", "print_page_range": "1"}`, pages: 1},
		{name: "single page as tall as the content", opts: `{"html": "` + long + `", "page_height": "-1"}`, pages: 1, want: []string{"filler paragraph"}},
		{name: "custom css and title", opts: `{"html": "<p class=hide>hidden</p><p>shown</p>", "custom_css": ".hide { display: none }", "title": "Invoice 7"}`,
			want: []string{"shown"}, notWant: []string{"hidden"}},
		{name: "unicode", opts: `{"html": "<meta charset=utf-8><p>Grüße — 日本語 — €12.50</p>"}`, want: []string{"Grüße", "€12.50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := r.RenderPDF(context.Background(), pdfOptions(t, tt.opts))
			if err != nil {
				t.Fatal(err)
			}
			text, pages, w, h := pdfText(t, data)
			flat := squash(text)
			for _, s := range tt.want {
				if !strings.Contains(flat, s) {
					t.Errorf("text lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(flat, s) {
					t.Errorf("text has %q:\n%s", s, text)
				}
			}
			if tt.pages != 0 && pages != tt.pages {
				t.Errorf("pages = %d, want %d", pages, tt.pages)
			}
			if tt.size[0] != 0 && (abs(w-tt.size[0]) > 2 || abs(h-tt.size[1]) > 2) {
				t.Errorf("page size = %.1f x %.1f pt, want %.0f x %.0f", w, h, tt.size[0], tt.size[1])
			}
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestNetwork checks that the page cannot reach the network unless the
// renderer allows it (here: a loopback server).
func TestNetwork(t *testing.T) {
	needChromium(t)
	needPoppler(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById('x').textContent = 'loaded from the server';`)
	}))
	defer srv.Close()
	html := fmt.Sprintf(`{"html": "<p id=x>not loaded</p><script src=\"%s/app.js\"></script><img src=\"%s/img.png\">"}`, srv.URL, srv.URL)
	for _, tt := range []struct {
		name  string
		allow func(*url.URL) bool
		want  string
		hits  int32
	}{
		{"blocked by default", nil, "not loaded", 0},
		{"allowed loopback", chromium.AllowLoopback, "loaded from the server", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			r := newRenderer(t, chromium.Config{AllowRequest: tt.allow})
			data, err := r.RenderPDF(context.Background(), pdfOptions(t, html))
			if err != nil {
				t.Fatal(err)
			}
			text, _, _, _ := pdfText(t, data)
			if !strings.Contains(text, tt.want) {
				t.Errorf("text = %q, want %q", text, tt.want)
			}
			if got := hits.Load(); got != tt.hits {
				t.Errorf("server saw %d requests, want %d", got, tt.hits)
			}
		})
	}
}

func TestNoBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := chromium.New(chromium.Config{})
	defer r.Close()
	_, err := r.RenderPDF(context.Background(), pdfOptions(t, `{"html": "x"}`))
	if !errors.Is(err, chromium.ErrNoBrowser) || action.Classify(err) != action.KindFailed {
		t.Fatalf("err = %v (%v), want ErrNoBrowser, failed", err, action.Classify(err))
	}
	if !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), chromium.EnvPath) {
		t.Errorf("message does not say how to fix it: %v", err)
	}
	r2 := chromium.New(chromium.Config{Path: "/nonexistent/chromium"})
	defer r2.Close()
	if _, err := r2.RenderPDF(context.Background(), pdfOptions(t, `{"html": "x"}`)); err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Errorf("err = %v, want naming the configured path", err)
	}
}

func TestTimeoutAndRecovery(t *testing.T) {
	needChromium(t)
	// 5s: long enough for a render on a loaded 2-core machine (go test runs
	// packages in parallel), short enough to wait for the hang below.
	r := newRenderer(t, chromium.Config{Timeout: 5 * time.Second})
	if err := r.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A page that never yields: the render is abandoned at the timeout.
	_, err := r.RenderPDF(context.Background(), pdfOptions(t, `{"html": "<p>x</p>", "custom_javascript": "while (true) {}"}`))
	if err == nil || action.Classify(err) != action.KindTransient {
		t.Fatalf("err = %v (%v), want a transient timeout", err, action.Classify(err))
	}
	// The pool still renders afterwards.
	r2 := newRenderer(t, chromium.Config{})
	if _, err := r2.RenderPDF(context.Background(), pdfOptions(t, `{"html": "<p>after</p>"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RenderPDF(context.Background(), pdfOptions(t, `{"html": "<p>after</p>"}`)); err != nil {
		t.Fatalf("render after a timeout: %v", err)
	}
}

func TestScriptError(t *testing.T) {
	needChromium(t)
	r := newRenderer(t, chromium.Config{})
	_, err := r.RenderPDF(context.Background(), pdfOptions(t, `{"html": "<p>x</p>", "element_to_convert": "#missing"}`))
	if err == nil || !strings.Contains(err.Error(), "element_to_convert") || action.Classify(err) != action.KindFailed {
		t.Fatalf("err = %v (%v)", err, action.Classify(err))
	}
}

// BenchmarkRenderPDF measures warm throughput: the browsers are started
// before the timer, and renders run in parallel up to the pool's size.
func BenchmarkRenderPDF(b *testing.B) {
	needChromium(b)
	r := newRenderer(b, chromium.Config{})
	if err := r.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	o := pdfOptions(b, `{"html": "<h1>Invoice #1001</h1><table><tr><td>Red T-Shirt</td><td>$19.00</td></tr><tr><td>Total</td><td>$19.00</td></tr></table>", "javascript_delay": 0}`)
	b.ResetTimer()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.RenderPDF(context.Background(), o); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pdfs/s")
}

// TestIsolation checks that a reused tab carries nothing from one
// document to the next.
func TestIsolation(t *testing.T) {
	needChromium(t)
	needPoppler(t)
	r := newRenderer(t, chromium.Config{Browsers: 1, TabsPerBrowser: 1})
	first := `{"html": "<p>first</p><script>localStorage.setItem('k', 'leak'); sessionStorage.setItem('k', 'leak'); document.cookie = 'c=leak'; window.name = 'leak';</script>"}`
	second := `{"html": "<p id=x>clean</p><script>if (localStorage.getItem('k') || sessionStorage.getItem('k') || document.cookie || window.name) { document.getElementById('x').textContent = 'leaked ' + document.cookie + window.name; }</script>"}`
	for i, js := range []string{first, second, first, second} {
		data, err := r.RenderPDF(context.Background(), pdfOptions(t, js))
		if err != nil {
			t.Fatal(err)
		}
		text, _, _, _ := pdfText(t, data)
		if i%2 == 1 && !strings.Contains(text, "clean") {
			t.Errorf("render %d: state leaked from the previous document: %q", i, text)
		}
	}
}

// TestWebFonts serves a font file from loopback through @font-face: the
// PDF embeds it, and disable_remote_fonts keeps it out.
func TestWebFonts(t *testing.T) {
	needChromium(t)
	needPoppler(t)
	if _, err := exec.LookPath("pdffonts"); err != nil {
		t.Skip("pdffonts not available")
	}
	var font string
	for _, pattern := range []string{"/usr/share/fonts/truetype/*/*BoldItalic.ttf", "/usr/share/fonts/truetype/*/*Mono*.ttf"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			font = m[0]
			break
		}
	}
	if font == "" {
		t.Skip("no TrueType font file to serve")
	}
	data, err := os.ReadFile(font)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "font/ttf")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(data)
	}))
	defer srv.Close()
	name := strings.TrimSuffix(filepath.Base(font), ".ttf")
	r := newRenderer(t, chromium.Config{AllowRequest: chromium.AllowLoopback})
	html := fmt.Sprintf(`{"html": "<style>@font-face { font-family: 'Served'; src: url('%s/f.ttf'); } p { font-family: 'Served', monospace; }</style><p>Almost before we knew it</p>"`, srv.URL)
	for _, tt := range []struct {
		name  string
		extra string
		want  bool
	}{
		{"loaded", `}`, true},
		{"disable_remote_fonts", `, "disable_remote_fonts": true}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf, err := r.RenderPDF(context.Background(), pdfOptions(t, html+tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "f.pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("pdffonts", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(out), name); got != tt.want {
				t.Errorf("font %s embedded = %v, want %v:\n%s", name, got, tt.want, out)
			}
		})
	}
}

func TestAllowPolicies(t *testing.T) {
	for _, tt := range []struct {
		url                    string
		loopback, http, public bool
	}{
		{"https://fonts.googleapis.com/css2", false, true, true},
		{"http://127.0.0.1:8080/x.js", true, true, false},
		{"http://localhost/x", true, true, false},
		{"http://app.localhost/x", false, true, false},
		{"http://[::1]/x", true, true, false},
		{"http://10.1.2.3/x", false, true, false},
		{"http://169.254.169.254/latest/meta-data", false, true, false},
		{"ftp://example.com/x", false, false, false},
		{"file:///etc/passwd", false, false, false},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := chromium.AllowLoopback(u); got != tt.loopback {
			t.Errorf("AllowLoopback(%s) = %v", tt.url, got)
		}
		if got := chromium.AllowHTTP(u); got != tt.http {
			t.Errorf("AllowHTTP(%s) = %v", tt.url, got)
		}
		if got := chromium.AllowPublicHTTP(u); got != tt.public {
			t.Errorf("AllowPublicHTTP(%s) = %v", tt.url, got)
		}
	}
}
