package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

func TestSignIn(t *testing.T) {
	env := startEnv(t, envOptions{})
	tests := []struct {
		name       string
		token      string
		csrf       string // "" uses the form's token
		header     []string
		wantStatus int
		wantBody   string
	}{
		{name: "wrong token", token: "nope", wantStatus: http.StatusUnauthorized, wantBody: "That token is not valid"},
		{name: "empty token", token: "", wantStatus: http.StatusUnauthorized, wantBody: "That token is not valid"},
		{name: "stale form", token: testToken, csrf: "forged", wantStatus: http.StatusForbidden, wantBody: "form expired"},
		{name: "cross-site post", token: testToken, header: []string{"Origin", "https://evil.example"}, wantStatus: http.StatusForbidden, wantBody: "form expired"},
		{name: "admin token", token: testToken, wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := env.browser()
			b.get("/signin")
			form := url.Values{"token": {tt.token}, "next": {"/events"}}
			if tt.csrf != "" {
				form.Set("csrf", tt.csrf)
			}
			st, loc, body := b.post("/signin", form, tt.header...)
			if st != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", st, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
			u, _ := url.Parse(env.base)
			cookies := b.c.Jar.Cookies(u)
			has := false
			for _, c := range cookies {
				has = has || c.Name == sessionCookie
			}
			if has != (tt.wantStatus == http.StatusSeeOther) {
				t.Errorf("session cookie set = %v", has)
			}
			if st == http.StatusSeeOther && loc != "/events" {
				t.Errorf("redirect to %q, want /events", loc)
			}
		})
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	env := startEnv(t, envOptions{})
	tests := []struct {
		name       string
		header     []string
		wantSecure bool
	}{
		{name: "plain http on loopback", wantSecure: false},
		{name: "behind a TLS proxy", header: []string{"X-Forwarded-Proto", "https"}, wantSecure: true},
		{name: "plain http to a LAN address", header: []string{"Host", "192.168.1.5:8080"}, wantSecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := env.browser()
			b.get("/signin")
			form := url.Values{"token": {testToken}, "csrf": {b.csrf}}
			req, _ := http.NewRequest("POST", env.base+"/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
				if tt.header[i] == "Host" {
					req.Host = tt.header[i+1]
					req.Header.Set("Origin", "http://"+tt.header[i+1])
				}
			}
			u, _ := url.Parse(env.base + "/signin")
			for _, c := range b.c.Jar.Cookies(u) {
				req.AddCookie(c)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var sc *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == sessionCookie {
					sc = c
				}
			}
			if sc == nil {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("no session cookie (status %d) %s", resp.StatusCode, b)
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" || sc.Secure != tt.wantSecure {
				t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v", sc.HttpOnly, sc.SameSite, sc.Path, sc.Secure)
			}
			if sc.MaxAge != int(DefaultSessionTTL.Seconds()) {
				t.Errorf("MaxAge %d", sc.MaxAge)
			}
		})
	}
}

