package http

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// MaxFileBytes is the largest file a file generator may produce (20 MB, as
// Mechanic documents in core/actions/file-generators/README.md).
const MaxFileBytes = 20 << 20

// File is a generated file, ready to be uploaded.
type File struct {
	// Name is the file name, e.g. "report.csv".
	Name string
	// ContentType is its media type; empty means derive it from Name.
	ContentType string
	// Data is the file's content.
	Data []byte
}

// FileGenerator produces the file described by a file generator spec: a
// string (plaintext) or a one-key hash such as {"base64": "..."},
// {"url": "https://..."}, {"zip": {"files": {...}}} or {"pdf": {...}}.
// Errors should be classified with package action (Transient for network
// failures, a *ValidationError for bad specs).
type FileGenerator interface {
	Generate(ctx context.Context, filename string, spec any) (File, error)
}

// generatorNames are the documented file generator types.
var generatorNames = []string{"base64", "pdf", "url", "zip"}

const maxZipDepth = 8

// checkFileGenerators checks the shape of a hash of filenames to file
// generators, so bad specs fail when the task run is validated.
func checkFileGenerators(field string, files *value.Map, depth int) error {
	if depth > maxZipDepth {
		return invalid(field, "zip files are nested more than %d levels deep", maxZipDepth)
	}
	var err error
	files.Each(func(name string, spec any) bool {
		err = checkFileGenerator(field+"."+name, name, spec, depth)
		return err == nil
	})
	return err
}

func checkFileGenerator(field, name string, spec any, depth int) error {
	if name == "" || strings.ContainsAny(name, "\x00\r\n") {
		return invalid(field, "is not a valid filename")
	}
	if _, ok := spec.(string); ok {
		return nil // plaintext
	}
	m, ok := spec.(*value.Map)
	if !ok || m.Len() != 1 {
		return invalid(field, "must be a string or a hash with one key naming a file generator (%s)", strings.Join(generatorNames, ", "))
	}
	kind := m.Keys()[0]
	arg, _ := m.Get(kind)
	field += "." + kind
	switch kind {
	case "base64":
		s, ok := arg.(string)
		if !ok {
			return invalid(field, "must be a base64 string, got %s", value.TypeName(arg))
		}
		if _, err := decodeBase64(s); err != nil {
			return invalid(field, "is not valid base64: %v", err)
		}
	case "url":
		s, ok := arg.(string)
		if !ok {
			return invalid(field, "must be a URL string, got %s", value.TypeName(arg))
		}
		ls := strings.ToLower(s)
		if !strings.HasPrefix(ls, "http://") && !strings.HasPrefix(ls, "https://") {
			return invalid(field, "must start with http:// or https://")
		}
	case "pdf":
		pm, ok := arg.(*value.Map)
		if !ok {
			return invalid(field, "must be a hash of PDF options, got %s", value.TypeName(arg))
		}
		if h, ok := pm.Get("html"); !ok {
			return invalid(field+".html", "is required")
		} else if _, ok := h.(string); !ok {
			return invalid(field+".html", "must be a string, got %s", value.TypeName(h))
		}
	case "zip":
		zm, ok := arg.(*value.Map)
		if !ok {
			return invalid(field, "must be a hash with a files option, got %s", value.TypeName(arg))
		}
		fv, ok := zm.Get("files")
		inner, isMap := fv.(*value.Map)
		if !ok || !isMap {
			return invalid(field+".files", "is required: a hash of filenames to file generators")
		}
		if pw, ok := zm.Get("password"); ok && pw != nil {
			if _, ok := pw.(string); !ok {
				return invalid(field+".password", "must be a string, got %s", value.TypeName(pw))
			}
		}
		return checkFileGenerators(field+".files", inner, depth+1)
	default:
		return invalid(field, "unknown file generator %q; use one of %s, or a string", kind, strings.Join(generatorNames, ", "))
	}
	return nil
}

