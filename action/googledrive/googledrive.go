// Package googledrive implements the google_drive action: it uploads
// files, given as text or made by file generators, to a connected Google
// account's Drive, creating the folders of their paths.
//
// Options: account (the connected Google account) and uploads, a hash of
// paths ("reports/2024/sales.csv"; folders are created as needed; the
// characters < > : " \ | ? * are refused) to contents (a string or a file
// generator such as {"zip": {...}}), plus overwrite (default false): when
// true, a file of the same name in the same folder is replaced. The result
// is {"uploads": {path: {"id", "name", "mime_type", "web_view_link",
// "path"}}}.
package googledrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/action/internal/gapi"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type.
const Type = "google_drive"

// MaxUploads bounds the files of one action.
const MaxUploads = 100

// Files generates the files of uploads (the http action's file generators).
type Files interface {
	Generate(ctx context.Context, filename string, spec any) (actionhttp.File, error)
}

// Config configures the action.
type Config struct {
	// Tokens supplies the connected accounts' tokens.
	Tokens apicall.Tokens
	// Files generates files from file generator specs.
	Files Files
	// DriveBaseURL overrides the Drive API base (tests).
	DriveBaseURL string
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// Performer performs google_drive actions.
type Performer struct {
	g     *gapi.Client
	files Files
}

// New returns the google_drive action's performer.
func New(cfg Config) *Performer {
	return &Performer{g: gapi.NewClient(Type, cfg.Tokens, cfg.HTTP, cfg.DriveBaseURL, "", 0), files: cfg.Files}
}

type upload struct {
	path string
	spec any
}

type opts struct {
	account   string
	overwrite bool
	uploads   []upload
}

func invalid(field, format string, args ...any) error {
	return action.Invalid(Type, field, format, args...)
}

// Validate implements action.Validator.
func (p *Performer) Validate(raw any) error {
	_, err := parse(raw)
	return err
}

func parse(raw any) (*opts, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash with account and uploads, got %s", value.TypeName(raw))
	}
	o := &opts{}
	av, _ := m.Get("account")
	o.account, _ = av.(string)
	if o.account == "" {
		return nil, invalid("account", "is required (the connected Google account)")
	}
	uv, _ := m.Get("uploads")
	um, ok := uv.(*value.Map)
	if !ok {
		return nil, invalid("uploads", "is required: a hash of file paths to contents, got %s", value.TypeName(uv))
	}
	var err error
	um.Each(func(k string, v any) bool {
		if k == "overwrite" {
			b, ok := v.(bool)
			if !ok && v != nil {
				err = invalid("uploads.overwrite", "must be a boolean, got %s", value.TypeName(v))
				return false
			}
			o.overwrite = b
			return true
		}
		if _, _, perr := gapi.SplitPath(k); perr != nil {
			err = invalid("uploads."+k, "%v", perr)
			return false
		}
		switch v.(type) {
		case string, *value.Map:
		default:
			err = invalid("uploads."+k, "must be a string or a file generator hash, got %s", value.TypeName(v))
			return false
		}
		o.uploads = append(o.uploads, upload{path: strings.Trim(k, "/"), spec: v})
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(o.uploads) == 0 {
		return nil, invalid("uploads", "names no files")
	}
	if len(o.uploads) > MaxUploads {
		return nil, invalid("uploads", "has %d files, more than the limit of %d", len(o.uploads), MaxUploads)
	}
	return o, nil
}

// Perform implements action.Performer.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	o, err := parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	if p.files == nil {
		return action.Result{}, action.Failed(fmt.Errorf("google_drive action: no file generators are configured"))
	}
	out := value.NewMap(len(o.uploads))
	for _, u := range o.uploads {
		folders, name, _ := gapi.SplitPath(u.path)
		f, err := p.files.Generate(ctx, name, u.spec)
		if err != nil {
			return partial(out, o.overwrite, fmt.Errorf("google_drive action: uploads.%s: %w", u.path, err))
		}
		folder, err := p.g.EnsureFolders(ctx, o.account, folders)
		if err != nil {
			return partial(out, o.overwrite, fmt.Errorf("google_drive action: uploads.%s: %w", u.path, err))
		}
		meta, err := p.upload(ctx, o, folder, name, f)
		if err != nil {
			return partial(out, o.overwrite, fmt.Errorf("google_drive action: uploads.%s: %w", u.path, err))
		}
		r := value.NewMap(5)
		r.Set("id", meta.ID)
		r.Set("name", meta.Name)
		r.Set("mime_type", meta.MimeType)
		r.Set("web_view_link", meta.WebViewLink)
		r.Set("path", strings.Join(folders, "/"))
		out.Set(u.path, r)
	}
	res := value.NewMap(1)
	res.Set("uploads", out)
	return action.Result{Value: res}, nil
}

// partial fails the run, keeping the uploads that were made. Once files
// were created, a retry would create them again, so the failure is
// permanent unless overwrite makes a retry replace them.
func partial(done *value.Map, overwrite bool, err error) (action.Result, error) {
	if done.Len() == 0 {
		return action.Result{}, err
	}
	if !overwrite {
		err = action.Failed(fmt.Errorf("%w (not retried: %d file(s) were already uploaded)", err, done.Len()))
	}
	res := value.NewMap(1)
	res.Set("uploads", done)
	return action.Result{}, action.WithResult(err, action.Result{Value: res})
}

func contentType(f actionhttp.File) string {
	if f.ContentType != "" {
		return f.ContentType
	}
	if t := mime.TypeByExtension(path.Ext(f.Name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

const fields = "id,name,mimeType,webViewLink"

func (p *Performer) upload(ctx context.Context, o *opts, folder, name string, f actionhttp.File) (gapi.File, error) {
	ct := contentType(f)
	var meta gapi.File
	if o.overwrite {
		existing, err := p.g.Find(ctx, o.account, folder, name, false)
		if err != nil {
			return meta, err
		}
		if existing != nil {
			_, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "PATCH",
				URL: p.g.DriveBase + "/upload/drive/v3/files/" + url.PathEscape(existing.ID) + "?uploadType=media&fields=" + fields,
				Raw: f.Data, ContentType: ct, Retry: true}, &meta)
			return meta, err
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mh := textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}}
	pw, _ := mw.CreatePart(mh)
	mj, _ := json.Marshal(map[string]any{"name": name, "parents": []string{folder}, "mimeType": ct})
	_, _ = pw.Write(mj)
	pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}})
	_, _ = pw.Write(f.Data)
	_ = mw.Close()
	_, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "POST",
		URL: p.g.DriveBase + "/upload/drive/v3/files?uploadType=multipart&fields=" + fields,
		Raw: body.Bytes(), ContentType: "multipart/related; boundary=" + mw.Boundary()}, &meta)
	return meta, err
}
