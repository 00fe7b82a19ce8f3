package filegen_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func spec(t *testing.T, js string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fetcher serves fixed bodies by URL.
type fetcher map[string]string

func (f fetcher) Fetch(_ context.Context, u string, limit int64) ([]byte, string, error) {
	b, ok := f[u]
	if !ok {
		return nil, "", action.Transient(errors.New("connection refused"))
	}
	if int64(len(b)) > limit {
		return nil, "", action.Failed(errors.New("too large"))
	}
	return []byte(b), "image/png", nil
}

// renderer records the options it was given.
type renderer struct{ got []*filegen.PDFOptions }

func (r *renderer) RenderPDF(_ context.Context, o *filegen.PDFOptions) ([]byte, error) {
	r.got = append(r.got, o)
	return []byte("%PDF-1.7 " + o.HTML), nil
}

func unzipAll(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func TestGenerate(t *testing.T) {
	r := &renderer{}
	g := &filegen.Generators{Fetcher: fetcher{"https://example.com/a.png": "PNGDATA"}, PDF: r}
	tests := []struct {
		name, file, spec string
		wantData         string
		wantType         string
	}{
		{"plaintext", "a.txt", `"hello\nworld"`, "hello\nworld", "text/plain"},
		{"plaintext csv", "t.csv", `"a,b\n1,2"`, "a,b\n1,2", "text/csv"},
		{"base64 standard", "b.bin", `{"base64": "aGVsbG8gd29ybGQh"}`, "hello world!", "application/octet-stream"},
		{"base64 unpadded url-safe with line breaks", "b.bin", `{"base64": "_-8\n"}`, "\xff\xef", "application/octet-stream"},
		{"url", "logo.png", `{"url": "https://example.com/a.png"}`, "PNGDATA", "image/png"},
		{"pdf", "x.pdf", `{"pdf": {"html": "<h1>x</h1>", "__force_pdfcrowd": true}}`, "%PDF-1.7 <h1>x</h1>", "application/pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := g.Generate(context.Background(), tt.file, spec(t, tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Data) != tt.wantData || f.Name != tt.file {
				t.Errorf("file = %q %q, want %q", f.Name, f.Data, tt.wantData)
			}
			if ct := filegen.ContentType(f); ct != tt.wantType {
				t.Errorf("content type = %q, want %q", ct, tt.wantType)
			}
			data, ct, err := g.GenerateContent(context.Background(), tt.file, spec(t, tt.spec))
			if err != nil || string(data) != tt.wantData || ct != tt.wantType {
				t.Errorf("GenerateContent = %q %q %v", data, ct, err)
			}
		})
	}
}

