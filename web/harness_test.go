package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/server"
)

const testToken = "web-test-token"

// fakeClock is a settable clock for session expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEnv is a running service with the web UI on a loopback port.
type testEnv struct {
	t     *testing.T
	svc   *server.Service
	base  string
	clock *fakeClock
}

type envOptions struct {
	pipeline bool
	library  bool
	shopify  server.ShopifyConfig // a shop to connect, if any
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// startEnv opens a service in a temporary directory with the web UI and
// serves it on 127.0.0.1.
func startEnv(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	wo := Options{Now: clock.Now, Logger: quietLogger(), LibraryDir: t.TempDir()}
	if o.library {
		wo.LibraryDir = shared.For(t, "corpus", "mechanic-tasks", "tasks")
	}
	cfg := server.Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		Previewer: server.NewPreviewer(), UI: Factory(wo), Shopify: o.shopify,
	}
	if o.pipeline {
		cfg.NewPipeline = server.StandardPipeline(server.PipelineOptions{Workers: 2, Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})
	}
	svc, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		_ = svc.Close()
	})
	return &testEnv{t: t, svc: svc, base: "http://" + ln.Addr().String(), clock: clock}
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t    *testing.T
	env  *testEnv
	c    *http.Client
	csrf string
}

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, env: e, c: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its status and body; it remembers the
// page's CSRF token.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.env.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfInput.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// post submits a form (with the remembered CSRF token unless the form
// sets csrf) and returns status, Location and body.
func (b *browser) post(path string, form url.Values, header ...string) (int, string, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest("POST", b.env.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfInput.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// signIn signs the browser in with token.
func (b *browser) signIn(token string) (int, string, string) {
	b.t.Helper()
	b.get("/signin")
	return b.post("/signin", url.Values{"token": {token}, "next": {"/"}})
}

// mustSignIn signs in with the admin token and loads the home page.
func (b *browser) mustSignIn() {
	b.t.Helper()
	if st, loc, body := b.signIn(testToken); st != http.StatusSeeOther || loc != "/" {
		b.t.Fatalf("sign in: %d %q %s", st, loc, body)
	}
	if st, _ := b.get("/"); st != http.StatusOK {
		b.t.Fatalf("home after sign-in: %d", st)
	}
}
