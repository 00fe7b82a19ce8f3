package http_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// seen is what a test server received.
type seen struct {
	Method string
	Path   string
	Host   string
	Header http.Header
	Body   []byte
}

// recordingServer answers every request with respond after recording it.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, respond http.HandlerFunc) *recordingServer {
	t.Helper()
	rs := &recordingServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.reqs = append(rs.reqs, seen{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Header: r.Header.Clone(), Body: body})
		rs.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if respond != nil {
			respond(w, r)
		}
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) last(t *testing.T) seen {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.reqs) == 0 {
		t.Fatal("server received no request")
	}
	return rs.reqs[len(rs.reqs)-1]
}

func perform(t *testing.T, p *httpaction.Performer, options string) (*value.Map, error) {
	t.Helper()
	return performReq(t, p, action.Request{Type: "http", Options: mustJSON(t, options), RunID: "run-1", Attempt: 1})
}

func performReq(t *testing.T, p *httpaction.Performer, req action.Request) (*value.Map, error) {
	t.Helper()
	res, err := p.Perform(context.Background(), req)
	if err != nil {
		return nil, err
	}
	m, ok := res.Value.(*value.Map)
	if !ok {
		t.Fatalf("result is %T, want *value.Map", res.Value)
	}
	if err := action.CheckJSON(m); err != nil {
		t.Fatalf("result is not plain JSON: %v", err)
	}
	return m, nil
}

func get(t *testing.T, m *value.Map, key string) any {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Fatalf("result has no %q: %s", key, toJSON(t, m))
	}
	return v
}

