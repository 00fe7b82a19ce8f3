package files_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/action/files"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*files.Performer, *httptest.Server, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st, err := files.NewStore(files.StoreConfig{Dir: t.TempDir(), TTL: time.Hour, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(files.Handler{Store: st})
	t.Cleanup(srv.Close)
	p, err := files.New(files.Config{
		Store:      st,
		Generators: &filegen.Generators{Fetcher: httpaction.New(httpaction.Config{Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})},
		BaseURL:    srv.URL + "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, srv, c
}

func perform(t *testing.T, p *files.Performer, options string) (*value.Map, error) {
	t.Helper()
	opts, err := value.FromJSON([]byte(options))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(opts); err != nil {
		return nil, err
	}
	res, err := p.Perform(context.Background(), action.Request{Type: files.Type, Options: opts, RunID: "r1"})
	if err != nil {
		return nil, err
	}
	if err := action.CheckJSON(res.Value); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	return res.Value.(*value.Map), nil
}

func get(t *testing.T, rawURL string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func field(m *value.Map, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(*value.Map)
		if !ok {
			return nil
		}
		v, _ = mm.Get(k)
	}
	return v
}

func TestFilesAction(t *testing.T) {
	img := []byte("\x89PNG\r\n\x1a\nfake image bytes \x00\xff")
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	}))
	defer remote.Close()
	p, _, _ := setup(t)
	// The docs' example, without pdf (tested in package chromium) and with a
	// loopback URL.
	res, err := perform(t, p, `{
		"journal.txt": "hello world!",
		"table.csv": "Title,SKU\nRed T-Shirt,TEE-R",
		"secure.zip": {"zip": {"password": "opensesame", "files": {"confirmations.txt": "this data is protected with zipcrypto encryption"}}},
		"external.png": {"url": "`+remote.URL+`/logo.png"},
		"raw.bin": {"base64": "`+base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255})+`"},
		"odd name?.txt": "x"
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Keys(), ","); got != "journal.txt,table.csv,secure.zip,external.png,raw.bin,odd name?.txt" {
		t.Errorf("result keys = %s", got)
	}
	tests := []struct {
		name, mime string
		data       []byte
	}{
		{"journal.txt", "text/plain", []byte("hello world!")},
		{"table.csv", "text/csv", []byte("Title,SKU\nRed T-Shirt,TEE-R")},
		{"external.png", "image/png", img},
		{"raw.bin", "application/octet-stream", []byte{0, 1, 2, 255}},
		{"odd name?.txt", "text/plain", []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := res.Get(tt.name)
			m := e.(*value.Map)
			if got := strings.Join(m.Keys(), ","); got != "expires_at,mime_type,name,size,url" {
				t.Errorf("keys = %s", got)
			}
			if v := field(m, "expires_at"); v != "2026-03-01T13:00:00Z" {
				t.Errorf("expires_at = %v", v)
			}
			if v := field(m, "mime_type"); v != tt.mime {
				t.Errorf("mime_type = %v, want %s", v, tt.mime)
			}
			if v := field(m, "name"); v != tt.name {
				t.Errorf("name = %v", v)
			}
			if v := field(m, "size"); v != int64(len(tt.data)) {
				t.Errorf("size = %v, want %d", v, len(tt.data))
			}
			u := field(m, "url").(string)
			code, h, body := get(t, u)
			if code != 200 || !bytes.Equal(body, tt.data) {
				t.Fatalf("GET %s = %d %q, want %q", u, code, body, tt.data)
			}
			if ct := h.Get("Content-Type"); ct != tt.mime {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
	// The zip is a real archive whose entry is encrypted.
	u := field(res, "secure.zip", "url").(string)
	_, _, body := get(t, u)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "confirmations.txt" || zr.File[0].Flags&1 == 0 {
		t.Errorf("zip entries: %+v", zr.File)
	}
}

func TestTokensAndExpiry(t *testing.T) {
	p, srv, c := setup(t)
	res, err := perform(t, p, `{"a.txt": "A", "b.txt": "B"}`)
	if err != nil {
		t.Fatal(err)
	}
	ua := field(res, "a.txt", "url").(string)
	ub := field(res, "b.txt", "url").(string)
	tokA := strings.Split(strings.TrimPrefix(ua, srv.URL+files.PathPrefix), "/")[0]
	tokB := strings.Split(strings.TrimPrefix(ub, srv.URL+files.PathPrefix), "/")[0]
	if len(tokA) != 43 || tokA == tokB {
		t.Fatalf("tokens %q %q: want distinct 43-character tokens", tokA, tokB)
	}
	for _, tt := range []struct {
		name, url string
		want      int
	}{
		{"right", ua, 200},
		{"wrong name", srv.URL + files.PathPrefix + tokA + "/b.txt", 404},
		{"other token", srv.URL + files.PathPrefix + tokB + "/a.txt", 404},
		{"unknown token", srv.URL + files.PathPrefix + strings.Repeat("A", 43) + "/a.txt", 404},
		{"traversal", srv.URL + files.PathPrefix + "..%2F..%2Fetc/passwd", 404},
		{"no name", srv.URL + files.PathPrefix + tokA, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := get(t, tt.url); code != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.url, code, tt.want)
			}
		})
	}
	c.t = c.t.Add(time.Hour)
	if code, _, _ := get(t, ua); code != 404 {
		t.Errorf("expired file served: %d", code)
	}
}

func TestErrors(t *testing.T) {
	p, _, _ := setup(t)
	big := base64.StdEncoding.EncodeToString(make([]byte, filegen.MaxFileBytes+1))
	for _, tt := range []struct {
		name, options, want string
		kind                action.Kind
	}{
		{"not a hash", `["a"]`, "must be a hash of filenames", action.KindInvalid},
		{"unknown generator", `{"a.txt": {"docx": "x"}}`, `option "a.txt.docx": unknown file generator`, action.KindInvalid},
		{"bad base64", `{"a.bin": {"base64": "%%%"}}`, `option "a.bin.base64": is not valid base64`, action.KindInvalid},
		{"url scheme", `{"a.bin": {"url": "file:///etc/passwd"}}`, `must start with http:// or https://`, action.KindInvalid},
		{"pdf without html", `{"a.pdf": {"pdf": {}}}`, `option "a.pdf.pdf.html": is required`, action.KindInvalid},
		{"pdf unknown option", `{"a.pdf": {"pdf": {"html": "x", "page_sise": "A4"}}}`, `option "a.pdf.pdf.page_sise": is not a PDF option`, action.KindInvalid},
		{"pdf without renderer", `{"a.pdf": {"pdf": {"html": "x"}}}`, `pdf file generator is not available`, action.KindFailed},
		{"over 20 MB", `{"big.bin": {"base64": "` + big + `"}}`, "more than the limit of 20971520", action.KindFailed},
		{"unreachable url", `{"a.bin": {"url": "http://127.0.0.1:1/x"}}`, "a.bin.url", action.KindTransient},
		{"url refused by the network policy", `{"a.bin": {"url": "http://10.0.0.1/x"}}`, "network policy", action.KindFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := perform(t, p, tt.options)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			if k := action.Classify(err); k != tt.kind {
				t.Errorf("kind = %v, want %v", k, tt.kind)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st, err := files.NewStore(files.StoreConfig{Dir: t.TempDir(), TTL: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.Put(context.Background(), "a.txt", "text/plain", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.Prune(); err != nil || n != 0 {
		t.Fatalf("prune before expiry = %d, %v", n, err)
	}
	c.t = c.t.Add(2 * time.Minute)
	if n, err := st.Prune(); err != nil || n != 1 {
		t.Fatalf("prune after expiry = %d, %v", n, err)
	}
	if _, _, err := st.Open(f.Token); err != files.ErrNotFound {
		t.Errorf("open pruned file: %v", err)
	}
}