// decodeBase64 decodes standard or URL-safe base64, padded or not,
// ignoring line breaks and spaces.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// fetcher downloads a URL for the url file generator.
type fetcher interface {
	fetch(ctx context.Context, rawURL string, limit int64) ([]byte, string, error)
}

// builtinGenerator implements the plaintext, base64, url and zip file
// generators. pdf needs a rendering service and is not built in; zip
// passwords are not supported.
type builtinGenerator struct {
	fetch fetcher
}

// Generate implements FileGenerator.
func (g builtinGenerator) Generate(ctx context.Context, filename string, spec any) (File, error) {
	return g.generate(ctx, optFiles+"."+filename, filename, spec, 0)
}

func (g builtinGenerator) generate(ctx context.Context, field, filename string, spec any, depth int) (File, error) {
	if err := checkFileGenerator(field, filename, spec, depth); err != nil {
		return File{}, err
	}
	f := File{Name: filename}
	if s, ok := spec.(string); ok {
		f.Data = []byte(s)
		return f, checkFileSize(field, f)
	}
	m := spec.(*value.Map)
	kind := m.Keys()[0]
	arg, _ := m.Get(kind)
	field += "." + kind
	switch kind {
	case "base64":
		b, err := decodeBase64(arg.(string))
		if err != nil {
			return File{}, invalid(field, "is not valid base64: %v", err)
		}
		f.Data = b
	case "url":
		if g.fetch == nil {
			return File{}, action.Failed(fmt.Errorf("%s: the url file generator is not available", field))
		}
		b, ct, err := g.fetch.fetch(ctx, arg.(string), MaxFileBytes)
		if err != nil {
			return File{}, fmt.Errorf("%s: %w", field, err)
		}
		f.Data, f.ContentType = b, ct
	case "zip":
		zm := arg.(*value.Map)
		if pw, _ := zm.Get("password"); pw != nil && pw != "" {
			return File{}, action.Failed(fmt.Errorf("%s.password: password-protected zip files are not supported", field))
		}
		fv, _ := zm.Get("files")
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		var err error
		fv.(*value.Map).Each(func(name string, inner any) bool {
			var in File
			in, err = g.generate(ctx, field+".files."+name, name, inner, depth+1)
			if err != nil {
				return false
			}
			var w interface{ Write([]byte) (int, error) }
			w, err = zw.Create(name)
			if err == nil {
				_, err = w.Write(in.Data)
			}
			if err == nil && buf.Len() > MaxFileBytes {
				err = action.Failed(fmt.Errorf("%s: zip file exceeds %d bytes", field, MaxFileBytes))
			}
			return err == nil
		})
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			return File{}, fmt.Errorf("generate zip: %w", err)
		}
		f.Data, f.ContentType = buf.Bytes(), "application/zip"
	default: // pdf
		return File{}, action.Failed(fmt.Errorf("%s: the %s file generator is not available on this server", field, kind))
	}
	return f, checkFileSize(field, f)
}

func checkFileSize(field string, f File) error {
	if len(f.Data) > MaxFileBytes {
		return action.Failed(fmt.Errorf("%s: generated file is %d bytes, more than the limit of %d", field, len(f.Data), MaxFileBytes))
	}
	return nil
}

// fileContentType is the media type of a multipart file part.
func fileContentType(f File) string {
	if f.ContentType != "" {
		return f.ContentType
	}
	switch strings.ToLower(path.Ext(f.Name)) {
	case ".txt":
		return "text/plain"
	case ".csv":
		return "text/csv"
	case ".json":
		return "application/json"
	case ".jsonl":
		return "text/jsonl"
	case ".zip":
		return "application/zip"
	case ".pdf":
		return "application/pdf"
	}
	if t := mime.TypeByExtension(path.Ext(f.Name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Files returns the file generator the performer uses for the files
// option, so that other actions (email attachments) can share it.
func (p *Performer) Files() FileGenerator { return p.files }