func TestZip(t *testing.T) {
	g := &filegen.Generators{Fetcher: fetcher{"https://example.com/a.png": "PNGDATA"}, PDF: &renderer{}}
	f, err := g.Generate(context.Background(), "outer.zip", spec(t, `{"zip": {"files": {
		"a.txt": "alpha",
		"dir/b.bin": {"base64": "AAEC"},
		"logo.png": {"url": "https://example.com/a.png"},
		"r.pdf": {"pdf": {"html": "<p>r</p>"}},
		"inner.zip": {"zip": {"files": {"c.txt": "gamma"}}}
	}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.ContentType != "application/zip" {
		t.Errorf("content type %q", f.ContentType)
	}
	got := unzipAll(t, f.Data)
	want := map[string]string{"a.txt": "alpha", "dir/b.bin": "\x00\x01\x02", "logo.png": "PNGDATA", "r.pdf": "%PDF-1.7 <p>r</p>"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("entry %s = %q, want %q", k, got[k], v)
		}
	}
	if inner := unzipAll(t, []byte(got["inner.zip"])); inner["c.txt"] != "gamma" {
		t.Errorf("nested zip = %v", inner)
	}
}

// TestZipPassword checks the ZipCrypto archive with Info-ZIP's unzip, an
// independent implementation.
func TestZipPassword(t *testing.T) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unzip is required in CI (Debian: apt-get install unzip)")
		}
		t.Skip("unzip not installed")
	}
	long := strings.Repeat("this data is protected with zipcrypto encryption\n", 200)
	f, err := (&filegen.Generators{}).Generate(context.Background(), "secure.zip", spec(t,
		`{"zip": {"password": "opensesame", "files": {"confirmations.txt": "`+strings.ReplaceAll(long, "\n", `\n`)+`", "empty.txt": "", "bin.dat": {"base64": "AP8A/w=="}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "secure.zip")
	if err := os.WriteFile(path, f.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(f.Data), int64(len(f.Data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range zr.File {
		if e.Flags&1 == 0 {
			t.Errorf("%s is not marked encrypted", e.Name)
		}
	}
	for _, tt := range []struct {
		name, password string
		ok             bool
	}{
		{"right password", "opensesame", true},
		{"wrong password", "letmein", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(unzip, "-P", tt.password, "-p", path, "confirmations.txt").CombinedOutput()
			if tt.ok && (err != nil || string(out) != long) {
				t.Fatalf("unzip: %v: %.200q", err, out)
			}
			if !tt.ok && err == nil {
				t.Fatalf("unzip accepted the wrong password: %.100q", out)
			}
		})
	}
	out, err := exec.Command(unzip, "-P", "opensesame", "-p", path, "bin.dat").Output()
	if err != nil || string(out) != "\x00\xff\x00\xff" {
		t.Errorf("bin.dat = %q, %v", out, err)
	}
	if out, err := exec.Command(unzip, "-P", "opensesame", "-t", path).CombinedOutput(); err != nil {
		t.Errorf("unzip -t: %v\n%s", err, out)
	}
}

func TestGenerateErrors(t *testing.T) {
	deep := `"x"`
	for range filegen.MaxZipDepth + 1 {
		deep = `{"zip": {"files": {"d": ` + deep + `}}}`
	}
	big := strings.Repeat("A", (filegen.MaxFileBytes/3+1)*4)
	tests := []struct {
		name string
		g    *filegen.Generators
		spec string
		want string
		kind action.Kind
	}{
		{"unknown generator", &filegen.Generators{}, `{"docx": "x"}`, `option "f.docx": unknown file generator "docx"`, action.KindInvalid},
		{"plaintext is implicit", &filegen.Generators{}, `{"plaintext": "x"}`, `unknown file generator "plaintext"`, action.KindInvalid},
		{"two keys", &filegen.Generators{}, `{"base64": "", "url": ""}`, "one key naming a file generator", action.KindInvalid},
		{"number", &filegen.Generators{}, `12`, "must be a string or a hash", action.KindInvalid},
		{"bad base64", &filegen.Generators{}, `{"base64": "!!"}`, "is not valid base64", action.KindInvalid},
		{"ftp url", &filegen.Generators{}, `{"url": "ftp://example.com/x"}`, "must start with http:// or https://", action.KindInvalid},
		{"zip without files", &filegen.Generators{}, `{"zip": {"password": "x"}}`, `option "f.zip.files": is required`, action.KindInvalid},
		{"zip password not string", &filegen.Generators{}, `{"zip": {"files": {}, "password": 1}}`, `option "f.zip.password"`, action.KindInvalid},
		{"zip too deep", &filegen.Generators{}, deep, "nested more than 8 levels", action.KindInvalid},
		{"bad nested", &filegen.Generators{}, `{"zip": {"files": {"a": {"nope": 1}}}}`, `option "f.zip.files.a.nope"`, action.KindInvalid},
		{"no fetcher", &filegen.Generators{}, `{"url": "https://example.com/"}`, "url file generator is not available", action.KindFailed},
		{"fetch fails", &filegen.Generators{Fetcher: fetcher{}}, `{"url": "https://example.com/"}`, "f.url: connection refused", action.KindTransient},
		{"no renderer", &filegen.Generators{}, `{"pdf": {"html": "x"}}`, "pdf file generator is not available", action.KindFailed},
		{"too large", &filegen.Generators{}, `{"base64": "` + big + `"}`, "more than the limit of 20971520", action.KindFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.g.Generate(context.Background(), "f", spec(t, tt.spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			if k := action.Classify(err); k != tt.kind {
				t.Errorf("kind = %v, want %v", k, tt.kind)
			}
		})
	}
}

func TestScopedNames(t *testing.T) {
	s := (&filegen.Generators{}).For("email", "attachments")
	_, err := s.Generate(context.Background(), "a.pdf", spec(t, `{"pdf": {}}`))
	if err == nil || err.Error() != `email action: option "attachments.a.pdf.pdf.html": is required` {
		t.Errorf("err = %v", err)
	}
	files, err := s.GenerateAll(context.Background(), spec(t, `{"b.txt": "B", "a.txt": "A"}`).(*value.Map))
	if err != nil || len(files) != 2 || files[0].Name != "b.txt" || string(files[1].Data) != "A" {
		t.Errorf("GenerateAll = %+v, %v", files, err)
	}
	if err := filegen.CheckAll("ftp", "uploads", spec(t, `{"x": {"zip": {"files": {"y": 1}}}}`).(*value.Map)); err == nil || !strings.Contains(err.Error(), `ftp action: option "uploads.x.zip.files.y"`) {
		t.Errorf("CheckAll = %v", err)
	}
}
