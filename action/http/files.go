package http

import (
	"context"

	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// MaxFileBytes is the largest file a file generator may produce (20 MB, as
// Mechanic documents in core/actions/file-generators/README.md).
const MaxFileBytes = filegen.MaxFileBytes

// File is a generated file, ready to be uploaded.
type File = filegen.File

// FileGenerator produces the file described by a file generator spec: a
// string (plaintext) or a one-key hash such as {"base64": "..."},
// {"url": "https://..."}, {"zip": {"files": {...}}} or {"pdf": {...}}.
// Errors should be classified with package action (Transient for network
// failures, a *ValidationError for bad specs). filegen.Scoped implements it.
type FileGenerator interface {
	Generate(ctx context.Context, filename string, spec any) (File, error)
}

// checkFileGenerators checks the shape of a hash of filenames to file
// generators, so bad specs fail when the task run is validated.
func checkFileGenerators(field string, files *value.Map) error {
	return filegen.CheckAll(Type, field, files)
}

// fileContentType is the media type of a multipart file part.
func fileContentType(f File) string {
	return filegen.ContentType(f)
}

// Files returns the file generator the performer uses for the files
// option, so that other actions (email attachments) can share it.
func (p *Performer) Files() FileGenerator { return p.files }