// q builds an http action's options as JSON with the server URL filled in.
func q(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestRequestEncoding(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	u := srv.URL
	tests := []struct {
		name        string
		options     string
		method      string
		path        string
		contentType string // "-" means absent
		body        string
		headers     map[string][]string
	}{
		{"get", q(`{"method":"get","url":"%s/a?b=1&c=%%20"}`, u), "GET", "/a?b=1&c=%20", "-", "", nil},
		{"upper-case method", q(`{"method":"GET","url":"%s/"}`, u), "GET", "/", "-", "", nil},
		// docs: a hash or array body without Content-Type is JSON.
		{"json hash", q(`{"method":"post","url":"%s/p","body":{"b":1,"a":[true,null,1.5],"é":"ü"}}`, u), "POST", "/p", "application/json", `{"b":1,"a":[true,null,1.5],"é":"ü"}`, nil},
		{"json array", q(`{"method":"put","url":"%s/","body":[1,"two"]}`, u), "PUT", "/", "application/json", `[1,"two"]`, nil},
		{"json with explicit type", q(`{"method":"patch","url":"%s/","headers":{"Content-Type":"application/json; charset=utf-8"},"body":{"a":1}}`, u), "PATCH", "/", "application/json; charset=utf-8", `{"a":1}`, nil},
		{"lower-case content-type header name", q(`{"method":"post","url":"%s/","headers":{"content-type":"application/json"},"body":{"a":1}}`, u), "POST", "/", "application/json", `{"a":1}`, nil},
		{"hash with other type is JSON", q(`{"method":"post","url":"%s/","headers":{"Content-Type":"application/vnd.api+json"},"body":{"a":1}}`, u), "POST", "/", "application/vnd.api+json", `{"a":1}`, nil},
		// docs: form-encoded when Content-Type says so and body is a hash or array.
		{"form hash", q(`{"method":"post","url":"%s/","headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":{"text":"a b&c","n":1,"f":2.0,"t":true,"nil":null,"h":{"x":"1","y":{"z":2}},"list":["p","q"],"empty":[]}}`, u),
			"POST", "/", "application/x-www-form-urlencoded", "text=a+b%26c&n=1&f=2.0&t=true&nil=&h%5Bx%5D=1&h%5By%5D%5Bz%5D=2&list%5B%5D=p&list%5B%5D=q&empty%5B%5D=", nil},
		{"form pairs", q(`{"method":"post","url":"%s/","headers":{"Content-Type":"application/x-www-form-urlencoded; charset=UTF-8"},"body":[["a",1],["a",2]]}`, u),
			"POST", "/", "application/x-www-form-urlencoded; charset=UTF-8", "a=1&a=2", nil},
		{"string body as is", q(`{"method":"post","url":"%s/","headers":{"Content-Type":"text/csv"},"body":"a,b\n1,2\n"}`, u), "POST", "/", "text/csv", "a,b\n1,2\n", nil},
		{"string body without type", q(`{"method":"post","url":"%s/","body":"{\"raw\":true}"}`, u), "POST", "/", "-", `{"raw":true}`, nil},
		{"string body with form type", q(`{"method":"post","url":"%s/","headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":"a=1&b=2"}`, u), "POST", "/", "application/x-www-form-urlencoded", "a=1&b=2", nil},
		{"empty string body", q(`{"method":"delete","url":"%s/x","body":""}`, u), "DELETE", "/x", "-", "", nil},
		{"null body", q(`{"method":"post","url":"%s/","body":null}`, u), "POST", "/", "-", "", nil},
		{"number body", q(`{"method":"post","url":"%s/","body":42}`, u), "POST", "/", "-", "42", nil},
		{"options method", q(`{"method":"options","url":"%s/","body":""}`, u), "OPTIONS", "/", "-", "", nil},
		{"headers", q(`{"method":"get","url":"%s/","headers":{"X-One":"1","x-many":["a","b"],"X-Num":12,"X-Float":1.5,"X-Bool":false,"X-Null":null,"Authorization":"Basic Z3Vlc3Q6Z3Vlc3Q="}}`, u),
			"GET", "/", "-", "", map[string][]string{"X-One": {"1"}, "X-Many": {"a", "b"}, "X-Num": {"12"}, "X-Float": {"1.5"}, "X-Bool": {"false"}, "X-Null": nil, "Authorization": {"Basic Z3Vlc3Q6Z3Vlc3Q="}, "User-Agent": {httpaction.DefaultUserAgent}}},
		{"user agent override", q(`{"method":"get","url":"%s/","headers":{"user-agent":"mine/1.0"}}`, u), "GET", "/", "-", "", map[string][]string{"User-Agent": {"mine/1.0"}}},
		{"basic auth in url", q(`{"method":"get","url":"%s/"}`, strings.Replace(u, "http://", "http://guest:pw@", 1)), "GET", "/", "-", "", map[string][]string{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("guest:pw"))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := perform(t, p, tt.options)
			if err != nil {
				t.Fatalf("Perform: %v", err)
			}
			if st := get(t, res, "status"); st != int64(204) {
				t.Errorf("status = %v", st)
			}
			got := srv.last(t)
			if got.Method != tt.method || got.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, tt.method, tt.path)
			}
			ct, has := got.Header["Content-Type"]
			if tt.contentType == "-" {
				if has {
					t.Errorf("Content-Type = %q, want none", ct)
				}
			} else if got.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got.Header.Get("Content-Type"), tt.contentType)
			}
			if string(got.Body) != tt.body {
				t.Errorf("body = %q, want %q", got.Body, tt.body)
			}
			for k, want := range tt.headers {
				if g := got.Header.Values(k); fmt.Sprint(g) != fmt.Sprint(want) {
					t.Errorf("header %s = %q, want %q", k, g, want)
				}
			}
		})
	}
}

func TestHostHeader(t *testing.T) {
	srv := newServer(t, nil)
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	if _, err := perform(t, p, q(`{"method":"get","url":"%s/","headers":{"Host":"shop.example"}}`, srv.URL)); err != nil {
		t.Fatal(err)
	}
	if h := srv.last(t).Host; h != "shop.example" {
		t.Errorf("Host = %q", h)
	}
}

