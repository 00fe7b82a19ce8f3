package http_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// proxyHandler answers proxied plain-HTTP requests itself, reporting what
// it was asked.
func proxyHandler(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "proxied %s %s auth=%q", r.Method, r.RequestURI, r.Header.Get("Proxy-Authorization"))
}

func TestHTTPProxy(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(proxyHandler))
	defer proxy.Close()
	tlsProxy := httptest.NewUnstartedServer(http.HandlerFunc(proxyHandler))
	tlsProxy.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsProxy.StartTLS()
	defer tlsProxy.Close()

	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	withAuth := strings.Replace(proxy.URL, "http://", "http://user:p%40ss@", 1)
	tests := []struct {
		name, options, body string
	}{
		{"http proxy", q(`{"method":"get","url":"http://target.example/path?q=1","proxy":%q}`, proxy.URL),
			`proxied GET http://target.example/path?q=1 auth=""`},
		{"http proxy with credentials", q(`{"method":"post","url":"http://target.example/","body":"x","proxy":%q}`, withAuth),
			`proxied POST http://target.example/ auth="Basic dXNlcjpwQHNz"`},
		// An https:// proxy is reached over TLS; verify false also covers
		// the proxy's certificate.
		{"https proxy", q(`{"method":"get","url":"http://target.example/","proxy":%q,"verify":false}`, tlsProxy.URL),
			`proxied GET http://target.example/ auth=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := perform(t, p, tt.options)
			if err != nil {
				t.Fatal(err)
			}
			if b := get(t, res, "body"); b != tt.body {
				t.Errorf("body = %q, want %q", b, tt.body)
			}
		})
	}
	// Without the option, the same performer goes direct.
	direct := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "direct") })
	res, err := perform(t, p, q(`{"method":"get","url":"%s/"}`, direct.URL))
	if err != nil || get(t, res, "body") != "direct" {
		t.Errorf("direct request: %v %v", res, err)
	}
}

// socks5Server is a minimal RFC 1928 SOCKS5 server with RFC 1929
// username/password authentication, for tests.
type socks5Server struct {
	ln       net.Listener
	user, pw string
	mu       sync.Mutex
	targets  []string
}

func newSocks5(t *testing.T, user, pw string) *socks5Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln, user: user, pw: pw}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *socks5Server) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	read := func(n int) ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		return b, err
	}
	hdr, err := read(2)
	if err != nil || hdr[0] != 5 {
		return
	}
	methods, err := read(int(hdr[1]))
	if err != nil {
		return
	}
	if s.user != "" {
		if !strings.Contains(string(methods), "\x02") {
			c.Write([]byte{5, 0xff})
			return
		}
		c.Write([]byte{5, 2})
		v, _ := read(2)
		u, _ := read(int(v[1]))
		pl, _ := read(1)
		pw, _ := read(int(pl[0]))
		if string(u) != s.user || string(pw) != s.pw {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	} else {
		c.Write([]byte{5, 0})
	}
	req, err := read(4)
	if err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		b, _ := read(4)
		host = net.IP(b).String()
	case 3:
		l, _ := read(1)
		b, _ := read(int(l[0]))
		host = string(b)
	case 4:
		b, _ := read(16)
		host = net.IP(b).String()
	}
	pb, _ := read(2)
	target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(pb))))
	s.mu.Lock()
	s.targets = append(s.targets, target)
	s.mu.Unlock()
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	go io.Copy(up, br)
	io.Copy(c, up)
}

func TestSocks5Proxy(t *testing.T) {
	target := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "through socks") })
	socks := newSocks5(t, "user", "secret")
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	res, err := perform(t, p, q(`{"method":"get","url":"%s/x","proxy":"socks5://user:secret@%s"}`, target.URL, socks.ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if b := get(t, res, "body"); b != "through socks" {
		t.Errorf("body = %v", b)
	}
	socks.mu.Lock()
	got := fmt.Sprint(socks.targets)
	socks.mu.Unlock()
	if want := "[" + strings.TrimPrefix(target.URL, "http://") + "]"; got != want {
		t.Errorf("socks targets = %s, want %s", got, want)
	}
	_, err = perform(t, p, q(`{"method":"get","url":"%s/x","proxy":"socks5://user:wrong@%s"}`, target.URL, socks.ln.Addr()))
	if err == nil {
		t.Fatal("wrong socks credentials succeeded")
	}
}

// fakeSecrets replaces "[[secret:name]]" inside strings with the named
// secret, as a shop's secret store would.
type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(_ context.Context, v any) (any, bool, error) {
	used := false
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			for name, val := range f {
				ref := "[[secret:" + name + "]]"
				if strings.Contains(x, ref) {
					x = strings.ReplaceAll(x, ref, val)
					used = true
				}
			}
			if strings.Contains(x, "[[secret:") {
				return nil, errors.New("unknown secret")
			}
			return x, nil
		case *value.Map:
			out := value.NewMap(x.Len())
			for _, k := range x.Keys() {
				e, _ := x.Get(k)
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				out.Set(k, r)
			}
			return out, nil
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				out[i] = r
			}
			return out, nil
		}
		return v, nil
	}
	r, err := walk(v)
	return r, used, err
}

func TestSecrets(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
		io.WriteString(w, "ok")
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	secrets := fakeSecrets{"token": "s3cr3t", "path": "hidden"}
	req := func(opts string) action.Request {
		return action.Request{Type: "http", Options: mustJSON(t, opts), Secrets: secrets}
	}

	// docs: secrets in url, headers and body are resolved before sending;
	// body_base64 is redacted when any secret was used.
	opts := q(`{"method":"post","url":"%s/[[secret:path]]","headers":{"Authorization":"Bearer [[secret:token]]"},"body":{"password":"[[secret:token]]"}}`, srv.URL)
	res, err := performReq(t, p, req(opts))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if got.Path != "/hidden" || got.Header.Get("Authorization") != "Bearer s3cr3t" || string(got.Body) != `{"password":"s3cr3t"}` {
		t.Errorf("server saw %s %q %s", got.Path, got.Header.Get("Authorization"), got.Body)
	}
	if b64 := get(t, res, "body_base64"); b64 != httpaction.RedactedValue {
		t.Errorf("body_base64 = %v, want redacted", b64)
	}
	if b := get(t, res, "body"); b != "ok" {
		t.Errorf("body = %v", b)
	}

	// Without secrets nothing is redacted.
	res, err = performReq(t, p, req(q(`{"method":"get","url":"%s/plain"}`, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	if b64 := get(t, res, "body_base64"); b64 != "b2s=" {
		t.Errorf("body_base64 = %v", b64)
	}

	// Error messages show the URL as written, never the resolved secret.
	_, err = performReq(t, p, req(q(`{"method":"get","url":"%s/fail?key=[[secret:token]]","error_on_5xx":true}`, srv.URL)))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "[[secret:token]]") {
		t.Errorf("5xx error = %v", err)
	}
	if r, ok := action.ResultOf(err); !ok || get(t, r.Value.(*value.Map), "body_base64") != httpaction.RedactedValue {
		t.Errorf("attached result not redacted: %v", r.Value)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err = performReq(t, p, req(q(`{"method":"get","url":"http://%s/?key=[[secret:token]]"}`, addr)))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("connection error leaks the secret: %v", err)
	}

	// docs: validation runs after resolution, so a resolved value that is
	// invalid still fails, naming the option.
	bad := fakeSecrets{"token": "a\r\nInjected: 1"}
	_, err = p.Perform(context.Background(), action.Request{Type: "http", Secrets: bad,
		Options: mustJSON(t, q(`{"method":"get","url":"%s/","headers":{"X-Key":"[[secret:token]]"}}`, srv.URL))})
	var ve *action.ValidationError
	if !errors.As(err, &ve) || ve.Field != "headers.X-Key" {
		t.Errorf("invalid resolved header: %v", err)
	}
	_, err = performReq(t, p, req(q(`{"method":"get","url":"%s/[[secret:missing]]"}`, srv.URL)))
	if err == nil || !strings.Contains(err.Error(), "unknown secret") {
		t.Errorf("resolver error = %v", err)
	}
}

// redactingSecrets also removes raw secret values from text.
type redactingSecrets struct{ fakeSecrets }

func (r redactingSecrets) Redact(s string) string {
	for _, v := range r.fakeSecrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

func TestSecretRedaction(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/fail" {
			w.WriteHeader(502)
		}
		fmt.Fprintf(w, `{"you_sent":%q}`, r.Header.Get("Authorization"))
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	secrets := redactingSecrets{fakeSecrets{"token": "s3cr3t"}}
	for _, path := range []string{"/ok", "/fail"} {
		opts := q(`{"method":"get","url":"%s%s","headers":{"Authorization":"Bearer [[secret:token]]"},"error_on_5xx":true}`, srv.URL, path)
		res, err := p.Perform(context.Background(), action.Request{Type: "http", Options: mustJSON(t, opts), Secrets: secrets})
		if path == "/fail" {
			if !action.Retryable(err) {
				t.Fatalf("5xx: err = %v, want transient", err)
			}
			res, _ = action.ResultOf(err)
		} else if err != nil {
			t.Fatal(err)
		}
		got := toJSON(t, res.Value)
		if strings.Contains(got, "s3cr3t") || !strings.Contains(got, `"x-echo":["Bearer [redacted]"]`) || !strings.Contains(got, `"body":{"you_sent":"Bearer [redacted]"}`) {
			t.Errorf("%s: result not redacted: %s", path, got)
		}
		if srv.last(t).Header.Get("Authorization") != "Bearer s3cr3t" {
			t.Errorf("%s: server did not get the secret", path)
		}
	}
}
