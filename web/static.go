package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// asset is an embedded static file, kept with its gzip form.
type asset struct {
	body, gz []byte
	ctype    string
	version  string // first hex digits of its SHA-256
}

// assets serves the embedded static files: gzip when the browser accepts
// it, and cacheable for a year when asked for by their versioned URL
// (see assetURL), since the version changes with the content.
type assets struct {
	files map[string]*asset
	start time.Time
}

// loadAssets reads and compresses every file under static/.
func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}, start: time.Now()}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		x := &asset{body: b, version: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(p))}
		if x.ctype == "" {
			x.ctype = "application/octet-stream"
		}
		if strings.HasPrefix(x.ctype, "text/") || strings.Contains(x.ctype, "javascript") || strings.Contains(x.ctype, "svg") {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			if _, err := zw.Write(b); err != nil {
				return fmt.Errorf("compress %s: %w", p, err)
			}
			if err := zw.Close(); err != nil {
				return fmt.Errorf("compress %s: %w", p, err)
			}
			x.gz = buf.Bytes()
		}
		a.files[strings.TrimPrefix(p, "static/")] = x
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	return a, nil
}

// url returns the versioned URL of a static file.
func (a *assets) url(name string) string {
	if x := a.files[name]; x != nil {
		return "/static/" + name + "?v=" + x.version
	}
	return "/static/" + name
}

// ServeHTTP serves /static/<name>.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := a.files[strings.TrimPrefix(r.URL.Path, "/static/")]
	if x == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", x.ctype)
	h.Set("ETag", `"`+x.version+`"`)
	h.Add("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == x.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if r.Header.Get("If-None-Match") == `"`+x.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := x.body
	if x.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body = x.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
