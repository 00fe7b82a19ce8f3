// Package filegen implements Mechanic's file generators, shared by every
// action that produces files (email attachments, files, ftp uploads, http
// multipart uploads; docs: core/actions/file-generators/).
//
// A file generator spec is either a string (the plaintext generator: the
// file holds the string) or a hash with exactly one key naming a generator:
//
//	{"base64": "aGVsbG8="}                         decoded bytes
//	{"url": "https://example.com/logo.png"}        the downloaded body
//	{"zip": {"files": {...}, "password": "pw"}}    a ZIP of nested generators
//	{"pdf": {"html": "<h1>Hi</h1>", ...}}          HTML rendered as PDF
//
// Every generated file is limited to MaxFileBytes (20 MB). Bad specs are
// *action.ValidationError values naming the option path; download and
// rendering failures keep the kind package action gives them (transient
// for network trouble, failed otherwise).
//
// Generators holds the parts that need outside services (a Fetcher for url,
// a PDFRenderer for pdf); Check validates specs without any of them, so a
// task run can be rejected before anything is generated.
package filegen

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// MaxFileBytes is the largest file a generator may produce (20 MB, as
// core/actions/file-generators/README.md documents).
const MaxFileBytes = 20 << 20

// MaxZipDepth bounds how deeply zip generators may nest.
const MaxZipDepth = 8

// Names are the documented generator names usable as hash keys
// (plaintext is implicit: a string).
var Names = []string{"base64", "pdf", "url", "zip"}

// File is a generated file.
type File struct {
	// Name is the file name, e.g. "report.csv".
	Name string
	// ContentType is its media type; empty means derive it from Name
	// (see ContentType).
	ContentType string
	// Data is the file's content.
	Data []byte
}

// Fetcher downloads the body of an http or https URL for the url generator,
// reading at most limit bytes (more is an error), with its own timeout.
// Errors should be classified with package action.
type Fetcher interface {
	Fetch(ctx context.Context, rawURL string, limit int64) (data []byte, contentType string, err error)
}

// PDFRenderer renders the pdf generator's parsed options as a PDF document.
// Errors should be classified with package action.
type PDFRenderer interface {
	RenderPDF(ctx context.Context, o *PDFOptions) ([]byte, error)
}

// Generators generates files from specs. Its zero value supports plaintext,
// base64 and zip; url needs Fetcher and pdf needs PDF. It is safe for
// concurrent use when its parts are.
type Generators struct {
	// Fetcher serves the url generator; nil makes it fail with a clear error.
	Fetcher Fetcher
	// PDF serves the pdf generator; nil makes it fail with a clear error.
	PDF PDFRenderer
}

// Generate produces the file described by spec, named filename; errors name
// the option as filename. Use For to name errors after an action's option.
func (g *Generators) Generate(ctx context.Context, filename string, spec any) (File, error) {
	return g.GenerateField(ctx, "", filename, filename, spec)
}

// GenerateContent is Generate returning the content and its media type
// (never empty: derived from the filename when the generator gives none).
func (g *Generators) GenerateContent(ctx context.Context, filename string, spec any) ([]byte, string, error) {
	f, err := g.Generate(ctx, filename, spec)
	if err != nil {
		return nil, "", err
	}
	return f.Data, ContentType(f), nil
}

// GenerateField produces the file described by spec for action type typ,
// naming the option field (e.g. "attachments.invoice.pdf") in errors.
func (g *Generators) GenerateField(ctx context.Context, typ, field, filename string, spec any) (File, error) {
	if g == nil {
		g = &Generators{}
	}
	return g.generate(ctx, typ, field, filename, spec, 0)
}

// For returns g as a generator whose errors name action type typ and the
// option holding the filenames (e.g. For("http", "files")).
func (g *Generators) For(typ, option string) Scoped {
	return Scoped{g: g, typ: typ, option: option}
}

// Scoped is a Generators bound to an action type and option name, see For.
type Scoped struct {
	g      *Generators
	typ    string
	option string
}