func TestHead(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "7")
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	res, err := perform(t, p, q(`{"method":"head","url":"%s/","body":""}`, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if st := get(t, res, "status"); st != int64(200) {
		t.Errorf("status = %v", st)
	}
	if b, b64 := get(t, res, "body"), get(t, res, "body_base64"); b != "" || b64 != "" {
		t.Errorf("body, body_base64 = %q, %q; want empty", b, b64)
	}
	hm := get(t, res, "headers").(*value.Map)
	if got := toJSON(t, get(t, hm, "content-length")) + toJSON(t, get(t, hm, "content-type")); got != `["7"]["application/json"]` {
		t.Errorf("headers = %s", toJSON(t, hm))
	}
}

func TestMultipart(t *testing.T) {
	type part struct {
		field, filename, contentType, data string
	}
	var mu sync.Mutex
	var parts []part
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/download.png" {
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n"))
			return
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			http.Error(w, "not multipart: "+r.Header.Get("Content-Type"), 400)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		mu.Lock()
		defer mu.Unlock()
		parts = nil
		for {
			pt, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			data, _ := io.ReadAll(pt)
			parts = append(parts, part{pt.FormName(), pt.FileName(), pt.Header.Get("Content-Type"), string(data)})
		}
		w.WriteHeader(201)
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	// docs: files combined with the body's key-value pairs; the Content-Type
	// set by the task is replaced by the multipart one.
	opts := q(`{"method":"post","url":"%s/upload","headers":{"Content-Type":"multipart/form-data"},
		"body":{"key":"tmp/abc/${filename}","policy":"xyz","n":5,"nested":{"a":"b"}},
		"files":{"file":"{\"id\":1}\n{\"id\":2}\n","data.bin":{"base64":"AAEC/w=="},"logo.png":{"url":"%s/download.png"},"report.CSV":"a,b\n","we\"ird.txt":{"base64":"aGk"}}}`, srv.URL, srv.URL)
	res, err := perform(t, p, opts)
	if err != nil {
		t.Fatalf("Perform: %v", err)
	}
	if st := get(t, res, "status"); st != int64(201) {
		t.Fatalf("status = %v, body %v", st, get(t, res, "body"))
	}
	want := []part{
		{"key", "", "", "tmp/abc/${filename}"},
		{"policy", "", "", "xyz"},
		{"n", "", "", "5"},
		{"nested[a]", "", "", "b"},
		{"file", "file", "application/octet-stream", "{\"id\":1}\n{\"id\":2}\n"},
		{"data.bin", "data.bin", "application/octet-stream", "\x00\x01\x02\xff"},
		{"logo.png", "logo.png", "image/png", "\x89PNG\r\n"},
		{"report.CSV", "report.CSV", "text/csv", "a,b\n"},
		{`we"ird.txt`, `we"ird.txt`, "text/plain", "hi"},
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprintf("%q", parts) != fmt.Sprintf("%q", want) {
		t.Errorf("parts =\n%q\nwant\n%q", parts, want)
	}
}

func TestMultipartZipAndErrors(t *testing.T) {
	var got []byte
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, _, err := r.FormFile("bundle.zip")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got, _ = io.ReadAll(f)
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	_, err := perform(t, p, q(`{"method":"post","url":"%s/","body":{},"files":{"bundle.zip":{"zip":{"files":{"a.txt":"hello","b/c.txt":{"base64":"d29ybGQ="}}}}}}`, srv.URL))
	if err != nil {
		t.Fatalf("Perform: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatalf("uploaded zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		names = append(names, f.Name+"="+string(data))
	}
	if fmt.Sprint(names) != "[a.txt=hello b/c.txt=world]" {
		t.Errorf("zip entries = %v", names)
	}

	notFound := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	unavailable := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	tests := []struct {
		name, files, wantErr string
		kind                 action.Kind
	}{
		{"pdf unavailable", `{"a.pdf":{"pdf":{"html":"<p>x</p>"}}}`, "pdf file generator is not available", action.KindFailed},
		{"download 404", q(`{"x":{"url":"%s/missing"}}`, notFound.URL), "received status 404", action.KindFailed},
		{"download 503", q(`{"x":{"url":"%s/later"}}`, unavailable.URL), "received status 503", action.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := perform(t, p, q(`{"method":"post","url":"%s/","body":{},"files":%s}`, srv.URL, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if k := action.Classify(err); k != tt.kind {
				t.Errorf("kind = %v, want %v", k, tt.kind)
			}
		})
	}
}

// fakeFiles is an injected FileGenerator.
type fakeFiles struct{}

func (fakeFiles) Generate(_ context.Context, name string, spec any) (httpaction.File, error) {
	if m, ok := spec.(*value.Map); ok && m.Has("pdf") {
		return httpaction.File{Name: name, ContentType: "application/pdf", Data: []byte("%PDF-fake")}, nil
	}
	return httpaction.File{}, action.Transient(errors.New("renderer busy"))
}

// bigFiles generates a file one byte over the limit.
type bigFiles struct{}

func (bigFiles) Generate(_ context.Context, name string, _ any) (httpaction.File, error) {
	return httpaction.File{Name: name, Data: make([]byte, httpaction.MaxFileBytes+1)}, nil
}

func TestFileSizeLimit(t *testing.T) {
	srv := newServer(t, nil)
	p := httpaction.New(httpaction.Config{Network: allowLoopback, Files: bigFiles{}})
	_, err := perform(t, p, q(`{"method":"post","url":"%s/","body":{},"files":{"big.bin":"x"}}`, srv.URL))
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 20971520") || action.Classify(err) != action.KindFailed {
		t.Fatalf("err = %v (%v)", err, action.Classify(err))
	}
	if len(srv.reqs) != 0 {
		t.Error("request sent despite an oversized file")
	}
}

func TestInjectedFileGenerator(t *testing.T) {
	var got string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, h, err := r.FormFile("invoice.pdf")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		data, _ := io.ReadAll(f)
		got = h.Header.Get("Content-Type") + " " + string(data)
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback, Files: fakeFiles{}})
	if _, err := perform(t, p, q(`{"method":"post","url":"%s/","body":{},"files":{"invoice.pdf":{"pdf":{"html":"<h1>x</h1>"}}}}`, srv.URL)); err != nil {
		t.Fatal(err)
	}
	if got != "application/pdf %PDF-fake" {
		t.Errorf("uploaded %q", got)
	}
	_, err := perform(t, p, q(`{"method":"post","url":"%s/","body":{},"files":{"a.txt":"x"}}`, srv.URL))
	if !action.Retryable(err) || !strings.Contains(err.Error(), "renderer busy") {
		t.Errorf("generator error = %v, want transient", err)
	}
}

func TestResponse(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			io.WriteString(w, `{"z":1,"a":[1.0,12345678901234567890,"x"],"n":null}`)
		case "/text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "héllo\n")
		case "/latin1":
			w.Header().Set("Content-Type", "text/plain; charset=ISO-8859-1")
			w.Write([]byte("caf\xe9"))
		case "/cp1252":
			w.Header().Set("Content-Type", "text/html; charset=windows-1252")
			w.Write([]byte("\x93quoted\x94 \x80"))
		case "/binary":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/badjson":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"truncated":`)
		case "/jsonlike":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, `{"a":1}`)
		case "/problem":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			io.WriteString(w, `{"title":"nope"}`)
		case "/empty-json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(202)
		case "/500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"down"}`)
		}
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	tests := []struct {
		path   string
		status int64
		body   string // JSON of the body result value
		b64    []byte
	}{
		{"/json", 200, `{"z":1,"a":[1.0,12345678901234567890,"x"],"n":null}`, []byte(`{"z":1,"a":[1.0,12345678901234567890,"x"],"n":null}`)},
		{"/text", 200, `"héllo\n"`, []byte("héllo\n")},
		{"/latin1", 200, `"café"`, []byte("caf\xe9")},
		{"/cp1252", 200, `"“quoted” €"`, []byte("\x93quoted\x94 \x80")},
		{"/binary", 200, "\"\ufffdPNG\\r\\n\\u001a\\n\\u0000\\u0000\\u0000\\rIHDR\ufffd\"", png},
		{"/badjson", 200, `"{\"truncated\":"`, []byte(`{"truncated":`)},
		{"/jsonlike", 200, `"{\"a\":1}"`, []byte(`{"a":1}`)},
		// docs: any valid HTTP response is a success, whatever its status.
		{"/problem", 404, `"{\"title\":\"nope\"}"`, []byte(`{"title":"nope"}`)},
		{"/empty-json", 202, `""`, nil},
		{"/500", 503, `{"error":"down"}`, []byte(`{"error":"down"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := perform(t, p, q(`{"method":"get","url":"%s%s"}`, srv.URL, tt.path))
			if err != nil {
				t.Fatalf("Perform: %v", err)
			}
			if keys := fmt.Sprint(res.Keys()); keys != "[status headers body body_base64]" {
				t.Errorf("result keys = %s", keys)
			}
			if st := get(t, res, "status"); st != tt.status {
				t.Errorf("status = %v, want %d", st, tt.status)
			}
			if b := toJSON(t, get(t, res, "body")); b != tt.body {
				t.Errorf("body = %s, want %s", b, tt.body)
			}
			if b := get(t, res, "body_base64"); b != base64.StdEncoding.EncodeToString(tt.b64) {
				t.Errorf("body_base64 = %v", b)
			}
			hm := get(t, res, "headers").(*value.Map)
			keys := hm.Keys()
			for i, k := range keys {
				if k != strings.ToLower(k) || (i > 0 && keys[i-1] >= k) {
					t.Errorf("header names not lower-case and sorted: %v", keys)
				}
				if _, ok := get(t, hm, k).([]any); !ok {
					t.Errorf("header %s is not an array", k)
				}
			}
		})
	}
	res, err := perform(t, p, q(`{"method":"get","url":"%s/json"}`, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	hm := get(t, res, "headers").(*value.Map)
	if got := toJSON(t, get(t, hm, "set-cookie")); got != `["a=1","b=2"]` {
		t.Errorf("set-cookie = %s", got)
	}
	if got := toJSON(t, get(t, hm, "content-type")); got != `["application/json; charset=utf-8"]` {
		t.Errorf("content-type = %s", got)
	}
}

func TestErrorOn5xx(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		code := 200
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		w.WriteHeader(code)
		io.WriteString(w, "status body")
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	tests := []struct {
		name     string
		path     string
		flag     string
		wantKind action.Kind
	}{
		{"500 default is success", "/500", "", action.KindNone},
		{"500 flag false", "/500", `,"error_on_5xx":false`, action.KindNone},
		{"500 with flag", "/500", `,"error_on_5xx":true`, action.KindTransient},
		{"599 with string flag", "/599", `,"error_on_5xx":"true"`, action.KindTransient},
		{"404 with flag", "/404", `,"error_on_5xx":true`, action.KindNone},
		{"499 with flag", "/499", `,"error_on_5xx":true`, action.KindNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := perform(t, p, q(`{"method":"get","url":"%s%s"%s}`, srv.URL, tt.path, tt.flag))
			if k := action.Classify(err); k != tt.wantKind {
				t.Fatalf("kind = %v (%v), want %v", k, err, tt.wantKind)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), "received status "+strings.TrimPrefix(tt.path, "/")) {
				t.Errorf("error = %v", err)
			}
			if res != nil {
				t.Error("failed run returned a result value")
			}
			r, ok := action.ResultOf(err)
			if !ok {
				t.Fatal("no result attached to the 5xx error")
			}
			m := r.Value.(*value.Map)
			if st, _ := m.Get("status"); fmt.Sprint(st) != strings.TrimPrefix(tt.path, "/") {
				t.Errorf("attached status = %v", st)
			}
			if b, _ := m.Get("body"); b != "status body" {
				t.Errorf("attached body = %v", b)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, "/middle", http.StatusFound)
		case "/middle":
			http.Redirect(w, r, "/end?x=1", http.StatusMovedPermanently)
		case "/end":
			io.WriteString(w, "arrived "+r.Method+" "+r.URL.RawQuery)
		case "/keep":
			http.Redirect(w, r, "/end", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback, MaxRedirects: 5})
	tests := []struct {
		name, options string
		status        int64
		body          string
		location      string
		wantErr       string
	}{
		{"followed by default", q(`{"method":"get","url":"%s/start"}`, srv.URL), 200, "arrived GET x=1", "", ""},
		{"followed when true", q(`{"method":"get","url":"%s/start","follow_redirects":true}`, srv.URL), 200, "arrived GET x=1", "", ""},
		{"307 keeps method", q(`{"method":"post","url":"%s/keep","body":"b"}`, srv.URL), 200, "arrived POST ", "", ""},
		{"not followed", q(`{"method":"get","url":"%s/start","follow_redirects":false}`, srv.URL), 302, `<a href="/middle">Found</a>.` + "\n\n", "/middle", ""},
		{"not followed string flag", q(`{"method":"get","url":"%s/loop","follow_redirects":"false"}`, srv.URL), 302, `<a href="/loop">Found</a>.` + "\n\n", "/loop", ""},
		{"loop", q(`{"method":"get","url":"%s/loop"}`, srv.URL), 0, "", "", "stopped after 5 redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := perform(t, p, tt.options)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if action.Classify(err) != action.KindFailed {
					t.Errorf("kind = %v, want failed", action.Classify(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st := get(t, res, "status"); st != tt.status {
				t.Errorf("status = %v, want %d", st, tt.status)
			}
			if b := get(t, res, "body"); b != tt.body {
				t.Errorf("body = %q, want %q", b, tt.body)
			}
			if tt.location != "" {
				loc := toJSON(t, get(t, get(t, res, "headers").(*value.Map), "location"))
				if loc != `["`+tt.location+`"]` {
					t.Errorf("location = %s", loc)
				}
			}
		})
	}
}

func TestTLSVerify(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure hello")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	tests := []struct {
		name, verify string
		wantErr      string
	}{
		{"verified by default", ``, "TLS certificate verification failed"},
		{"verify true", `,"verify":true`, "TLS certificate verification failed"},
		{"verify false", `,"verify":false`, ""},
		{"verify false string", `,"verify":"false"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := perform(t, p, q(`{"method":"get","url":"%s/"%s}`, srv.URL, tt.verify))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if action.Classify(err) != action.KindFailed {
					t.Errorf("kind = %v", action.Classify(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := get(t, res, "body"); b != "secure hello" {
				t.Errorf("body = %v", b)
			}
		})
	}
	// An injected transport that trusts the test certificate verifies it.
	trusted := httpaction.New(httpaction.Config{Transport: srv.Client().Transport})
	if _, err := perform(t, trusted, q(`{"method":"get","url":"%s/"}`, srv.URL)); err != nil {
		t.Errorf("trusted transport: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	p := httpaction.New(httpaction.Config{Network: allowLoopback, Timeout: 50 * time.Millisecond})
	_, err := perform(t, p, q(`{"method":"get","url":"%s/slow"}`, srv.URL))
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if !action.Retryable(err) {
		t.Errorf("timeout kind = %v, want transient", action.Classify(err))
	}

	// The caller's cancellation is transient too, and reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = httpaction.New(httpaction.Config{Network: allowLoopback}).Perform(ctx, action.Request{Type: "http", Options: mustJSON(t, q(`{"method":"get","url":"%s/"}`, srv.URL))})
	if !errors.Is(err, context.Canceled) || !action.Retryable(err) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			for range 4 {
				w.Write(bytes.Repeat([]byte("x"), 512))
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", r.URL.Query().Get("n"))
		w.Write(bytes.Repeat([]byte("y"), mustAtoi(t, r.URL.Query().Get("n"))))
	})
	p := httpaction.New(httpaction.Config{Network: allowLoopback, MaxResponseBytes: 1024})
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/sized?n=1024", ""},
		{"/sized?n=1025", "Content-Length 1025 exceeds the limit of 1024 bytes"},
		{"/chunked", "more than the limit of 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := perform(t, p, q(`{"method":"get","url":"%s%s"}`, srv.URL, tt.path))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(get(t, res, "body").(string)); n != 1024 {
					t.Errorf("body length %d", n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "response body too large") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if action.Classify(err) != action.KindFailed {
				t.Errorf("kind = %v", action.Classify(err))
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Errorf("atoi %q: %v", s, err)
	}
	return n
}

func TestConnectionErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	_, err = perform(t, p, q(`{"method":"get","url":"http://%s/"}`, addr))
	if err == nil || !action.Retryable(err) {
		t.Fatalf("connection refused: err = %v (%v), want transient", err, action.Classify(err))
	}

	// A server that hangs up without answering.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = perform(t, p, q(`{"method":"get","url":"http://%s/"}`, hang.Addr()))
	if err == nil || !action.Retryable(err) {
		t.Fatalf("hang-up: err = %v, want transient", err)
	}
}

// roundTripFunc is an injected non-*http.Transport RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestInjectedRoundTripper(t *testing.T) {
	var gotURL string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		gotURL = r.Method + " " + r.URL.String()
		return &http.Response{
			StatusCode: 418, Status: "418 I'm a teapot",
			Header:  http.Header{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}},
			Body:    io.NopCloser(strings.NewReader(`{"short":"stout"}`)),
			Request: r,
		}, nil
	})
	p := httpaction.New(httpaction.Config{Transport: rt})
	res, err := perform(t, p, `{"method":"delete","url":"https://api.example/items/1","body":""}`)
	if err != nil {
		t.Fatal(err)
	}
	if gotURL != "DELETE https://api.example/items/1" {
		t.Errorf("request = %s", gotURL)
	}
	want := `{"status":418,"headers":{"content-type":["application/json"],"x-multi":["1","2"]},"body":{"short":"stout"},"body_base64":"eyJzaG9ydCI6InN0b3V0In0="}`
	if got := toJSON(t, res); got != want {
		t.Errorf("result =\n%s\nwant\n%s", got, want)
	}
	for _, opt := range []string{`"verify":false`, `"proxy":"http://proxy.example:8080"`} {
		_, err := perform(t, p, `{"method":"get","url":"https://api.example/",`+opt+`}`)
		if err == nil || !strings.Contains(err.Error(), "not supported by the configured transport") {
			t.Errorf("%s: err = %v", opt, err)
		}
	}
}