// TestCSRF checks that every kind of state change needs the session's
// CSRF token from the same origin, and that rejected posts change nothing.
func TestCSRF(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	b.mustSignIn()
	good := b.csrf
	tests := []struct {
		name   string
		csrf   string
		header []string
		want   int
	}{
		{name: "no token", csrf: "-", want: http.StatusForbidden},
		{name: "wrong token", csrf: "AAAA" + good[4:], want: http.StatusForbidden},
		{name: "token of the sign-in form", csrf: "x", want: http.StatusForbidden},
		{name: "right token from another origin", csrf: good, header: []string{"Origin", "http://attacker.example"}, want: http.StatusForbidden},
		{name: "right token in the htmx header", csrf: "", header: []string{csrfHeader, good}, want: http.StatusSeeOther},
		{name: "right token", csrf: good, want: http.StatusSeeOther},
	}
	created := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"name": {"CSRF probe " + tt.name}, "script": {"{% log 1 %}"}, "subscriptions_template": {"mechanic/user/trigger"}}
			switch tt.csrf {
			case "-":
				form.Set("csrf", "")
			case "":
				form.Set("csrf", "")
			default:
				form.Set("csrf", tt.csrf)
			}
			if tt.csrf == "" {
				delete(form, "csrf")
				b.csrf = ""
			}
			st, _, body := b.post("/tasks/new", form, tt.header...)
			b.csrf = good
			if st != tt.want {
				t.Fatalf("status %d, want %d: %s", st, tt.want, body)
			}
			if st == http.StatusSeeOther {
				created++
			}
			ts, _, err := env.svc.Store().ListTasks(context.Background(), store.TaskFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != created {
				t.Errorf("%d tasks stored, want %d", len(ts), created)
			}
		})
	}
	// Other state changes are guarded the same way.
	for _, path := range []string{"/settings/secrets", "/settings/webhooks", "/tasks/bulk", "/signout", "/console"} {
		st, _, _ := b.post(path, url.Values{"csrf": {"bad"}, "key": {"k"}, "value": {"v"}})
		if st != http.StatusForbidden {
			t.Errorf("POST %s with a bad token: %d, want 403", path, st)
		}
	}
	if list, _ := env.svc.Store().ListSettings(context.Background(), store.SettingSecret); len(list) != 0 {
		t.Errorf("a rejected post stored a secret")
	}
}

func TestSessionExpiryAndSignOut(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	b.mustSignIn()
	env.clock.Add(DefaultSessionTTL - 1)
	if st, _ := b.get("/settings"); st != http.StatusOK {
		t.Fatalf("before expiry: %d", st)
	}
	env.clock.Add(2)
	st, loc, _ := b.getRedirect("/settings")
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=%2Fsettings") {
		t.Fatalf("after expiry: %d %q, want a redirect to sign in", st, loc)
	}
	if st, _, _ := b.post("/settings/secrets", url.Values{"key": {"a"}, "value": {"b"}}); st != http.StatusUnauthorized {
		t.Errorf("post after expiry: %d, want 401", st)
	}
	// htmx requests are told to go to the sign-in page.
	req, _ := http.NewRequest("GET", env.base+"/events", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "/signin" {
		t.Errorf("htmx after expiry: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}

	b2 := env.browser()
	b2.mustSignIn()
	if st, loc, _ := b2.post("/signout", nil); st != http.StatusSeeOther || loc != "/signin" {
		t.Fatalf("sign out: %d %q", st, loc)
	}
	if st, _, _ := b2.getRedirect("/"); st != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want redirect", st)
	}
}

func (b *browser) getRedirect(path string) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.env.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), ""
}

// TestRevokedTokenEndsSession signs in with an API token and revokes it.
func TestRevokedTokenEndsSession(t *testing.T) {
	env := startEnv(t, envOptions{})
	tok, secret, err := env.svc.CreateAPIToken(context.Background(), "ui")
	if err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	if st, _, body := b.signIn(secret); st != http.StatusSeeOther {
		t.Fatalf("sign in with an API token: %d %s", st, body)
	}
	if st, _ := b.get("/"); st != http.StatusOK {
		t.Fatalf("home: %d", st)
	}
	if err := env.svc.RevokeAPIToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if st, loc, _ := b.getRedirect("/"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Errorf("after revoking the token: %d %q, want a redirect to sign in", st, loc)
	}
}

// TestSignInThrottle refuses sign-ins after many failures, for a minute.
func TestSignInThrottle(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	for i := range maxFailures {
		if st, _, _ := b.signIn("wrong"); st != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, st)
		}
	}
	if st, _, body := b.signIn(testToken); st != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("after %d failures: %d, want 429", maxFailures, st)
	}
	env.clock.Add(failureWindow + time.Second)
	if st, _, _ := b.signIn(testToken); st != http.StatusSeeOther {
		t.Errorf("after the window: %d", st)
	}
}