// Generate produces the file named filename from spec; errors name the
// option as option.filename.
func (s Scoped) Generate(ctx context.Context, filename string, spec any) (File, error) {
	field := filename
	if s.option != "" {
		field = s.option + "." + filename
	}
	return s.g.GenerateField(ctx, s.typ, field, filename, spec)
}

// GenerateAll generates each file of a hash of filenames to specs, in
// order, failing at the first error.
func (s Scoped) GenerateAll(ctx context.Context, files *value.Map) ([]File, error) {
	out := make([]File, 0, files.Len())
	var err error
	files.Each(func(name string, spec any) bool {
		var f File
		f, err = s.Generate(ctx, name, spec)
		out = append(out, f)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckAll validates a hash of filenames to generator specs for action
// type typ, naming fields below option (e.g. "files").
func CheckAll(typ, option string, files *value.Map) error {
	return checkAll(typ, option, files, 0)
}

// Check validates one generator spec for action type typ; field names it
// in errors.
func Check(typ, field, filename string, spec any) error {
	return check(typ, field, filename, spec, 0)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func checkAll(typ, field string, files *value.Map, depth int) error {
	if depth > MaxZipDepth {
		return action.Invalid(typ, field, "zip files are nested more than %d levels deep", MaxZipDepth)
	}
	var err error
	files.Each(func(name string, spec any) bool {
		err = check(typ, join(field, name), name, spec, depth)
		return err == nil
	})
	return err
}

func check(typ, field, name string, spec any, depth int) error {
	if name == "" || strings.ContainsAny(name, "\x00\r\n") {
		return action.Invalid(typ, field, "is not a valid filename")
	}
	if _, ok := spec.(string); ok {
		return nil // plaintext
	}
	m, ok := spec.(*value.Map)
	if !ok || m.Len() != 1 {
		return action.Invalid(typ, field, "must be a string or a hash with one key naming a file generator (%s)", strings.Join(Names, ", "))
	}
	kind := m.Keys()[0]
	arg, _ := m.Get(kind)
	field += "." + kind
	switch kind {
	case "base64":
		s, ok := arg.(string)
		if !ok {
			return action.Invalid(typ, field, "must be a base64 string, got %s", value.TypeName(arg))
		}
		if _, err := DecodeBase64(s); err != nil {
			return action.Invalid(typ, field, "is not valid base64: %v", err)
		}
	case "url":
		s, ok := arg.(string)
		if !ok {
			return action.Invalid(typ, field, "must be a URL string, got %s", value.TypeName(arg))
		}
		ls := strings.ToLower(strings.TrimSpace(s))
		if !strings.HasPrefix(ls, "http://") && !strings.HasPrefix(ls, "https://") {
			return action.Invalid(typ, field, "must start with http:// or https://")
		}
	case "pdf":
		pm, ok := arg.(*value.Map)
		if !ok {
			return action.Invalid(typ, field, "must be a hash of PDF options, got %s", value.TypeName(arg))
		}
		if _, err := ParsePDFOptions(typ, field, pm); err != nil {
			return err
		}
	case "zip":
		zm, ok := arg.(*value.Map)
		if !ok {
			return action.Invalid(typ, field, "must be a hash with a files option, got %s", value.TypeName(arg))
		}
		fv, ok := zm.Get("files")
		inner, isMap := fv.(*value.Map)
		if !ok || !isMap {
			return action.Invalid(typ, field+".files", "is required: a hash of filenames to file generators")
		}
		if pw, ok := zm.Get("password"); ok && pw != nil {
			if _, ok := pw.(string); !ok {
				return action.Invalid(typ, field+".password", "must be a string, got %s", value.TypeName(pw))
			}
		}
		return checkAll(typ, field+".files", inner, depth+1)
	default:
		return action.Invalid(typ, field, "unknown file generator %q; use one of %s, or a string", kind, strings.Join(Names, ", "))
	}
	return nil
}

// DecodeBase64 decodes standard or URL-safe base64, padded or not,
// ignoring line breaks and spaces.
func DecodeBase64(s string) ([]byte, error) {
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

func (g *Generators) generate(ctx context.Context, typ, field, filename string, spec any, depth int) (File, error) {
	if err := check(typ, field, filename, spec, depth); err != nil {
		return File{}, err
	}
	if err := ctx.Err(); err != nil {
		return File{}, fmt.Errorf("%s: %w", field, err)
	}
	f := File{Name: filename}
	if s, ok := spec.(string); ok {
		f.Data = []byte(s)
		return f, checkSize(field, f)
	}
	m := spec.(*value.Map)
	kind := m.Keys()[0]
	arg, _ := m.Get(kind)
	field += "." + kind
	switch kind {
	case "base64":
		b, err := DecodeBase64(arg.(string))
		if err != nil {
			return File{}, action.Invalid(typ, field, "is not valid base64: %v", err)
		}
		f.Data = b
	case "url":
		if g.Fetcher == nil {
			return File{}, action.Failed(fmt.Errorf("%s: the url file generator is not available", field))
		}
		b, ct, err := g.Fetcher.Fetch(ctx, strings.TrimSpace(arg.(string)), MaxFileBytes)
		if err != nil {
			return File{}, fmt.Errorf("%s: %w", field, err)
		}
		f.Data, f.ContentType = b, ct
	case "pdf":
		if g.PDF == nil {
			return File{}, action.Failed(fmt.Errorf("%s: the pdf file generator is not available on this server", field))
		}
		o, err := ParsePDFOptions(typ, field, arg.(*value.Map))
		if err != nil {
			return File{}, err
		}
		b, err := g.PDF.RenderPDF(ctx, o)
		if err != nil {
			return File{}, fmt.Errorf("%s: %w", field, err)
		}
		f.Data, f.ContentType = b, "application/pdf"
	case "zip":
		b, err := g.zip(ctx, typ, field, arg.(*value.Map), depth)
		if err != nil {
			return File{}, err
		}
		f.Data, f.ContentType = b, "application/zip"
	}
	return f, checkSize(field, f)
}

func (g *Generators) zip(ctx context.Context, typ, field string, zm *value.Map, depth int) ([]byte, error) {
	password := ""
	if pw, _ := zm.Get("password"); pw != nil {
		password = pw.(string)
	}
	fv, _ := zm.Get("files")
	var buf bytes.Buffer
	zw := newZipWriter(&buf, password)
	var err error
	fv.(*value.Map).Each(func(name string, inner any) bool {
		var in File
		in, err = g.generate(ctx, typ, field+".files."+name, name, inner, depth+1)
		if err != nil {
			return false
		}
		if err = zw.add(name, in.Data); err != nil {
			err = fmt.Errorf("%s.files.%s: add to zip: %w", field, name, err)
			return false
		}
		if buf.Len() > MaxFileBytes {
			err = action.Failed(fmt.Errorf("%s: zip file exceeds the limit of %d bytes", field, MaxFileBytes))
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if err := zw.close(); err != nil {
		return nil, fmt.Errorf("%s: finish zip: %w", field, err)
	}
	return buf.Bytes(), nil
}

// errTooLarge marks a generated file over MaxFileBytes.
var errTooLarge = errors.New("file too large")

func checkSize(field string, f File) error {
	if len(f.Data) > MaxFileBytes {
		return action.Failed(fmt.Errorf("%s: generated file is %d bytes, more than the limit of %d: %w", field, len(f.Data), MaxFileBytes, errTooLarge))
	}
	return nil
}

// ContentType is the media type of f: its ContentType when set, otherwise
// derived from its name's extension (application/octet-stream when
// unknown).
func ContentType(f File) string {
	if f.ContentType != "" {
		return f.ContentType
	}
	return TypeByName(f.Name)
}

// TypeByName derives a media type from a file name's extension.
func TypeByName(name string) string {
	switch strings.ToLower(path.Ext(name)) {
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
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
